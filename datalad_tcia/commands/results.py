"""Pipeline outcomes -> DataLad result records (one mapping per kind)."""

from __future__ import annotations

import logging
from functools import singledispatch
from typing import Any

from datalad.interface.results import get_status_dict
from datalad_next.exceptions import CapturedException

from datalad_tcia import pipeline as pl

lgr = logging.getLogger('datalad.tcia.commands.results')

#: the action of each stage's records, whichever command runs it
ACTIONS = {
    **dict.fromkeys(('plan', 'series'), 'tcia_download'),
    'metadata': 'tcia_deposit_metadata',
    **dict.fromkeys(('patient', 'collection', 'top'), 'tcia_deposit_dataset'),
    'catalog': 'tcia_catalog',
    **dict.fromkeys(('archives', 'clone'), 'tcia_add'),
    'get': 'tcia_get',
}


def record(action: str, status: str, message: str, **fields: Any) -> dict[str, Any]:
    """A result record; fields that are ``None`` are left out."""
    exc = fields.pop('exception', None)
    if exc is not None:
        fields['exception'] = CapturedException(exc)
    fields = {k: v for k, v in fields.items() if v is not None}
    return get_status_dict(
        action=action, status=status, message=message, logger=lgr, **fields
    )


def _about(action: str, kind: str | None, o: Any, **fields: Any) -> dict[str, Any]:
    """The record of an outcome ``o`` about the ``kind`` at ``o.path``."""
    fields.update(type=kind, path=str(o.path))
    return record(action, o.status, o.message, **fields)


@singledispatch
def to_result(outcome: pl.Outcome) -> dict[str, Any]:
    """The result record of ``outcome``."""
    msg = f'no result record for {type(outcome).__name__}'
    raise TypeError(msg)


@to_result.register
def _(outcome: pl.Problem) -> dict[str, Any]:
    return record(
        ACTIONS[outcome.stage],
        outcome.status,
        outcome.message,
        path=str(outcome.path) if outcome.path else None,
        type=outcome.kind,
        input=outcome.value,
        exception=outcome.exception,
    )


@to_result.register
def _(outcome: pl.SeriesOutcome) -> dict[str, Any]:
    s = outcome.series
    res = record(
        ACTIONS['series'],
        outcome.status,
        outcome.message,
        type='file',
        Collection=s.collection,
        PatientID=s.patient_id,
        StudyInstanceUID=s.study_uid,
        SeriesInstanceUID=s.series_uid,
        ImageCount=s.image_count,
        attempts=outcome.attempts,
        path=str(outcome.metadata) if outcome.metadata else None,
        problems=outcome.problems or None,
        source=outcome.source,
        bytes_received=outcome.received,
    )
    if outcome.archive is not None:
        res['archive'] = str(outcome.archive)
        res['archive_md5'] = outcome.archive_md5
        res['archive_size'] = outcome.archive_size
    return res


@to_result.register
def _(outcome: pl.WithdrawnOutcome) -> dict[str, Any]:
    s = outcome.series
    return _about(
        ACTIONS['series'],
        'file',
        outcome,
        Collection=s.collection,
        PatientID=s.patient_id,
        SeriesInstanceUID=s.series_uid,
        withdrawn=True,
        files=outcome.files,
    )


@to_result.register
def _(outcome: pl.IdcOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['patient'],
        outcome.status,
        outcome.message,
        type='idc',
        PatientID=outcome.patient_id,
        idc_series=outcome.listed,
        idc_matched=outcome.matched,
        idc_files=outcome.files,
        warnings=outcome.warnings or None,
    )


@to_result.register
def _(outcome: pl.MetadataOutcome) -> dict[str, Any]:
    return _about(
        ACTIONS['metadata'],
        'file',
        outcome,
        archive=str(outcome.archive),
        SeriesInstanceUID=outcome.series_uid,
        files=outcome.files,
    )


@to_result.register
def _(outcome: pl.PatientOutcome) -> dict[str, Any]:
    return _about(
        ACTIONS['patient'],
        'dataset',
        outcome,
        PatientID=outcome.patient_id,
        patient_slug=outcome.slug,
        url=outcome.url,
        files=outcome.files,
        commit=outcome.commit,
        exception=outcome.exception,
    )


@to_result.register
def _(outcome: pl.CollectionOutcome) -> dict[str, Any]:
    return _about(
        ACTIONS['collection'],
        'dataset',
        outcome,
        Collection=outcome.collection,
        url=outcome.url,
        version=outcome.version,
        exception=outcome.exception,
    )


@to_result.register
def _(o: pl.TopOutcome) -> dict[str, Any]:
    more = {'url': o.url, 'version': o.version, 'collections': o.collections}
    return _about(ACTIONS['top'], 'dataset', o, exception=o.exception, **more)


@to_result.register
def _(outcome: pl.CatalogOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['catalog'],
        outcome.status,
        outcome.message,
        type='directory' if outcome.status == 'ok' else None,
        path=str(outcome.path),
        url=outcome.url,
        doi=outcome.doi,
        exception=outcome.exception,
    )


@to_result.register(pl.ArchivesOutcome)
@to_result.register(pl.CloneOutcome)
def _(outcome: pl.ArchivesOutcome | pl.CloneOutcome) -> dict[str, Any]:
    kind = 'dataset' if isinstance(outcome, pl.CloneOutcome) else None
    return _about(ACTIONS['clone'], kind, outcome)


@to_result.register
def _(outcome: pl.GetOutcome) -> dict[str, Any]:
    return _about(
        ACTIONS['get'],
        'dataset',
        outcome,
        files=outcome.files,
        bytes=outcome.bytes,
        fallback=outcome.fallback or None,
        failed=outcome.failed or None,
        installed=outcome.installed,
    )
