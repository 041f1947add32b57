"""git-annex keys and where a repository keeps their content, computed
without git-annex (``tests/formats/test_formats.py`` checks each against
``git annex examinekey`` and ``calckey``)."""

from __future__ import annotations

import hashlib
from itertools import takewhile
from pathlib import PurePosixPath

from datalad_next.types.annexkey import AnnexKey

# git-annex defaults: annex.maxextensions=2, annex.maxextensionlength=4
MAX_EXTENSIONS = 2
MAX_EXTENSION_LENGTH = 4


def key_extension(filename: str) -> str:
    """The extension git-annex's ``*E`` backends keep for ``filename``.

    git-annex's rule (``Backend.Utilities``, checked with ``git annex
    calckey``): of the name's dot-separated parts after the first (a
    leading dot starts no extension), from the last backwards while a part
    is at most ``annex.maxextensionlength`` bytes; parts with ASCII other
    than letters and digits are left out; of those, the last
    ``annex.maxextensions``; empty ones are dropped.

    >>> key_extension('1-01.dcm'), key_extension('a.nii.gz'), key_extension('x')
    ('.dcm', '.nii.gz', '')
    >>> [key_extension(n) for n in ('a.b.x-y.c', 'a.b.c.', 'a.dcm.toolong')]
    ['.b.c', '.c', '']
    """
    parts = PurePosixPath(filename).name.lstrip('.').split('.')[1:]
    short = takewhile(
        lambda p: len(p.encode('utf-8', 'surrogateescape')) <= MAX_EXTENSION_LENGTH,
        reversed(parts),
    )
    valid = [p for p in short if all(_valid_in_extension(c) for c in p)]
    kept = [p for p in reversed(valid[:MAX_EXTENSIONS]) if p]
    return ''.join(f'.{p}' for p in kept)


def _valid_in_extension(char: str) -> bool:
    """Letters and digits, and anything beyond ASCII (git-annex's
    ``validInExtension``)."""
    return char.isalnum() or ord(char) > 127  # noqa: PLR2004


def md5e_key(size: int, md5: str, filename: str) -> AnnexKey:
    """The ``MD5E`` key of a file (its content need not be at hand).

    >>> str(md5e_key(3, 'a' * 32, 'x/1-1.dcm'))
    'MD5E-s3--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.dcm'
    """
    return AnnexKey(name=md5 + key_extension(filename), backend='MD5E', size=size)


#: the 32 letters of git-annex's mixed-case hash directories
_HASH_CHARS = '0123456789zqjxkmvwgpfZQJXKMVWGPF'


def hashdirmixed(key: str) -> str:
    """The two-level object directory git-annex gives ``key`` in a
    repository with symlinks (``annex/objects/<xx>/<yy>/``).

    The rule of git-annex's ``Annex.DirHashes.hashDirMixed``: the first
    32-bit word (little endian) of the MD5 of the key, five bits at a time
    as letters, in swapped pairs. Computing it here spares a
    ``git annex examinekey`` process per dataset.

    >>> hashdirmixed('MD5E-s0--cfcd208495d565ef66e7dff9f98764da.dcm')
    '0F/JM/'
    """
    word = int.from_bytes(hashlib.md5(key.encode()).digest()[:4], 'little')  # noqa: S324
    chars = [_HASH_CHARS[(word >> (6 * i)) & 31] for i in range(4)]
    return f'{chars[1]}{chars[0]}/{chars[3]}{chars[2]}/'


def object_path(key: str) -> str:
    """Where a locked file's symlink points, relative to the top of the
    repository (``.git/annex/objects/<xx>/<yy>/<key>/<key>``)."""
    return f'.git/annex/objects/{hashdirmixed(key)}{key}/{key}'
