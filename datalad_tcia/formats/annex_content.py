"""A key's content in a repository, made present as ``git annex get``
makes it: the object under ``.git/annex/objects`` with git-annex's
permissions, and a location log line saying "here" in git-annex's journal.

git-annex downloads into ``.git/annex/tmp/<key>``, checks the content
against the key, moves it to ``.git/annex/objects/<xx>/<yy>/<key>/<key>``,
removes the write bits of the file and of its key directory
(``freezeContent``, ``freezeContentDir``) and records the change in the
journal (``.git/annex/journal/``, one file per branch file holding its
whole new content, written under ``.git/annex/journal.lck``), from where
its next command commits it to the git-annex branch. The same steps are
taken here; ``tests/formats/test_formats.py`` checks the result with
``git annex fsck``, ``whereis``, ``drop`` and ``get``.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .annex_branch import hashdirlower, journal_name, merge_location_log
from .annex_keys import object_path

#: what git-annex clears on frozen content (``freezeContent``)
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def git_dir(repo: Path) -> Path:
    """The git directory of a working tree (``.git``, or where a ``.git``
    file points)."""
    dotgit = repo / '.git'
    if dotgit.is_file():
        target = dotgit.read_text().strip().removeprefix('gitdir:').strip()
        return (repo / target).resolve()
    return dotgit


def annex_uuid(repo: Path) -> str | None:
    """The repository's git-annex UUID (``annex.uuid`` of ``.git/config``),
    read without a git process; ``None`` before ``git annex init``."""
    section = ''
    try:
        text = (git_dir(repo) / 'config').read_text()
    except OSError:
        return None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith('['):
            section = line.strip('[]').strip().lower()
        elif section == 'annex' and line.replace(' ', '').startswith('uuid='):
            return line.split('=', 1)[1].strip() or None
    return None


def annex_dirs(gitdir: Path) -> None:
    """Make the directories of ``.git/annex`` that getting content writes
    to (``tmp``, ``journal``, ``othertmp``); once per repository and run,
    not once per file."""
    for name in ('tmp', 'journal', 'othertmp'):
        (gitdir / 'annex' / name).mkdir(parents=True, exist_ok=True)


def temporary_object(gitdir: Path, key: str) -> Path:
    """Where git-annex keeps a key's content while it arrives
    (``.git/annex/tmp/<key>``); never a final name."""
    return gitdir / 'annex' / 'tmp' / key


def object_file(gitdir: Path, key: str) -> Path:
    """Where a key's content lives in the repository."""
    return gitdir / object_path(key).removeprefix('.git/')


def freeze_object(path: Path | str) -> None:
    """Remove the write bits of ``path`` as git-annex does of content."""
    os.chmod(path, os.stat(path).st_mode & ~_WRITE_BITS)


def place_object(gitdir: Path, key: str, tmp: Path) -> Path:
    """Move verified content ``tmp`` to its object file, frozen.

    The rename is the last step: an object file exists only whole. An
    object already there is kept (and ``tmp`` removed).
    """
    final = object_file(gitdir, key)
    keydir = os.fspath(final.parent)
    try:
        os.mkdir(keydir)
    except FileNotFoundError:
        os.makedirs(keydir)
    except FileExistsError:
        if final.exists():
            tmp.unlink(missing_ok=True)
            return final
        # frozen by an earlier get and drop
        os.chmod(keydir, os.stat(keydir).st_mode | stat.S_IWUSR)
    freeze_object(tmp)
    os.replace(tmp, final)
    freeze_object(keydir)
    return final


def location_log_path(key: str) -> str:
    """The branch file of a key's location log."""
    return f'{hashdirlower(key)}{key}.log'


def url_log_path(key: str) -> str:
    """The branch file of a key's URL log."""
    return f'{hashdirlower(key)}{key}.log.web'


def journal_dir(gitdir: Path) -> Path:
    """git-annex's journal of branch changes not yet committed."""
    return gitdir / 'annex' / 'journal'


def journalled(gitdir: Path, branch_file: str) -> bytes | None:
    """The journal's content of ``branch_file`` (which supersedes the
    branch's), or ``None``."""
    try:
        return (journal_dir(gitdir) / journal_name(branch_file)).read_bytes()
    except FileNotFoundError:
        return None


@contextmanager
def journal_lock(gitdir: Path) -> Iterator[None]:
    """git-annex's journal lock (an fcntl write lock on
    ``.git/annex/journal.lck``, as ``lockJournal`` takes it)."""
    lockfile = gitdir / 'annex' / 'journal.lck'
    fd = os.open(lockfile, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def record_present(
    gitdir: Path, uuid: str, logs: Mapping[str, str], timestamp: int
) -> None:
    """Say in the journal that the repository (``uuid``) has the keys of
    ``logs`` (key -> its location log as read before).

    The journal's current content, if any, is what is merged with (another
    process may have written it since); each file is written whole under
    a temporary name and renamed, under git-annex's journal lock. The
    directories of :func:`annex_dirs` must exist.
    """
    journal = journal_dir(gitdir)
    othertmp = gitdir / 'annex' / 'othertmp'
    with journal_lock(gitdir):
        for key, branch_log in logs.items():
            name = location_log_path(key)
            current = journalled(gitdir, name)
            old = current.decode() if current is not None else branch_log
            new = merge_location_log(old, timestamp, [uuid])
            if new == old:
                continue
            target = journal / journal_name(name)
            # never a stray file in the journal: git-annex stages them all
            tmp = othertmp / f'{target.name}.{os.getpid()}'
            tmp.write_text(new)
            os.replace(tmp, target)
