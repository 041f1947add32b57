"""The keys and source URLs of TCIA's files and series archives."""

from __future__ import annotations

from pathlib import PurePosixPath

from datalad_next.types.annexkey import AnnexKey
from datalad_next.types.archivist import ArchivistLocator
from datalad_next.types.enums import ArchiveType

from datalad_tcia.formats.annex_keys import key_extension, md5e_key, object_path

__all__ = ['archive_key', 'key_extension', 'md5e_key', 'member_locator', 'object_path']


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
