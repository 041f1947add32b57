"""``git fast-import`` streams: commits written in one git process.

A dataset's new state (its symlinks, its git files, the git-annex
branch's logs) becomes one stream of commits that ``git fast-import``
writes in one run, instead of one ``git``/``git-annex`` process per file.
The format is git's own (``git help fast-import``): ``commit <ref>``,
``committer``, ``data <n>``, ``from <parent>``, then ``M <mode> inline
<path>`` with its data and ``D <path>``. ``tests/formats/test_fastimport.py``
checks what is written here against git itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datalad_tcia.store.git import git

#: a symlink's mode in a git tree (an annexed file)
SYMLINK = '120000'
#: a regular file's mode in a git tree
REGULAR = '100644'


def blob_sha(data: bytes) -> str:
    """The id git gives a blob of ``data``.

    >>> blob_sha(b'')
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()  # noqa: S324


def _data(payload: bytes) -> bytes:
    return b'data %d\n%s\n' % (len(payload), payload)


def put(path: str, content: bytes, mode: str = REGULAR) -> bytes:
    """A file (or, with ``mode=SYMLINK``, a symlink to ``content``) at
    ``path``."""
    return f'M {mode} inline {path}\n'.encode() + _data(content)


def delete(path: str) -> bytes:
    """``path`` removed."""
    return f'D {path}\n'.encode()


@dataclass(frozen=True)
class Commit:
    """One commit of a stream: ``changes`` (from :func:`put` and
    :func:`delete`) on top of ``parent`` (none: the branch's first
    commit, or the commit before it in the same stream)."""

    ref: str
    message: bytes
    changes: Sequence[bytes]
    parent: str | None = None


def stream(commits: Sequence[Commit], committer: str) -> bytes:
    """The stream that writes ``commits`` in order, each by ``committer``
    (``Name <email> <time> <tz>``, as ``git var GIT_COMMITTER_IDENT``
    gives it)."""
    out = bytearray()
    for c in commits:
        out += f'commit {c.ref}\ncommitter {committer}\n'.encode()
        out += _data(c.message)
        if c.parent:
            out += f'from {c.parent}\n'.encode()
        for change in c.changes:
            out += change
        out += b'\n'
    return bytes(out)


def fast_import(repo: Path, commits: Sequence[Commit]) -> None:
    """Write ``commits`` into ``repo`` with one ``git fast-import``,
    committed by the repository's own committer identity."""
    ident = git(repo, 'var', 'GIT_COMMITTER_IDENT').decode().strip()
    git(repo, 'fast-import', '--quiet', input=stream(commits, ident))
