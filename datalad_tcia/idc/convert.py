"""From IDC index rows to NBIA's records: the one place where the two
differ (column names, date forms, sizes, collection names).

IDC's ``idc_index`` has one row per series with its own column names
(``collection_id``, ``instanceCount``, ``series_size_MB``,
``source_DOI``, ``license_short_name``) and ``YYYY-MM-DD`` dates, where
NBIA v4 answers ``getSeries`` with ``Collection``, ``ImageCount``,
``FileSize`` (bytes), ``DataDescriptionURI``, ``LicenseName`` and
``MM-DD-YYYY`` dates. A row becomes the :class:`~datalad_tcia.nbia.SeriesInfo`
NBIA would have given, so that everything after the planning is the same
whichever answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from datalad_tcia.nbia import SeriesInfo

#: the key of an NBIA-shaped record that says which IDC index made it
IDC_VERSION = 'IdcVersion'

#: the ``idc_index`` columns this package reads
COLUMNS = (
    'collection_id',
    'analysis_result_id',
    'PatientID',
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'source_DOI',
    'StudyDate',
    'StudyDescription',
    'SeriesDate',
    'SeriesDescription',
    'SeriesNumber',
    'BodyPartExamined',
    'Modality',
    'Manufacturer',
    'ManufacturerModelName',
    'instanceCount',
    'license_short_name',
    'series_size_MB',
    'aws_bucket',
    'crdc_series_uuid',
    'series_revised_idc_version',
)

#: IDC's ``license_short_name`` -> NBIA's ``LicenseName`` and ``LicenseURI``
#: (the long names and URLs of idc-index-data's ``collections_index``)
LICENSES = {
    'CC BY 3.0': (
        'Creative Commons Attribution 3.0 Unported License',
        'https://creativecommons.org/licenses/by/3.0/',
    ),
    'CC BY 4.0': (
        'Creative Commons Attribution 4.0 International License',
        'https://creativecommons.org/licenses/by/4.0/',
    ),
    'CC BY-NC 3.0': (
        'Creative Commons Attribution-NonCommercial 3.0 Unported License',
        'https://creativecommons.org/licenses/by-nc/3.0/',
    ),
    'CC BY-NC 4.0': (
        'Creative Commons Attribution-NonCommercial 4.0 International License',
        'https://creativecommons.org/licenses/by-nc/4.0/',
    ),
}


def idc_collection_id(name: str) -> str:
    """IDC's ``collection_id`` of an NBIA collection name (lower case, runs
    of other characters as ``_``; the store's collection folders follow
    the same rule).

    >>> idc_collection_id('Pseudo-PHI-DICOM-Data'), idc_collection_id('QIN LUNG CT')
    ('pseudo_phi_dicom_data', 'qin_lung_ct')
    """
    return re.sub(r'[^a-z0-9]+', '_', name.lower())


def normalize_doi(text: str) -> str:
    """A DOI as IDC writes it (lower case, no resolver prefix).

    >>> normalize_doi('https://doi.org/10.7937/S17Z-R072')
    '10.7937/s17z-r072'
    """
    doi = text.strip().lower()
    for prefix in (
        'https://doi.org/',
        'http://doi.org/',
        'https://dx.doi.org/',
        'doi:',
    ):
        if doi.startswith(prefix):
            doi = doi[len(prefix) :]
    return doi


def file_size(series_size_mb: Any) -> int | None:
    """Bytes from IDC's ``series_size_MB`` (the sum of the instance sizes
    divided by 10^6, not rounded: rounding gives the bytes back).

    >>> file_size(0.152004), file_size(None)
    (152004, None)
    """
    if series_size_mb is None:
        return None
    return round(float(series_size_mb) * 1e6)


def _text(value: Any) -> str | None:
    return None if value is None or value == '' else str(value)


def _date(value: Any) -> date | None:
    """IDC's ``YYYY-MM-DD`` (NBIA v4 writes ``MM-DD-YYYY``).

    >>> _date('2019-03-14'), _date(None), _date('garbage')
    (datetime.date(2019, 3, 14), None, None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), '%Y-%m-%d').date()
    except ValueError:
        return None


def series_info(
    row: Mapping[str, Any], collection_name: str, version: str
) -> SeriesInfo:
    """The :class:`SeriesInfo` NBIA would give for an ``idc_index`` row.

    Its ``raw`` record (what the metadata records keeps as NBIA's) is the
    row NBIA would have sent, plus ``IdcVersion``: which index answered.
    The size is IDC's (compared with NBIA's only where both come from the
    same source, see :func:`from_idc`).
    """
    doi = _text(row.get('source_DOI'))
    short = _text(row.get('license_short_name'))
    license_name, license_uri = LICENSES.get(str(short), (short, None))
    count = row.get('instanceCount')
    number = _text(row.get('SeriesNumber'))
    info = SeriesInfo(
        series_uid=str(row['SeriesInstanceUID']),
        study_uid=_text(row.get('StudyInstanceUID')),
        patient_id=_text(row.get('PatientID')),
        collection=collection_name,
        modality=_text(row.get('Modality')),
        image_count=int(count) if count is not None else None,
        file_size=file_size(row.get('series_size_MB')),
        series_number=int(number) if number and number.isdigit() else None,
        series_description=_text(row.get('SeriesDescription')),
        body_part=_text(row.get('BodyPartExamined')),
        manufacturer=_text(row.get('Manufacturer')),
        series_date=_date(row.get('SeriesDate')),
        study_date=_date(row.get('StudyDate')),
        study_description=_text(row.get('StudyDescription')),
        license_name=license_name,
        license_uri=license_uri,
        data_description_uri=f'https://doi.org/{doi}' if doi else None,
        analysis_result=_text(row.get('analysis_result_id')),
    )
    return replace(info, raw={**info.to_json(), IDC_VERSION: version})


def from_idc(series: SeriesInfo) -> bool:
    """Whether ``series`` was planned from the IDC index."""
    return IDC_VERSION in series.raw
