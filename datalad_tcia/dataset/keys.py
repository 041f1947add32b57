"""git-annex keys and source URLs for the files of a dataset."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from datalad_next.types.annexkey import AnnexKey
from datalad_next.types.archivist import ArchivistLocator
from datalad_next.types.enums import ArchiveType

# git-annex defaults: annex.maxextensions=2, annex.maxextensionlength=4
MAX_EXTENSIONS = 2
MAX_EXTENSION_LENGTH = 4


def key_extension(filename: str) -> str:
    """The extension git-annex's ``*E`` backends keep for ``filename``.

    >>> key_extension('1-01.dcm'), key_extension('a.nii.gz'), key_extension('x')
    ('.dcm', '.nii.gz', '')
    """
    parts = PurePosixPath(filename).name.split('.')[1:]
    kept: list[str] = []
    for part in reversed(parts):
        if (
            len(kept) == MAX_EXTENSIONS
            or not part
            or len(part) > MAX_EXTENSION_LENGTH
            or not part.isalnum()
            or not part.isascii()
        ):
            break
        kept.insert(0, part)
    return ''.join(f'.{p}' for p in kept)


def md5e_key(size: int, md5: str, filename: str) -> AnnexKey:
    """The ``MD5E`` key of a file (its content need not be at hand).

    >>> str(md5e_key(3, 'a' * 32, 'x/1-1.dcm'))
    'MD5E-s3--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.dcm'
    """
    return AnnexKey(name=md5 + key_extension(filename), backend='MD5E', size=size)


def archive_key(series_uid: str) -> AnnexKey:
    """The key of a series' ``getImage`` archive.

    NBIA builds the ZIP on the fly: every download has other bytes. A
    checksum key would fail verification after the first re-build, so the
    archive gets a ``VURL`` key (content not verified; each member is
    verified by its own ``MD5E`` key when it is extracted).
    """
    return AnnexKey(name=f'tcia-series-{series_uid}', backend='VURL')


def member_locator(akey: AnnexKey, member: str, size: int) -> str:
    """The ``dl+archive:`` URL of an archive member, claimed by archivist."""
    return str(
        ArchivistLocator(
            akey=akey, member=PurePosixPath(member), size=size, atype=ArchiveType.zip
        )
    )


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
