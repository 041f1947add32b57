"""Typed records for NBIA v4 JSON rows.

NBIA renders rows as flat JSON objects, omits null columns, formats dates as
``MM-DD-YYYY`` (v4) and may send numbers as strings (``getSeriesMetadata``
sends nearly everything as a string, ``SeriesNumber`` can be
``"1.000000"``). The ``from_json`` constructors accept all of that; every
record keeps the verbatim row in ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: the key this package adds to an NBIA-shaped series record: the id of
#: the analysis result a third-party series belongs to
ANALYSIS_RESULT = 'AnalysisResult'

_DATE_FORMATS = (
    '%m-%d-%Y',  # v4
    '%Y-%m-%d %H:%M:%S.%f',  # v1/v2
    '%Y-%m-%d',
    '%Y%m%d',  # DICOM DA
)


def parse_date(value: Any) -> date | None:
    """Parse an NBIA date (``MM-DD-YYYY`` in v4, ``YYYY-MM-DD ...`` in v1).

    Returns ``None`` for a missing or unparsable value.

    >>> parse_date('08-29-2017')
    datetime.date(2017, 8, 29)
    >>> parse_date('2016-07-21 00:00:00.0')
    datetime.date(2016, 7, 21)
    >>> parse_date(None) is None
    True
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_int(value: Any) -> int | None:
    """Parse a count or size that may come as a number or a string.

    >>> parse_int('1.000000'), parse_int(27844690), parse_int(None)
    (1, 27844690, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def parse_str(value: Any) -> str | None:
    """Return a stripped string, or ``None`` for null/empty values."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _get(row: Mapping[str, Any], *keys: str) -> Any:
    # columns are spelled differently across endpoints (StudyDesc vs
    # StudyDescription, PatientId vs PatientID); take the first present
    for key in keys:
        if key in row:
            return row[key]
    return None


@dataclass(frozen=True)
class SeriesInfo:
    """A row of ``getSeries`` or ``getSeriesMetadata``.

    ``image_count`` is NBIA's ``ImageCount`` (the number of DICOM files a
    complete ``getImage`` archive holds); ``file_size`` is the total
    uncompressed DICOM size in bytes (not the ZIP size).
    """

    series_uid: str
    study_uid: str | None
    patient_id: str | None
    collection: str | None
    modality: str | None = None
    image_count: int | None = None
    file_size: int | None = None
    series_number: int | None = None
    series_description: str | None = None
    body_part: str | None = None
    manufacturer: str | None = None
    protocol_name: str | None = None
    series_date: date | None = None
    study_date: date | None = None
    study_description: str | None = None
    license_name: str | None = None
    license_uri: str | None = None
    data_description_uri: str | None = None
    date_released: date | None = None
    analysis_result: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def third_party(self) -> bool:
        """Whether upstream marks the series as third-party analysis
        (NBIA's ``ThirdPartyAnalysis`` ``YES``, IDC's ``analysis_result_id``)."""
        return self.analysis_result is not None or (
            str(self.raw.get('ThirdPartyAnalysis') or '').upper() == 'YES'
        )

    @property
    def published_in(self) -> str | None:
        """The name of the dataset the series belongs to: its analysis
        result (third-party work, under its own DOI), else its collection."""
        return self.analysis_result or self.collection

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> SeriesInfo:
        return cls(
            series_uid=str(row.get('SeriesInstanceUID') or ''),
            study_uid=parse_str(row.get('StudyInstanceUID')),
            patient_id=parse_str(_get(row, 'PatientID', 'PatientId')),
            collection=parse_str(row.get('Collection')),
            modality=parse_str(row.get('Modality')),
            image_count=parse_int(row.get('ImageCount')),
            file_size=parse_int(row.get('FileSize')),
            series_number=parse_int(row.get('SeriesNumber')),
            series_description=parse_str(row.get('SeriesDescription')),
            body_part=parse_str(row.get('BodyPartExamined')),
            manufacturer=parse_str(row.get('Manufacturer')),
            protocol_name=parse_str(row.get('ProtocolName')),
            series_date=parse_date(row.get('SeriesDate')),
            study_date=parse_date(row.get('StudyDate')),
            study_description=parse_str(_get(row, 'StudyDesc', 'StudyDescription')),
            license_name=parse_str(row.get('LicenseName')),
            license_uri=parse_str(row.get('LicenseURI')),
            data_description_uri=parse_str(
                _get(row, 'DataDescriptionURI', 'CollectionURI')
            ),
            date_released=parse_date(row.get('DateReleased')),
            analysis_result=parse_str(row.get(ANALYSIS_RESULT)),
            raw=dict(row),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``getSeries`` row NBIA v4 would give for this record (its
        spellings and ``MM-DD-YYYY`` dates; unknown fields left out), for a
        record made elsewhere (the IDC index).

        >>> row = SeriesInfo('1.2', None, 'P', 'C', study_date=date(2019, 3, 14))
        >>> row.to_json()['StudyDate'], sorted(row.to_json())
        ('03-14-2019', ['Collection', 'PatientID', 'SeriesInstanceUID', 'StudyDate'])
        """
        row = {
            'SeriesInstanceUID': self.series_uid,
            'StudyInstanceUID': self.study_uid,
            'PatientID': self.patient_id,
            'Collection': self.collection,
            'Modality': self.modality,
            'ImageCount': self.image_count,
            'FileSize': self.file_size,
            'SeriesNumber': self.series_number,
            'SeriesDescription': self.series_description,
            'BodyPartExamined': self.body_part,
            'Manufacturer': self.manufacturer,
            'ProtocolName': self.protocol_name,
            'SeriesDate': format_date(self.series_date) or None,
            'StudyDate': format_date(self.study_date) or None,
            'StudyDesc': self.study_description,
            'LicenseName': self.license_name,
            'LicenseURI': self.license_uri,
            'DataDescriptionURI': self.data_description_uri,
            'DateReleased': format_date(self.date_released) or None,
            'ThirdPartyAnalysis': 'YES' if self.analysis_result else None,
            ANALYSIS_RESULT: self.analysis_result,
        }
        return {k: v for k, v in row.items() if v is not None and v != ''}


@dataclass(frozen=True)
class ArchiveDownload:
    """What :meth:`NbiaClient.download_series` wrote.

    Attributes
    ----------
    path: str
      The file written.
    url: str
      The URL the archive was downloaded from.
    size: int
      Bytes written.
    md5: str
      MD5 hex digest of the bytes written.
    attempts: int
      Requests made, retries included.
    """

    path: str
    url: str
    size: int
    md5: str
    attempts: int = 1


def format_date(value: date | None) -> str:
    """A date as NBIA v4 writes it (``MM-DD-YYYY``), ``''`` if unknown.

    >>> format_date(date(2017, 8, 29)), format_date(None)
    ('08-29-2017', '')
    """
    return value.strftime('%m-%d-%Y') if value else ''
