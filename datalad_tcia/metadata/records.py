"""Typed views of the deposited metadata, for the layers that read it.

The JSON files (SPEC 3.1, 3.2) stay as they are; what crosses from the
store into dataset building and the catalog are these records. NBIA's
verbatim series record (``nbia_series``) is read once, by
:meth:`~datalad_tcia.nbia.SeriesInfo.from_json`, with its quirks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from datalad_tcia.archive import SPECIAL_MEMBERS
from datalad_tcia.nbia import SeriesInfo


@dataclass(frozen=True)
class MemberRecord:
    """One archive member, as ``*_metadata_dicoms.json`` records it.

    Attributes
    ----------
    path: str
      Member name in the archive.
    size: int
      Bytes.
    md5: str
      MD5 hex digest.
    dicom: bool
      Whether it is a DICOM file.
    tags: mapping
      DICOM keyword -> value (``SOPInstanceUID`` and the configured tags).
    idc_url: str or None
      Where IDC serves the same bytes (matched by MD5 and size), if known.
    """

    path: str
    size: int
    md5: str
    dicom: bool
    tags: Mapping[str, Any] = field(default_factory=dict, compare=False)
    idc_url: str | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> MemberRecord:
        return cls(
            path=str(obj['path']),
            size=int(obj['size']),
            md5=str(obj['md5']),
            dicom=bool(obj.get('dicom')),
            tags=obj,
            idc_url=_str(obj.get('idc_url')),
        )

    @property
    def sop_uid(self) -> str | None:
        """The SOPInstanceUID, for DICOM members that have one."""
        value = self.tags.get('SOPInstanceUID')
        return str(value) if value else None

    @property
    def is_image(self) -> bool:
        """Whether it is a file of the series (not LICENSE or md5hashes.csv)."""
        return self.path not in SPECIAL_MEMBERS


@dataclass(frozen=True)
class ArchiveRecord:
    """One ``*_metadata_archive.json`` object.

    Attributes
    ----------
    collection: str
      NBIA collection name.
    series_uid: str
      SeriesInstanceUID.
    patient_id: str or None
      PatientID.
    study_uid: str or None
      StudyInstanceUID.
    image_count: int or None
      NBIA's ``ImageCount`` (or the files found, for archives from
      elsewhere).
    api_url: str or None
      The NBIA API the series came from (``None`` for archives from
      elsewhere).
    archive_url: str or None
      Its ``getImage`` URL.
    license_text: str or None
      The archive's LICENSE member.
    series: SeriesInfo
      NBIA's record of the series (only the UID for archives from
      elsewhere).
    idc: mapping or None
      What the IDC step found (IDC version, bucket, series UUID, endpoint,
      files matched), if it ran.
    revised: mapping or None
      For a series downloaded again because NBIA revised it: ``changes``
      (what NBIA's record says changed), ``time`` (when it was deposited
      again, seconds since the epoch) and ``superseded`` (where the
      previous records are kept, relative to the metadata folder).
    """

    collection: str
    series_uid: str
    patient_id: str | None
    study_uid: str | None
    image_count: int | None
    api_url: str | None
    archive_url: str | None
    license_text: str | None
    series: SeriesInfo
    idc: Mapping[str, Any] | None = None
    revised: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ArchiveRecord:
        uid = str(obj['SeriesInstanceUID'])
        nbia = obj.get('nbia_series') or {}
        count = obj.get('ImageCount')
        return cls(
            collection=str(obj['Collection']),
            series_uid=uid,
            patient_id=_str(obj.get('PatientID')),
            study_uid=_str(obj.get('StudyInstanceUID')),
            image_count=int(count) if count is not None else None,
            api_url=_str(obj.get('api_url')),
            archive_url=_str(obj.get('archive_url')),
            license_text=_str(obj.get('license_text')),
            series=SeriesInfo.from_json({**nbia, 'SeriesInstanceUID': uid}),
            idc=obj.get('idc') if isinstance(obj.get('idc'), Mapping) else None,
            revised=obj.get('revised')
            if isinstance(obj.get('revised'), Mapping)
            else None,
        )


@dataclass(frozen=True)
class SeriesDeposit:
    """The two metadata records of one series."""

    archive: ArchiveRecord
    members: Sequence[MemberRecord]

    @classmethod
    def from_json(
        cls, archive: Mapping[str, Any], members: Sequence[Mapping[str, Any]]
    ) -> SeriesDeposit:
        return cls(
            ArchiveRecord.from_json(archive),
            tuple(MemberRecord.from_json(m) for m in members),
        )

    @property
    def series(self) -> SeriesInfo:
        return self.archive.series

    @property
    def images(self) -> list[MemberRecord]:
        """The members that are files of the series."""
        return [m for m in self.members if m.is_image]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
