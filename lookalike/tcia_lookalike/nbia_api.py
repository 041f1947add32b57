"""NBIA v4 REST semantics of the look-alike, as documented server behaviour.

This module turns a request (endpoint name, query, form) into a
:class:`Reply`. It deliberately keeps its own table of allowed parameters
(from the NBIA server source, not from the client's endpoint table), so that
a client sending a wrong or mis-cased parameter gets the same 400 it would
get from TCIA.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from .data import Archive, Series
from .rows import (
    Row,
    nbia_series_row,
    patient_row,
    series_metadata_row,
    study_row,
)

Params = Mapping[str, list[str]]

ERROR_500 = 'Server was not able to process your request'

# v4 allowed parameter sets (SRV v4/*.java); names are case-sensitive
ALLOWED: dict[str, frozenset[str]] = {
    'getCollectionValues': frozenset({'format'}),
    'getModalityValues': frozenset({'Collection', 'BodyPartExamined', 'format'}),
    'getBodyPartValues': frozenset({'Collection', 'Modality', 'format'}),
    'getManufacturerValues': frozenset(
        {'Collection', 'Modality', 'BodyPartExamined', 'format'}
    ),
    'getPatient': frozenset({'Collection', 'PatientId', 'format'}),
    'getPatientStudy': frozenset(
        {'Collection', 'PatientID', 'StudyInstanceUID', 'format'}
    ),
    'getSeries': frozenset(
        {
            'Collection',
            'PatientID',
            'StudyInstanceUID',
            'Modality',
            'BodyPartExamined',
            'ManufacturerModelName',
            'Manufacturer',
            'SeriesInstanceUID',
            'format',
        }
    ),
    'getSeriesSize': frozenset({'SeriesInstanceUID', 'format'}),
    'getSOPInstanceUIDs': frozenset({'SeriesInstanceUID', 'format'}),
    'getSeriesMetadata': frozenset({'list', 'format'}),
    'getImage': frozenset({'SeriesInstanceUID', 'NewFileNames', 'IncludeMD5'}),
    'getSingleImage': frozenset({'SeriesInstanceUID', 'SOPInstanceUID'}),
}

POST_ONLY = frozenset({'getSeriesMetadata'})


@dataclass
class Reply:
    """What the HTTP layer should send.

    ``stream`` is set for ``getImage``: the series whose ZIP is to be written
    on the fly, with ``stream_options``.
    """

    status: int = 200
    body: bytes = b''
    content_type: str | None = 'application/json'
    headers: dict[str, str] = field(default_factory=dict)
    stream: Series | None = None
    stream_options: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Quirks:
    """Optional deviations that real servers show.

    Attributes
    ----------
    string_numbers: bool
      Render every number in JSON as a string (as NBIA's v1
      ``getSeriesMetaData`` and some proxies do).
    """

    string_numbers: bool = False


def _text(status: int, text: str, ctype: str = 'application/json') -> Reply:
    # NBIA labels many plain-text errors application/json
    return Reply(status, text.encode(), ctype)


def _first(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _eq(want: str | None, have: str | None) -> bool:
    return want is None or (have is not None and want.upper() == have.upper())


def _exact(want: str | None, have: str | None) -> bool:
    return want is None or want == have


# -- rendering ---------------------------------------------------------------


def render(
    rows: list[Row], fmt: str | None, quirks: Quirks, *, default: str = 'json'
) -> Reply:
    """Render rows the way NBIA's ``FormatOutput`` does."""
    # null columns are omitted (Jettison drops null values)
    rows = [{k: v for k, v in r.items() if v is not None} for r in rows]
    if not rows:
        # NBIA: Response.ok().build() -- 200, empty body, no content type
        return Reply(200, b'', None)
    fmt = (fmt or default).lower()
    if fmt == 'json':
        if quirks.string_numbers:
            rows = [{k: _stringify(v) for k, v in r.items()} for r in rows]
        body = json.dumps(rows, separators=(',', ':')).encode()
        return Reply(200, body, 'application/json')
    if fmt in ('csv', 'csvquoted', 'csv-download'):
        cols = list(dict.fromkeys(k for r in rows for k in r))
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator='\n')
        writer.writerow(cols)
        for r in rows:
            writer.writerow([r.get(c, '') for c in cols])
        headers = {}
        if fmt == 'csv-download':
            headers['Content-Disposition'] = 'attachment; filename="SeriesMetaData.csv"'
        return Reply(200, buf.getvalue().encode(), 'text/csv', headers)
    if fmt == 'xml':
        out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Results>']
        for r in rows:
            out.append('<Row>')
            out.extend(
                f"<Col type='java.lang.String'>{escape(str(v))}</Col>"
                for v in r.values()
            )
            out.append('</Row>')
        out.append('</Results>')
        return Reply(200, ''.join(out).encode(), 'application/xml')
    if fmt == 'html':
        cols = list(dict.fromkeys(k for r in rows for k in r))
        out = ["<P ALIGN='center'><TABLE BORDER=1><TR>"]
        out.extend(f'<TH>{escape(c)}</TH>' for c in cols)
        out.append('</TR>')
        for r in rows:
            out.append('<TR>')
            out.extend(f'<TD>{escape(str(r.get(c, "")))}</TD>' for c in cols)
            out.append('</TR>')
        out.append('</TABLE>')
        return Reply(200, ''.join(out).encode(), 'text/html')
    return _text(500, ERROR_500, 'text/plain')


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


# -- endpoints ---------------------------------------------------------------


def handle(
    archive: Archive,
    name: str,
    method: str,
    query: Params,
    form: Params,
    quirks: Quirks,
) -> Reply:
    """Answer one v4 API call."""
    handler = _HANDLERS.get(name)
    if handler is None:
        return Reply(404, b'<html><body>Not Found</body></html>', 'text/html')
    if (name in POST_ONLY) != (method == 'POST'):
        return Reply(405, b'', 'text/plain')
    allowed = ALLOWED[name]
    given = form if method == 'POST' else query
    for param in given:
        if param not in allowed:
            return _text(
                400,
                f"Invalid query parameter: '{param}'. Allowed parameters are: "
                f'[{", ".join(sorted(allowed))}]',
                'text/plain',
            )
    return handler(archive, given, quirks)


def _series_where(archive: Archive, pred: Callable[[Series], bool]) -> list[Series]:
    return [s for s in archive.iter_series() if pred(s)]


def _get_collection_values(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    names = sorted({s.collection.name for s in archive.iter_series()})
    return render([{'Collection': n} for n in names], _first(q, 'format'), quirks)


def _distinct(values: Iterable[str | None]) -> list[str | None]:
    seen = {v.upper() if v else None for v in values}
    return sorted(seen, key=lambda v: (v is not None, v or ''))


def _get_modality_values(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    series = _series_where(
        archive,
        lambda s: (
            _eq(_first(q, 'Collection'), s.collection.name)
            and _eq(_first(q, 'BodyPartExamined'), s.body_part)
        ),
    )
    rows = [{'Modality': m} for m in _distinct(s.modality for s in series)]
    return render(rows, _first(q, 'format'), quirks)


def _get_body_part_values(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    series = _series_where(
        archive,
        lambda s: (
            _eq(_first(q, 'Collection'), s.collection.name)
            and _eq(_first(q, 'Modality'), s.modality)
        ),
    )
    # a NULL body part is rendered as {} (the null key is dropped)
    rows = [{'BodyPartExamined': b} for b in _distinct(s.body_part for s in series)]
    return render(rows, _first(q, 'format'), quirks)


def _get_manufacturer_values(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    series = _series_where(
        archive,
        lambda s: (
            _eq(_first(q, 'Collection'), s.collection.name)
            and _eq(_first(q, 'Modality'), s.modality)
            and _eq(_first(q, 'BodyPartExamined'), s.body_part)
        ),
    )
    rows = [{'Manufacturer': m} for m in _distinct(s.manufacturer for s in series)]
    return render(rows, _first(q, 'format'), quirks)


def _get_patient(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    rows = [
        patient_row(p)
        for c in archive.collections
        if _eq(_first(q, 'Collection'), c.name)
        for p in c.patients
        if _eq(_first(q, 'PatientId'), p.patient_id)
    ]
    return render(rows, _first(q, 'format'), quirks)


def _get_patient_study(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    rows = [
        study_row(st)
        for c in archive.collections
        if _eq(_first(q, 'Collection'), c.name)
        for p in c.patients
        if _eq(_first(q, 'PatientID'), p.patient_id)
        for st in p.studies
        if _exact(_first(q, 'StudyInstanceUID'), st.uid)
    ]
    return render(rows, _first(q, 'format'), quirks)


def _get_series(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    def pred(s: Series) -> bool:
        return (
            _eq(_first(q, 'Collection'), s.collection.name)
            and _eq(_first(q, 'PatientID'), s.patient.patient_id)
            and _exact(_first(q, 'StudyInstanceUID'), s.study.uid)
            and _exact(_first(q, 'SeriesInstanceUID'), s.uid)
            and _eq(_first(q, 'Modality'), s.modality)
            and _eq(_first(q, 'BodyPartExamined'), s.body_part)
            and _eq(_first(q, 'Manufacturer'), s.manufacturer)
            and _eq(_first(q, 'ManufacturerModelName'), s.model)
        )

    rows = [nbia_series_row(s) for s in _series_where(archive, pred)]
    return render(rows, _first(q, 'format'), quirks)


def _required_series(q: Params) -> str | Reply:
    uid = _first(q, 'SeriesInstanceUID')
    if not uid:
        return _text(
            400, 'A parameter, SeriesInstanceUID is required for this API call.'
        )
    return uid


def _get_series_size(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    uid = _required_series(q)
    if isinstance(uid, Reply):
        return uid
    s = archive.series(uid)
    rows = (
        [{'TotalSizeInBytes': s.file_size, 'ObjectCount': len(s.instances)}]
        if s
        else []
    )
    return render(rows, _first(q, 'format'), quirks)


def _get_sop_instance_uids(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    uid = _required_series(q)
    if isinstance(uid, Reply):
        return uid
    s = archive.series(uid)
    rows = [{'SOPInstanceUID': i.sop_uid} for i in (s.instances if s else [])]
    # the v4 query has no ORDER BY
    random.shuffle(rows)
    return render(rows, _first(q, 'format'), quirks)


def _get_series_metadata(archive: Archive, form: Params, quirks: Quirks) -> Reply:
    items = form.get('list')
    if not items:
        return _text(
            400,
            'A form parameter, list, containing at least one SeriesInstanceUID '
            'is required.',
        )
    uids: list[str] = []
    for item in items:
        # the server strips everything but digits, dots and commas
        cleaned = ''.join(ch for ch in item if ch.isdigit() or ch in '.,')
        uids.extend(u for u in cleaned.split(',') if u)
    rows = [series_metadata_row(s) for u in uids if (s := archive.series(u))]
    return render(rows, _first(form, 'format'), quirks, default='csv-download')


def _get_image(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    uid = _first(q, 'SeriesInstanceUID')
    if not uid:
        return _text(
            400, 'A parameter, SeriesInstanceUID, is required for this API call.'
        )
    s = archive.series(uid)
    if s is None:
        return _text(
            400,
            'The user has not been granted the access to image with given '
            f'SeriesInstanceUID,{uid}. Please contact System Admin to resolve '
            'this issue.',
        )
    return Reply(
        200,
        content_type='application/octet-stream',
        headers={'Content-Disposition': f'attachment; filename="{uid}.zip"'},
        stream=s,
        stream_options={
            'new_file_names': (_first(q, 'NewFileNames') or '').lower() == 'yes',
            'include_md5': (_first(q, 'IncludeMD5') or '').lower() == 'yes',
        },
    )


def _get_single_image(archive: Archive, q: Params, quirks: Quirks) -> Reply:
    series_uid = _first(q, 'SeriesInstanceUID')
    sop_uid = _first(q, 'SOPInstanceUID')
    if not series_uid or not sop_uid:
        return _text(
            400,
            'A parameter, SeriesInstanceUID and SOPInstanceUID, are required '
            'for this API call.',
        )
    inst = archive.instance(series_uid, sop_uid)
    if inst is None:
        # NBIA: NPE on a null DTO
        return _text(500, f'{ERROR_500}\nnull', 'text/plain')
    return Reply(
        200,
        inst.data,
        'application/dicom',
        {'Content-Disposition': f'attachment; filename={sop_uid}.dcm'},
    )


_HANDLERS: dict[str, Callable[[Archive, Params, Quirks], Reply]] = {
    'getCollectionValues': _get_collection_values,
    'getModalityValues': _get_modality_values,
    'getBodyPartValues': _get_body_part_values,
    'getManufacturerValues': _get_manufacturer_values,
    'getPatient': _get_patient,
    'getPatientStudy': _get_patient_study,
    'getSeries': _get_series,
    'getSeriesSize': _get_series_size,
    'getSOPInstanceUIDs': _get_sop_instance_uids,
    'getSeriesMetadata': _get_series_metadata,
    'getImage': _get_image,
    'getSingleImage': _get_single_image,
}
