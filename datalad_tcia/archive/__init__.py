"""Series archives: one-pass indexing (MD5, size, DICOM header) and
verification.

.. currentmodule:: datalad_tcia.archive
.. autosummary::
   :toctree: generated

   index_archive
   ArchiveIndex
   MemberRecord
   verification_problems
   read_header
   parse_md5_manifest
"""

from .dicomtags import DEFAULT_TAGS, json_value, read_header
from .md5manifest import LICENSE, MD5_MANIFEST, Md5ManifestError, parse_md5_manifest
from .members import (
    ArchiveError,
    ArchiveIndex,
    archive_type,
    index_archive,
    unsafe_member_name,
)
from .record import SPECIAL_MEMBERS, MemberRecord
from .verify import verification_problems

__all__ = [
    'DEFAULT_TAGS',
    'LICENSE',
    'MD5_MANIFEST',
    'SPECIAL_MEMBERS',
    'ArchiveError',
    'ArchiveIndex',
    'Md5ManifestError',
    'MemberRecord',
    'archive_type',
    'index_archive',
    'json_value',
    'parse_md5_manifest',
    'read_header',
    'unsafe_member_name',
    'verification_problems',
]
