"""The metadata records as types: read from and written to the
JSON files (SPEC 3.1, 3.2) only here.

Every layer that reads or writes the records goes through
:class:`SeriesRecords` (a :class:`SeriesRecord` and its
:class:`MemberRecord` s); nothing edits the JSON by hand. NBIA's verbatim
series record (``nbia_series``) is read once, by
:meth:`~datalad_tcia.nbia.SeriesInfo.from_json`, with its quirks.

A series comes from one of three sources (``SeriesRecord.source``):

``nbia``
  NBIA's ``getImage`` archive, downloaded and verified (``archive``).
``idc``
  IDC's bucket: the objects listed and their headers read, no pixel data
  (``idc`` says where; there is no archive).
``file``
  An archive from elsewhere (``archive.path``), e.g. an INM-ICF tarball.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from datalad_tcia.archive import MemberRecord
from datalad_tcia.nbia import SeriesInfo

from .schema import ARCHIVE_SCHEMA, now_utc

#: the sources a series can come from
ACQUIRED_FROM = ('nbia', 'idc', 'file')


@dataclass(frozen=True)
class ArchiveInfo:
    """The archive a series came in.

    Attributes
    ----------
    type: str
      ``zip`` or ``tar``.
    size, md5:
      Of the archive file.
    members: int
      Members it holds (DICOM files, LICENSE, md5hashes.csv).
    md5_verified: bool
      Whether NBIA's ``md5hashes.csv`` was checked.
    url: str or None
      Its ``getImage`` URL (archives from NBIA).
    path: str or None
      Where it was found (archives from elsewhere).
    """

    type: str
    size: int
    md5: str
    members: int
    md5_verified: bool
    url: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class IdcRecord:
    """Where IDC keeps a series, and what was found there.

    Attributes
    ----------
    idc_version: str
      The idc-index-data version that located it.
    bucket: str
      The AWS bucket.
    series_uuid: str
      ``crdc_series_uuid``: the prefix of this version's objects.
    endpoint: str
      The S3 endpoint the objects were listed at.
    matched, files: int
      Files with an IDC object of the same content, of all files.
    index_row: mapping or None
      For a series acquired from IDC: its ``idc_index`` row as read.
    """

    idc_version: str
    bucket: str
    series_uuid: str
    endpoint: str
    matched: int = 0
    files: int = 0
    index_row: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> IdcRecord:
        row = obj.get('index_row')
        return cls(
            idc_version=str(obj.get('idc_version') or ''),
            bucket=str(obj.get('bucket') or ''),
            series_uuid=str(
                obj.get('crdc_series_uuid') or obj.get('series_uuid') or ''
            ),
            endpoint=str(obj.get('endpoint') or ''),
            matched=int(obj.get('matched') or 0),
            files=int(obj.get('files') or 0),
            index_row=row if isinstance(row, Mapping) else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            'idc_version': self.idc_version,
            'bucket': self.bucket,
            'crdc_series_uuid': self.series_uuid,
            'endpoint': self.endpoint,
            'matched': self.matched,
            'files': self.files,
        }
        if self.index_row is not None:
            out['index_row'] = dict(self.index_row)
        return out


@dataclass(frozen=True)
class Revision:
    """A series recorded again because upstream revised it.

    Attributes
    ----------
    changes: str
      What the upstream record says changed.
    time: float
      When it was recorded again (seconds since the epoch).
    superseded: str
      Where the previous records are kept, relative to the metadata folder.
    """

    changes: str
    time: float
    superseded: str

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Revision:
        return cls(
            str(obj.get('changes') or ''),
            float(obj.get('time') or 0),
            str(obj.get('superseded') or ''),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            'changes': self.changes,
            'time': self.time,
            'superseded': self.superseded,
        }


@dataclass(frozen=True)
class SeriesRecord:
    """One ``*_metadata_archive.json`` object: a series and where it came
    from.

    Attributes
    ----------
    collection: str
      NBIA's collection name.
    collection_id: str
      The store's (and IDC's) folder name of it.
    series: SeriesInfo
      The upstream record of the series (NBIA's, or the one the IDC index
      row gives; only the UID for archives from elsewhere).
    source: str
      ``nbia``, ``idc`` or ``file`` (see the module).
    image_count: int or None
      The files upstream says the series has (or those found, for
      archives from elsewhere).
    api_url: str or None
      The NBIA API whose ``getSingleImage`` serves the files.
    archive: ArchiveInfo or None
      The archive, for series that came in one.
    downloaded: str
      When the series was acquired (ISO 8601, UTC).
    license_text: str or None
      The archive's LICENSE member.
    idc: IdcRecord or None
      Where IDC keeps it, if known.
    revised: Revision or None
      For a series acquired again because upstream revised it.
    withdrawn: float or None
      When the series was found withdrawn upstream (seconds since the
      epoch; its records then live in ``metadata/withdrawn/``).
    """

    collection: str
    collection_id: str
    series: SeriesInfo
    source: str = 'nbia'
    image_count: int | None = None
    api_url: str | None = None
    archive: ArchiveInfo | None = None
    downloaded: str = field(default_factory=now_utc)
    license_text: str | None = None
    idc: IdcRecord | None = None
    revised: Revision | None = None
    withdrawn: float | None = None

    @property
    def series_uid(self) -> str:
        return self.series.series_uid

    @property
    def patient_id(self) -> str | None:
        return self.series.patient_id

    @property
    def study_uid(self) -> str | None:
        return self.series.study_uid

    @property
    def archive_url(self) -> str | None:
        """The ``getImage`` URL of the series' archive (NBIA's only)."""
        return self.archive.url if self.archive else None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SeriesRecord:
        uid = str(obj['SeriesInstanceUID'])
        nbia = obj.get('nbia_series') or {}
        series = SeriesInfo.from_json({**nbia, 'SeriesInstanceUID': uid})
        # the record's own identity wins over a partial upstream record
        series = _with_ids(series, obj)
        count = obj.get('ImageCount')
        archive = None
        if obj.get('archive_md5') is not None:
            archive = ArchiveInfo(
                type=str(obj.get('archive_type') or 'zip'),
                size=int(obj.get('archive_size') or 0),
                md5=str(obj['archive_md5']),
                members=int(obj.get('archive_members') or 0),
                md5_verified=bool(obj.get('md5_manifest_verified')),
                url=_str(obj.get('archive_url')),
                path=_str(obj.get('archive_path')),
            )
        source = obj.get('source')
        if source not in ACQUIRED_FROM:
            source = 'file' if archive is not None and archive.url is None else 'nbia'
        idc = obj.get('idc')
        revised = obj.get('revised')
        return cls(
            collection=str(obj['Collection']),
            collection_id=str(obj.get('collection_id') or ''),
            series=series,
            source=str(source),
            image_count=int(count) if count is not None else None,
            api_url=_str(obj.get('api_url')),
            archive=archive,
            downloaded=str(obj.get('downloaded') or ''),
            license_text=_str(obj.get('license_text')),
            idc=IdcRecord.from_json(idc) if isinstance(idc, Mapping) else None,
            revised=Revision.from_json(revised)
            if isinstance(revised, Mapping)
            else None,
            withdrawn=float(obj['withdrawn']) if obj.get('withdrawn') else None,
        )

    def to_json(self) -> dict[str, Any]:
        a = self.archive
        out: dict[str, Any] = {
            'schema': ARCHIVE_SCHEMA,
            'source': self.source,
            'Collection': self.collection,
            'collection_id': self.collection_id,
            'PatientID': self.patient_id,
            'StudyInstanceUID': self.study_uid,
            'SeriesInstanceUID': self.series_uid,
            'ImageCount': self.image_count,
            'api_url': self.api_url,
            'archive_url': a.url if a else None,
            'archive_path': a.path if a else None,
            'archive_type': a.type if a else None,
            'archive_size': a.size if a else None,
            'archive_md5': a.md5 if a else None,
            'archive_members': a.members if a else None,
            'md5_manifest_verified': a.md5_verified if a else None,
            'downloaded': self.downloaded,
            'license_text': self.license_text,
            # a series without an upstream record has only its UID in raw
            'nbia_series': dict(self.series.raw)
            if set(self.series.raw) - {'SeriesInstanceUID'}
            else None,
        }
        if self.idc is not None:
            out['idc'] = self.idc.to_json()
        if self.revised is not None:
            out['revised'] = self.revised.to_json()
        if self.withdrawn is not None:
            out['withdrawn'] = self.withdrawn
        return out


@dataclass(frozen=True)
class SeriesRecords:
    """The two metadata records of one series."""

    record: SeriesRecord
    members: Sequence[MemberRecord]

    @classmethod
    def from_json(
        cls, record: Mapping[str, Any], members: Sequence[Mapping[str, Any]]
    ) -> SeriesRecords:
        return cls(
            SeriesRecord.from_json(record),
            tuple(MemberRecord.from_json(m) for m in members),
        )

    @property
    def series(self) -> SeriesInfo:
        return self.record.series

    @property
    def images(self) -> list[MemberRecord]:
        """The members that are files of the series."""
        return [m for m in self.members if m.is_image]


def _with_ids(series: SeriesInfo, obj: Mapping[str, Any]) -> SeriesInfo:
    changes: dict[str, Any] = {
        name: str(obj[key])
        for name, key in (
            ('patient_id', 'PatientID'),
            ('study_uid', 'StudyInstanceUID'),
            ('collection', 'Collection'),
        )
        if obj.get(key) is not None and getattr(series, name) is None
    }
    return replace(series, **changes) if changes else series


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
