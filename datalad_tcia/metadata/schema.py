"""The metadata deposit's records (SPEC 3.1 and 3.2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

#: version of the ``*_metadata_archive.json`` record; bump on incompatible
#: change
ARCHIVE_SCHEMA = 'datalad-tcia/archive-metadata/1'


class MetadataError(ValueError):
    """A deposited metadata file is unreadable or inconsistent."""


def now_utc() -> str:
    """The current time as ISO 8601 UTC, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def archive_record(
    *,
    collection: str,
    collection_id: str,
    series_uid: str,
    patient_id: str | None,
    study_uid: str | None,
    image_count: int | None,
    archive_size: int,
    archive_md5: str,
    archive_type: str,
    member_count: int,
    md5_verified: bool,
    archive_url: str | None = None,
    api_url: str | None = None,
    archive_path: str | None = None,
    downloaded: str | None = None,
    license_text: str | None = None,
    nbia_series: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``*_metadata_archive.json`` object.

    ``archive_url``/``api_url`` are set for archives downloaded from NBIA;
    ``archive_path`` for archives deposited from elsewhere. ``ImageCount``
    is NBIA's when known, else the number of image members found.
    """
    return {
        'schema': ARCHIVE_SCHEMA,
        'Collection': collection,
        'collection_id': collection_id,
        'PatientID': patient_id,
        'StudyInstanceUID': study_uid,
        'SeriesInstanceUID': series_uid,
        'ImageCount': image_count,
        'archive_url': archive_url,
        'api_url': api_url,
        'archive_path': archive_path,
        'archive_type': archive_type,
        'archive_size': archive_size,
        'archive_md5': archive_md5,
        'archive_members': member_count,
        'md5_manifest_verified': md5_verified,
        'downloaded': downloaded or now_utc(),
        'license_text': license_text,
        'nbia_series': dict(nbia_series) if nbia_series is not None else None,
    }


_REQUIRED = ('schema', 'Collection', 'SeriesInstanceUID', 'archive_md5', 'archive_size')


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
    if missing:
        msg = f'missing {", ".join(missing)}'
        raise MetadataError(msg)
    if obj['schema'] != ARCHIVE_SCHEMA:
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
