"""From deposited metadata to the files of a patient dataset (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from datalad_tcia.archive import SPECIAL_MEMBERS

from .build import ARCHIVIST, UNCURL, AnnexedFile, SourceOnlyKey
from .keys import archive_key, md5e_key, member_locator
from .naming import file_path

#: git-annex metadata field -> DICOM keyword (from the per-file record)
METADATA_FIELDS = {
    'modality': 'Modality',
    'sopinstanceuid': 'SOPInstanceUID',
    'seriesinstanceuid': 'SeriesInstanceUID',
    'studyinstanceuid': 'StudyInstanceUID',
    'seriesdescription': 'SeriesDescription',
    'studydescription': 'StudyDescription',
    'seriesnumber': 'SeriesNumber',
    'instancenumber': 'InstanceNumber',
    'studydate': 'StudyDate',
    'bodypartexamined': 'BodyPartExamined',
    'protocolname': 'ProtocolName',
    'manufacturer': 'Manufacturer',
    'patientid': 'PatientID',
}

#: the same fields from NBIA's series record, where a file lacks them
_NBIA_FALLBACK = {
    'modality': 'Modality',
    'seriesinstanceuid': 'SeriesInstanceUID',
    'studyinstanceuid': 'StudyInstanceUID',
    'seriesdescription': 'SeriesDescription',
    'studydescription': 'StudyDesc',
    'seriesnumber': 'SeriesNumber',
    'bodypartexamined': 'BodyPartExamined',
    'protocolname': 'ProtocolName',
    'manufacturer': 'Manufacturer',
    'patientid': 'PatientID',
}


class PlanError(ValueError):
    """The deposit cannot be turned into a dataset (e.g. path clash)."""


@dataclass(frozen=True)
class SeriesDeposit:
    """The two metadata records of one series."""

    archive: Mapping[str, Any]
    dicoms: Sequence[Mapping[str, Any]]


def single_image_url(api_url: str, series_uid: str, sop_uid: str) -> str:
    """NBIA's ``getSingleImage`` URL of one file."""
    query = urlencode({'SeriesInstanceUID': series_uid, 'SOPInstanceUID': sop_uid})
    return f'{api_url.rstrip("/")}/getSingleImage?{query}'


def _text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [str(value)]


def plan_series(
    deposit: SeriesDeposit, layout: str, collection: str
) -> tuple[list[AnnexedFile], list[SourceOnlyKey]]:
    """The annexed files of one series, and its archive key."""
    arec = deposit.archive
    nbia = arec.get('nbia_series') or {}
    series_uid = str(arec['SeriesInstanceUID'])
    api_url = arec.get('api_url')
    archive_url = arec.get('archive_url')
    akey = archive_key(series_uid)
    from_nbia = archive_url is not None
    files = []
    for rec in deposit.dicoms:
        member = str(rec['path'])
        if member in SPECIAL_MEMBERS:
            continue
        path = file_path(layout, {**nbia, 'SeriesInstanceUID': series_uid}, member)
        key = str(md5e_key(int(rec['size']), str(rec['md5']), member))
        urls: list[str] = []
        remotes: list[str] = []
        if from_nbia:
            urls.append(member_locator(akey, member, int(rec['size'])))
            remotes.append(ARCHIVIST)
        sop = rec.get('SOPInstanceUID')
        if api_url and sop:
            urls.append(single_image_url(str(api_url), series_uid, str(sop)))
            remotes.append(UNCURL)
        meta = {'collection': [collection]}
        for fieldname, keyword in METADATA_FIELDS.items():
            values = _text(rec.get(keyword))
            if not values and fieldname in _NBIA_FALLBACK:
                values = _text(nbia.get(_NBIA_FALLBACK[fieldname]))
            if values:
                meta[fieldname] = values
        files.append(
            AnnexedFile(path, key, tuple(urls), tuple(dict.fromkeys(remotes)), meta)
        )
    source_keys = (
        [SourceOnlyKey(str(akey), (str(archive_url),), (UNCURL,))] if from_nbia else []
    )
    return files, source_keys


def plan_patient(
    deposits: Sequence[SeriesDeposit], layout: str, collection: str
) -> tuple[list[AnnexedFile], list[SourceOnlyKey]]:
    """All files of a patient's series; two files on one path is an error.

    Raises
    ------
    PlanError
    """
    files: list[AnnexedFile] = []
    sources: list[SourceOnlyKey] = []
    seen: dict[str, str] = {}
    for dep in sorted(deposits, key=lambda d: str(d.archive['SeriesInstanceUID'])):
        series_files, series_sources = plan_series(dep, layout, collection)
        for f in series_files:
            other = seen.get(f.path)
            if other is not None and other != f.key:
                msg = (
                    f'two files map to {f.path!r} (series '
                    f'{dep.archive["SeriesInstanceUID"]}); choose a layout with '
                    'more distinguishing fields'
                )
                raise PlanError(msg)
            seen[f.path] = f.key
        files.extend(series_files)
        sources.extend(series_sources)
    # a file listed twice with the same key (same path) is kept once
    unique = {f.path: f for f in files}
    return sorted(unique.values(), key=lambda f: f.path), sources
