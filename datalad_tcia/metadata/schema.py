"""The metadata records (SPEC 3.1 and 3.2)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

#: version of the ``*_metadata_archive.json`` record; bump on incompatible
#: change (2: ``source``; series from IDC have no archive fields)
ARCHIVE_SCHEMA = 'datalad-tcia/archive-metadata/2'
#: the versions this package reads
READABLE_SCHEMAS = (ARCHIVE_SCHEMA, 'datalad-tcia/archive-metadata/1')


class MetadataError(ValueError):
    """A metadata record file is unreadable or inconsistent."""


def now_utc() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


_REQUIRED = ('schema', 'Collection', 'SeriesInstanceUID')
#: required of every series that came in an archive
_ARCHIVE_REQUIRED = ('archive_md5', 'archive_size')


def check_archive_record(obj: Any, series_uid: str | None = None) -> dict[str, Any]:
    """Validate a loaded ``*_metadata_archive.json`` object.

    Raises
    ------
    MetadataError
    """
    if not isinstance(obj, dict):
        msg = 'not a JSON object'
        raise MetadataError(msg)
    missing = [k for k in _REQUIRED if k not in obj]
    if obj.get('source') != 'idc':
        missing += [k for k in _ARCHIVE_REQUIRED if obj.get(k) is None]
    if missing:
        msg = f'missing {", ".join(missing)}'
        raise MetadataError(msg)
    if obj['schema'] not in READABLE_SCHEMAS:
        msg = f'unknown schema {obj["schema"]!r}'
        raise MetadataError(msg)
    if series_uid is not None and obj['SeriesInstanceUID'] != series_uid:
        msg = f'it describes series {obj["SeriesInstanceUID"]}, not {series_uid}'
        raise MetadataError(msg)
    return obj


def check_dicoms_records(obj: Any) -> list[dict[str, Any]]:
    """Validate a loaded ``*_metadata_dicoms.json`` array.

    Raises
    ------
    MetadataError
    """
    if not isinstance(obj, list):
        msg = 'not a JSON array'
        raise MetadataError(msg)
    for i, rec in enumerate(obj):
        if not isinstance(rec, dict) or not {'path', 'size', 'md5', 'dicom'} <= set(
            rec
        ):
            msg = f'record {i} lacks path, size, md5 or dicom'
            raise MetadataError(msg)
    return obj
