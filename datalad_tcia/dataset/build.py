"""Build and update a patient dataset from the metadata deposit.

No file content is needed: every DICOM file becomes an annexed file whose
``MD5E`` key comes from the deposited MD5 and size, with three sources
registered in the git-annex branch (archive member via ``archivist``,
archive via ``uncurl`` under a ``VURL`` key, single file via ``uncurl``)
and per-file git-annex metadata. Both branches are written by one
``git fast-import`` run, so registration costs no process per file.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalad_tcia.gitcmd import (
    GitError,
    cat_blobs,
    current_branch,
    git,
    rev_parse,
    rev_parse_many,
)

from .annexbranch import (
    hashdirlower,
    merge_location_log,
    merge_url_log,
    metadata_line,
)
from .keys import object_path
from .naming import LAYOUT_CONFIG as LAYOUT_KEY
from .repository import ARCHIVIST, BRANCH, UNCURL, NewRepository, read_config

lgr = logging.getLogger('datalad.tcia.dataset.build')


@dataclass(frozen=True)
class AnnexedFile:
    """One file of a dataset, as registered.

    Attributes
    ----------
    path: str
      Relative POSIX path in the dataset.
    key: str
      Its git-annex key.
    urls: tuple of str
      Source URLs (each claimed by ``archivist`` or ``uncurl``).
    remotes: tuple of str
      Names of the special remotes that can provide it.
    metadata: mapping
      git-annex metadata fields -> values.
    """

    path: str
    key: str
    urls: tuple[str, ...]
    remotes: tuple[str, ...]
    metadata: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceOnlyKey:
    """A key with sources but no file in the tree (a series archive)."""

    key: str
    urls: tuple[str, ...]
    remotes: tuple[str, ...]


@dataclass
class UpdateResult:
    """What :func:`update_dataset` changed."""

    added: int = 0
    changed: int = 0
    commit: str | None = None


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()  # noqa: S324


def _tree(repo: Path, ref: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob sha) of ``ref``."""
    out = {}
    for entry in git(repo, 'ls-tree', '-r', '-z', ref).split(b'\0'):
        if not entry:
            continue
        meta, _, path = entry.partition(b'\t')
        mode, _type, sha = meta.decode().split()
        out[path.decode('utf-8', 'surrogateescape')] = (mode, sha)
    return out


def _read_blobs(repo: Path, ref: str, paths: Sequence[str]) -> dict[str, str]:
    """Contents of ``paths`` in ``ref`` (missing ones are left out)."""
    blobs = cat_blobs(repo, [f'{ref}:{p}' for p in paths])
    return {
        p: blobs[f'{ref}:{p}'].decode('utf-8', 'replace')
        for p in paths
        if f'{ref}:{p}' in blobs
    }


def _data(payload: bytes) -> bytes:
    return b'data %d\n%s\n' % (len(payload), payload)


def update_dataset(
    path: Path,
    files: Sequence[AnnexedFile],
    source_keys: Sequence[SourceOnlyKey],
    git_files: Mapping[str, bytes],
    message: str,
    *,
    new: NewRepository | None = None,
    template: str | None = None,
) -> UpdateResult:
    """Make the dataset at ``path`` hold ``files`` and ``git_files``.

    Files whose path and key are already committed are left alone; new
    paths are added and paths with another key become a new version. Both
    the main branch and the git-annex branch get one commit each, or none
    if nothing changed. ``new`` is a repository fresh from
    :func:`init_repository`, whose first commits are written in the same
    ``git fast-import``. ``template`` is recorded as the layout of the
    files (``datalad-tcia.layout``) where it differs.
    """
    head: str | None
    annex_tip: str | None
    if new is None:
        config = read_config(path)
        missing = [
            n for n in (UNCURL, ARCHIVIST) if f'remote.{n}.annex-uuid' not in config
        ]
        if missing:
            msg = (
                f'{path} lacks the special remote(s) {", ".join(missing)}: '
                'remove this working copy and its deposit, then run again'
            )
            raise GitError(msg)
        uuids = {n: config[f'remote.{n}.annex-uuid'] for n in (UNCURL, ARCHIVIST)}
        if template is not None and config.get(LAYOUT_KEY) != template:
            git(path, 'config', LAYOUT_KEY, template)
        _restore_worktree(path)
        current = _tree(path, 'HEAD')
        head, annex_tip = rev_parse_many(path, 'HEAD', 'refs/heads/git-annex')
    else:
        uuids = dict(new.remote_uuids)
        current = {}
        head = annex_tip = None
    result = UpdateResult()
    main_cmds: list[bytes] = []
    touched: list[AnnexedFile] = []
    for f in files:
        depth = f.path.count('/')
        target = ('../' * depth + object_path(f.key)).encode()
        old = current.get(f.path)
        if old == ('120000', _blob_sha(target)):
            continue
        if old is None:
            result.added += 1
        else:
            result.changed += 1
        touched.append(f)
        main_cmds.append(f'M 120000 inline {f.path}\n'.encode() + _data(target))
    for name, content in sorted(git_files.items()):
        if current.get(name) != ('100644', _blob_sha(content)):
            main_cmds.append(f'M 100644 inline {name}\n'.encode() + _data(content))
    if not main_cmds and new is None:
        return result

    now = int(time.time())
    logs = _annex_logs(path, touched, source_keys, uuids, now, annex_tip)
    ident = git(path, 'var', 'GIT_COMMITTER_IDENT').decode().strip()
    stream = bytearray()
    stream += b'commit refs/heads/git-annex\n'
    stream += f'committer {ident}\n'.encode()
    stream += _data(b'update (datalad-tcia)')
    if annex_tip:
        stream += f'from {annex_tip}\n'.encode()
    else:
        assert new is not None
        logs.update(new.annex_logs(now))
    for lpath, text in sorted(logs.items()):
        stream += f'M 100644 inline {lpath}\n'.encode() + _data(text.encode())
    stream += b'\n'
    if new is not None:
        stream += f'commit refs/heads/{BRANCH}\n'.encode()
        stream += f'committer {ident}\n'.encode()
        stream += _data(b'[DATALAD] new dataset')
        for name, content in new.files().items():
            stream += f'M 100644 inline {name}\n'.encode() + _data(content)
        stream += b'\n'
    stream += f'commit refs/heads/{BRANCH if new else current_branch(path)}\n'.encode()
    stream += f'committer {ident}\n'.encode()
    stream += _data(message.encode())
    if head:
        stream += f'from {head}\n'.encode()
    for cmd in main_cmds:
        stream += cmd
    stream += b'\n'
    git(path, 'fast-import', '--quiet', input=bytes(stream))
    # bring index and work tree to the new commit (symlinks only: fast)
    git(path, 'reset', '--hard', '--quiet', 'HEAD')
    result.commit = rev_parse(path, 'HEAD')
    return result


def _restore_worktree(path: Path) -> None:
    """Bring a working copy left behind by an interrupted run (killed
    between ``fast-import`` and ``reset``) back to its commit."""
    try:
        git(path, 'diff', '--quiet', 'HEAD', '--')
    except GitError:
        lgr.debug('resetting interrupted working copy %s', path)
        git(path, 'reset', '--hard', '--quiet', 'HEAD')


def _annex_logs(
    path: Path,
    files: Sequence[AnnexedFile],
    source_keys: Sequence[SourceOnlyKey],
    uuids: Mapping[str, str],
    now: int,
    annex_tip: str | None,
) -> dict[str, str]:
    entries: list[tuple[str, tuple[str, ...], tuple[str, ...], Mapping[str, Any]]] = [
        (f.key, f.urls, f.remotes, f.metadata) for f in files
    ]
    entries += [(s.key, s.urls, s.remotes, {}) for s in source_keys]
    wanted = []
    for key, _urls, _remotes, meta in entries:
        base = hashdirlower(key) + key
        wanted += [base + '.log', base + '.log.web']
        if meta:
            wanted.append(base + '.log.met')
    old = _read_blobs(path, annex_tip, wanted) if annex_tip else {}
    logs: dict[str, str] = {}
    for key, urls, remotes, meta in entries:
        base = hashdirlower(key) + key
        loc = base + '.log'
        web = base + '.log.web'
        logs[loc] = merge_location_log(
            logs.get(loc, old.get(loc, '')), now, [uuids[r] for r in remotes]
        )
        logs[web] = merge_url_log(logs.get(web, old.get(web, '')), now, urls)
        if meta:
            met = base + '.log.met'
            line = metadata_line(now, meta)
            before = logs.get(met, old.get(met, ''))
            # an identical assignment (but for its time) is not repeated
            if line.split(' ', 1)[1] not in {
                ln.split(' ', 1)[1] + '\n' for ln in before.splitlines() if ' ' in ln
            }:
                logs[met] = before + line
    # unchanged logs need no rewrite
    return {p: c for p, c in logs.items() if old.get(p) != c}
