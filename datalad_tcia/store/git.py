"""git and git-annex calls, in one place.

Datasets are assembled with plumbing (``fast-import``, ``cat-file
--batch``, ``annex examinekey --batch``) whose input and output are bytes,
so this runner speaks bytes (datalad-next's ``call_git*`` speak text
lines); every failure is a :class:`GitError`, a datalad ``CommandError``
that carries the command, its exit code, git's stderr and the working
directory, and says in one line what failed.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datalad.runner.exception import CommandError

lgr = logging.getLogger('datalad.tcia.store.git')


class GitError(CommandError):
    """A git or git-annex command failed, or gave what cannot be used.

    Like datalad's ``CommandError`` (whose handlers catch it) it carries
    ``cmd``, ``code``, ``stderr`` and ``cwd`` where a command ran; unlike
    it, ``str()`` is the one-line message alone, as result records show
    it.
    """

    def __init__(self, msg: str, **kwargs: Any) -> None:
        super().__init__(msg=msg, **kwargs)

    def __str__(self) -> str:
        return self.msg


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:  # noqa: A002
    """Run ``git args`` in ``repo``; return stdout.

    Raises
    ------
    GitError
      On a non-zero exit, with git's message.
    """
    lgr.debug('git %s in %s', args[:3], repo)
    proc = subprocess.run(
        ['git', *args],
        cwd=repo,
        input=input,
        capture_output=True,
        check=False,
    )
    if proc.returncode:
        stderr = proc.stderr.decode(errors='replace').strip()
        msg = f'git {" ".join(args[:3])} failed in {repo}: {stderr}'
        raise GitError(
            msg,
            cmd=['git', *args],
            code=proc.returncode,
            stderr=stderr,
            cwd=str(repo),
        )
    return proc.stdout


def git_unchecked(repo: Path, *args: str) -> tuple[int, bytes, bytes]:
    """Run ``git args`` in ``repo``; exit code, stdout and stderr (for
    commands whose output says what failed, e.g. ``annex get --json``)."""
    lgr.debug('git %s in %s', args[:3], repo)
    proc = subprocess.run(['git', *args], cwd=repo, capture_output=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def git_line(repo: Path, *args: str) -> str:
    """The first line of ``git args``' output, stripped."""
    return git(repo, *args).decode().strip()


def git_succeeds(repo: Path, *args: str) -> bool:
    """Whether ``git args`` exits with 0 (for ``--is-ancestor``, ``diff
    --quiet`` and the like)."""
    try:
        git(repo, *args)
    except GitError:
        return False
    return True


def rev_parse(repo: Path, ref: str) -> str:
    """The commit ``ref`` names."""
    return git_line(repo, 'rev-parse', ref)


def rev_parse_many(repo: Path, *refs: str) -> list[str]:
    """The commits ``refs`` name, with one process."""
    out = git(repo, 'rev-parse', *refs).decode().split()
    if len(out) != len(refs):
        msg = f'git rev-parse gave {len(out)} commits for {len(refs)} refs in {repo}'
        raise GitError(msg)
    return out


def cat_blobs(repo: Path, specs: Sequence[str]) -> dict[str, bytes]:
    """Contents of the objects ``specs`` name (``<sha>``, ``<ref>:<path>``)
    with one ``git cat-file --batch``; missing ones are left out."""
    if not specs:
        return {}
    out = git(
        repo, 'cat-file', '--batch', input=''.join(f'{s}\n' for s in specs).encode()
    )
    result = {}
    pos = 0
    for spec in specs:
        end = out.index(b'\n', pos)
        header = out[pos:end].decode()
        pos = end + 1
        if header.endswith(' missing'):
            continue
        size = int(header.split()[2])
        result[spec] = out[pos : pos + size]
        pos += size + 1
    return result


def tree_entries(repo: Path, ref: str) -> dict[str, tuple[str, str]]:
    """Every file of ``ref``'s tree, recursively: path -> (mode, blob
    sha), with one ``git ls-tree``."""
    out = {}
    for entry in git(repo, 'ls-tree', '-r', '-z', ref).split(b'\0'):
        if not entry:
            continue
        meta, _, path = entry.partition(b'\t')
        mode, _type, sha = meta.decode().split()
        out[path.decode('utf-8', 'surrogateescape')] = (mode, sha)
    return out


def text_blobs(repo: Path, ref: str, paths: Sequence[str]) -> dict[str, str]:
    """The text of the files ``paths`` in ``ref`` (missing ones are left
    out), with one ``git cat-file``."""
    blobs = cat_blobs(repo, [f'{ref}:{p}' for p in paths])
    return {
        p: blobs[f'{ref}:{p}'].decode('utf-8', 'replace')
        for p in paths
        if f'{ref}:{p}' in blobs
    }


def branch_files(repo: Path, ref: str, paths: Sequence[str]) -> dict[str, bytes]:
    """The content of the files ``paths`` in the tree of ``ref`` (missing
    ones left out), read in this process through libgit2 (pygit2): one
    dataset's worth in about 0.2 ms, where a ``git cat-file`` process costs
    1.5-2 ms of CPU, which across the 200 datasets of a clone is more than
    a second. Falls back to :func:`cat_blobs` where libgit2 cannot read
    the repository."""
    if not paths:
        return {}
    import pygit2  # 50 ms to import: only where it is used

    try:
        tree = pygit2.Repository(str(repo)).revparse_single(ref).peel(pygit2.Tree)
    except KeyError:
        return {}
    except (pygit2.GitError, ValueError) as e:
        lgr.debug('libgit2 cannot read %s (%s): git cat-file', repo, e)
        blobs = cat_blobs(repo, [f'{ref}:{p}' for p in paths])
        return {p: blobs[f'{ref}:{p}'] for p in paths if f'{ref}:{p}' in blobs}
    found = {}
    for path in paths:
        try:
            obj = tree[path]
        except KeyError:
            continue
        if isinstance(obj, pygit2.Blob):
            found[path] = obj.data
    return found


def tree_links(
    repo: Path, ref: str = 'HEAD', paths: Sequence[str] = ()
) -> tuple[str, dict[str, str], dict[str, bytes]] | None:
    """The commit ``ref`` names, the gitlinks (path -> commit) at the top of
    its tree and the content of the files ``paths`` there, read in this
    process through libgit2 (no git process: a superdataset's check costs
    about a millisecond); ``None`` if ``ref`` names nothing. Falls back to
    git where libgit2 cannot read the repository."""
    import pygit2

    try:
        commit = pygit2.Repository(str(repo)).revparse_single(ref).peel(pygit2.Commit)
    except KeyError:
        return None
    except (pygit2.GitError, ValueError) as e:
        lgr.debug('libgit2 cannot read %s (%s): git', repo, e)
        try:
            sha = rev_parse(repo, ref)
        except GitError:
            return None
        links = {}
        for entry in git(repo, 'ls-tree', '-z', sha).split(b'\0'):
            meta, _, name = entry.partition(b'\t')
            if meta.startswith(b'160000 '):
                key = name.decode('utf-8', 'surrogateescape')
                links[key] = meta.split()[2].decode()
        blobs = cat_blobs(repo, [f'{sha}:{p}' for p in paths])
        return sha, links, {p: b for p in paths if (b := blobs.get(f'{sha}:{p}'))}
    links = {
        entry.name: str(entry.id)
        for entry in commit.tree
        if entry.filemode == pygit2.enums.FileMode.COMMIT and entry.name
    }
    found = {}
    for path in paths:
        try:
            obj = commit.tree[path]
        except KeyError:
            continue
        if isinstance(obj, pygit2.Blob):
            found[path] = obj.data
    return str(commit.id), links, found


def current_branch(repo: Path) -> str:
    """The branch checked out in ``repo``."""
    return git_line(repo, 'symbolic-ref', '--short', 'HEAD')


def dataset_id(repo: Path) -> str:
    """The DataLad dataset ID recorded in ``.datalad/config``."""
    return git_line(repo, 'config', '-f', '.datalad/config', 'datalad.dataset.id')


def clone_probe(url: str, workdir: Path) -> str | None:
    """Clone ``url`` into ``workdir/probe``; git's error, or ``None``.

    ``workdir`` must not lie inside a git repository: datalad-next's
    ``datalad-annex::`` helper acts on the repository of the directory it
    runs in.
    """
    try:
        git(workdir, 'clone', '--quiet', url, 'probe')
    except GitError as e:
        return str(e)
    return None
