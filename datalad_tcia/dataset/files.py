"""From the metadata records to the files of a patient dataset (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datalad_tcia.metadata import SeriesRecords
from datalad_tcia.nbia import SeriesInfo, format_date, single_image_url

from .build import AnnexedFile, SourceOnlyKey
from .keys import archive_key, md5e_key, member_locator
from .naming import file_path
from .repository import ARCHIVIST, IDC, NBIA, UNCURL

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
    # what a segmentation, report or annotation describes
    'referencedseriesinstanceuid': 'ReferencedSeriesInstanceUID',
    'referencedstudyinstanceuid': 'ReferencedStudyInstanceUID',
}


class PlanError(ValueError):
    """The records cannot be turned into a dataset (e.g. path clash)."""


def _series_values(series: SeriesInfo) -> dict[str, Any]:
    """The metadata fields NBIA's series record gives, where a file lacks
    them."""
    return {
        'modality': series.modality,
        'seriesinstanceuid': series.series_uid,
        'studyinstanceuid': series.study_uid,
        'seriesdescription': series.series_description,
        'studydescription': series.study_description,
        'seriesnumber': series.series_number,
        'bodypartexamined': series.body_part,
        'protocolname': series.protocol_name,
        'manufacturer': series.manufacturer,
        'patientid': series.patient_id,
    }


def _text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return [str(value)]


def plan_series(
    series_records: SeriesRecords, template: str, collection: str
) -> tuple[list[AnnexedFile], list[SourceOnlyKey]]:
    """The annexed files of one series, and its archive key."""
    arec = series_records.record
    series = arec.series
    akey = archive_key(arec.series_uid)
    from_nbia = arec.archive_url is not None
    fallback = _series_values(series)
    files = []
    for rec in series_records.images:
        path = file_path(template, series, rec.path)
        key = str(md5e_key(rec.size, rec.md5, rec.path))
        urls: list[str] = []
        remotes: list[str] = []
        if rec.idc_url:
            urls.append(rec.idc_url)
            remotes.append(IDC)
        if from_nbia:
            urls.append(member_locator(akey, rec.path, rec.size))
            remotes.append(ARCHIVIST)
        if arec.api_url and rec.sop_uid:
            urls.append(single_image_url(arec.api_url, arec.series_uid, rec.sop_uid))
            # uncurl too: enabled, it serves the same URL rewritten when
            # NBIA moves its API (see the docs on repairing URLs)
            remotes += [NBIA, UNCURL]
        # a third-party series: its analysis result, and the collection
        # it describes
        meta = (
            {'analysisresult': [series.analysis_result], 'collection': [described]}
            if series.analysis_result and (described := series.collection)
            else {'collection': [collection]}
        )
        for fieldname, keyword in METADATA_FIELDS.items():
            values = _text(rec.tags.get(keyword))
            if not values:
                values = _text(fallback.get(fieldname))
            if values:
                meta[fieldname] = values
        files.append(
            AnnexedFile(path, key, tuple(urls), tuple(dict.fromkeys(remotes)), meta)
        )
    source_keys = (
        [SourceOnlyKey(str(akey), (str(arec.archive_url),), (UNCURL,))]
        if from_nbia
        else []
    )
    return files, source_keys


def plan_patient(
    patient_series: Sequence[SeriesRecords], template: str, collection: str
) -> tuple[list[AnnexedFile], list[SourceOnlyKey]]:
    """All files of a patient's series; two files on one path is an error.

    Raises
    ------
    PlanError
    """
    files: list[AnnexedFile] = []
    sources: list[SourceOnlyKey] = []
    seen: dict[str, str] = {}
    for dep in sorted(patient_series, key=lambda d: d.record.series_uid):
        series_files, series_sources = plan_series(dep, template, collection)
        for f in series_files:
            other = seen.get(f.path)
            if other is not None and other != f.key:
                msg = (
                    f'two files map to {f.path!r} (series '
                    f'{dep.record.series_uid}); choose a layout with '
                    'more distinguishing fields'
                )
                raise PlanError(msg)
            seen[f.path] = f.key
        files.extend(series_files)
        sources.extend(series_sources)
    # a file listed twice with the same key (same path) is kept once
    unique = {f.path: f for f in files}
    return sorted(unique.values(), key=lambda f: f.path), sources


def series_summary(series_records: SeriesRecords) -> str:
    """One line naming a series, for commit messages and the catalog.

    >>> from datalad_tcia.metadata import SeriesRecord
    >>> s = SeriesInfo('1.2.3', None, 'P1', 'C', modality='CT', series_number=2)
    >>> a = SeriesRecord('C', 'c', s, image_count=4)
    >>> series_summary(SeriesRecords(a, ()))
    '1.2.3 CT #2  (4 files)'
    """
    s = series_records.series
    number = s.series_number if s.series_number is not None else '?'
    return (
        f'{series_records.record.series_uid} {s.modality or ""} '
        f'#{number} {s.series_description or ""}'
        f' ({series_records.record.image_count} files)'
    )


def series_label(series: SeriesInfo) -> str:
    """How the catalog names a series: date, study, number, description,
    modality."""
    number = series.series_number if series.series_number is not None else '?'
    return (
        f'{format_date(series.study_date)} {series.study_description or ""} / '
        f'#{number} {series.series_description or ""} '
        f'({series.modality or "?"})'
    ).strip()
