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
from datetime import datetime
from typing import Any

from datalad_tcia.nbia import SeriesInfo

#: the ``idc_index`` columns this package reads
COLUMNS = (
    'collection_id',
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


def nbia_date(value: Any) -> str | None:
    """IDC's ``YYYY-MM-DD`` as NBIA v4's ``MM-DD-YYYY``.

    >>> nbia_date('2019-03-14'), nbia_date(None), nbia_date('garbage')
    ('03-14-2019', None, None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), '%Y-%m-%d').strftime('%m-%d-%Y')
    except ValueError:
        return None


def file_size(series_size_mb: Any) -> int | None:
    """Bytes from IDC's ``series_size_MB`` (the sum of the instance sizes
    divided by 10^6, not rounded: rounding gives the bytes back).

    >>> file_size(0.152004), file_size(None)
    (152004, None)
    """
    if series_size_mb is None:
        return None
    return round(float(series_size_mb) * 1e6)


def nbia_row(
    row: Mapping[str, Any], collection_name: str, version: str
) -> dict[str, Any]:
    """The ``getSeries`` row NBIA would give for an ``idc_index`` row.

    ``IdcVersion`` says which index answered; its ``FileSize`` is IDC's
    (compared with NBIA's only where both come from the same source).
    """
    doi = row.get('source_DOI')
    short = row.get('license_short_name')
    license_name, license_uri = LICENSES.get(str(short), (short, None))
    out = {
        'SeriesInstanceUID': row['SeriesInstanceUID'],
        'StudyInstanceUID': row.get('StudyInstanceUID'),
        'PatientID': row.get('PatientID'),
        'Collection': collection_name,
        'Modality': row.get('Modality'),
        'ImageCount': row.get('instanceCount'),
        'FileSize': file_size(row.get('series_size_MB')),
        'SeriesNumber': row.get('SeriesNumber'),
        'SeriesDescription': row.get('SeriesDescription'),
        'BodyPartExamined': row.get('BodyPartExamined'),
        'Manufacturer': row.get('Manufacturer'),
        'ManufacturerModelName': row.get('ManufacturerModelName'),
        'SeriesDate': nbia_date(row.get('SeriesDate')),
        'StudyDate': nbia_date(row.get('StudyDate')),
        'StudyDesc': row.get('StudyDescription'),
        'LicenseName': license_name,
        'LicenseURI': license_uri,
        'DataDescriptionURI': f'https://doi.org/{doi}' if doi else None,
        'IdcVersion': version,
    }
    return {k: v for k, v in out.items() if v is not None and v != ''}


def series_info(
    row: Mapping[str, Any], collection_name: str, version: str
) -> SeriesInfo:
    """The :class:`SeriesInfo` of an ``idc_index`` row."""
    return SeriesInfo.from_json(nbia_row(row, collection_name, version))


def from_idc(series: SeriesInfo) -> bool:
    """Whether ``series`` was planned from the IDC index."""
    return 'IdcVersion' in series.raw
