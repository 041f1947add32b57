"""Summaries of a list of series per collection, patient and study.

Pure functions: used by ``tcia-ls`` to turn resolved series into rows with
counts and sizes, ordered collection > patient > study > series, and to
render a row as one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from datalad.utils import bytes2human

from datalad_tcia.nbia import SeriesInfo

LEVELS = ('collection', 'patient', 'study', 'series')


def _totals(series: list[SeriesInfo]) -> dict[str, int]:
    return {
        'SeriesCount': len(series),
        'ImageCount': sum(s.image_count or 0 for s in series),
        'FileSize': sum(s.file_size or 0 for s in series),
    }


def _group(series: Iterable[SeriesInfo], key: str) -> dict[str, list[SeriesInfo]]:
    out: dict[str, list[SeriesInfo]] = {}
    for s in series:
        out.setdefault(getattr(s, key) or '', []).append(s)
    return out


def series_row(s: SeriesInfo) -> dict[str, Any]:
    """The listing row of one series (NBIA column names as keys)."""
    row: dict[str, Any] = {
        'type': 'series',
        'Collection': s.collection,
        'PatientID': s.patient_id,
        'StudyInstanceUID': s.study_uid,
        'SeriesInstanceUID': s.series_uid,
        'Modality': s.modality,
        'SeriesNumber': s.series_number,
        'SeriesDescription': s.series_description,
        'BodyPartExamined': s.body_part,
        'ImageCount': s.image_count,
        'FileSize': s.file_size,
    }
    return {k: v for k, v in row.items() if v is not None}


def summarize(
    series: Iterable[SeriesInfo], level: str = 'series'
) -> Iterator[dict[str, Any]]:
    """Yield summary rows down to ``level`` (one of :data:`LEVELS`).

    Series must be sorted by collection, patient and study (as
    :func:`~datalad_tcia.pipeline.select.resolve_selection` returns them).
    """
    depth = LEVELS.index(level)
    for coll, c_series in _group(series, 'collection').items():
        patients = _group(c_series, 'patient_id')
        yield {
            'type': 'collection',
            'Collection': coll,
            'PatientCount': len(patients),
            'StudyCount': len({s.study_uid for s in c_series}),
            **_totals(c_series),
        }
        if depth < 1:
            continue
        for pid, p_series in patients.items():
            studies = _group(p_series, 'study_uid')
            yield {
                'type': 'patient',
                'Collection': coll,
                'PatientID': pid,
                'StudyCount': len(studies),
                **_totals(p_series),
            }
            if depth < 2:
                continue
            for study_uid, st_series in studies.items():
                first = st_series[0]
                row = {
                    'type': 'study',
                    'Collection': coll,
                    'PatientID': pid,
                    'StudyInstanceUID': study_uid,
                    'StudyDate': first.study_date.isoformat()
                    if first.study_date
                    else None,
                    'StudyDescription': first.study_description,
                    **_totals(st_series),
                }
                yield {k: v for k, v in row.items() if v is not None}
                if depth < 3:
                    continue
                for s in st_series:
                    yield series_row(s)


_INDENT = {'collection': 0, 'patient': 2, 'study': 4, 'series': 6}


def _counts(res: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ('PatientCount', 'patients'),
        ('StudyCount', 'studies'),
        ('SeriesCount', 'series'),
        ('ImageCount', 'images'),
    ):
        if key in res:
            parts.append(f'{res[key]:>5} {label}')
    if 'FileSize' in res:
        parts.append(f'{bytes2human(res["FileSize"]):>10}')
    return '  '.join(parts)


def format_row(res: dict[str, Any]) -> str:
    """One line of the human-readable listing."""
    kind = res.get('type', '')
    pad = ' ' * _INDENT.get(kind, 0)
    if kind == 'analysis-result':
        return (
            f'{kind:<16} {res.get("AnalysisResult")}  doi:{res.get("DOI")}  '
            f'{",".join(res.get("Collections") or ())}  '
            f'{",".join(res.get("Modalities") or ())}  '
            f'{res.get("Patients")} patients, {res.get("Series")} series'
        )
    if kind == 'collection':
        head = str(res.get('Collection'))
    elif kind == 'patient':
        head = str(res.get('PatientID'))
    elif kind == 'study':
        head = ' '.join(
            str(x)
            for x in (
                res.get('StudyDate', '----------'),
                res.get('StudyDescription', ''),
                res.get('StudyInstanceUID'),
            )
            if x
        )
    else:
        head = '{:<4} #{:<4} {} ({})'.format(
            res.get('Modality', '?'),
            res.get('SeriesNumber', '-'),
            res.get('SeriesInstanceUID'),
            res.get('SeriesDescription', ''),
        )
    counts = _counts(res)
    label = f'{pad}{kind:<10} {head}'
    return f'{label}  {counts}' if counts else label
