"""From deposited metadata to the files of a patient dataset (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datalad_tcia.archive import SPECIAL_MEMBERS
from datalad_tcia.metadata import MetadataError, read_series_metadata
from datalad_tcia.store import StoreLayout, collection_id

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


def read_collection(
    store: Path, collection: str
) -> tuple[dict[str, list[SeriesDeposit]], str, list[str]]:
    """Deposited series per PatientID, the collection name, and problems
    (unreadable deposits, which are skipped)."""
    cid = collection_id(collection)
    root = StoreLayout(store, collection)
    name = collection
    by_patient: dict[str, list[SeriesDeposit]] = {}
    problems = []
    for apath in sorted((store / cid / 'metadata').glob('*_metadata_archive.json')):
        uid = apath.name[: -len('_metadata_archive.json')]
        try:
            arec, drecs = read_series_metadata(root, uid)
        except (FileNotFoundError, MetadataError) as e:
            problems.append(
                f'skipping series {uid}: {e}; run "datalad tcia-download" or '
                '"datalad tcia-deposit-metadata" again'
            )
            continue
        name = str(arec.get('Collection') or name)
        pid = str(arec.get('PatientID') or 'unknown')
        by_patient.setdefault(pid, []).append(SeriesDeposit(arec, drecs))
    return by_patient, name, problems


def load_slugs(metadata_dir: Path) -> dict[str, str]:
    """The PatientID -> slug mapping recorded in the store."""
    try:
        data = json.loads((metadata_dir / 'patients.json').read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()}
