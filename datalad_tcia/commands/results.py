"""Pipeline outcomes -> DataLad result records (one mapping per kind)."""

from __future__ import annotations

import logging
from functools import singledispatch
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.utils import bytes2human
from datalad_next.exceptions import CapturedException

from datalad_tcia.hpc import SlurmJob
from datalad_tcia.pipeline import (
    AddSummary,
    ArchivesOutcome,
    CatalogOutcome,
    CloneOutcome,
    CollectionOutcome,
    MetadataOutcome,
    Outcome,
    PatientOutcome,
    Problem,
    SeriesOutcome,
)

lgr = logging.getLogger('datalad.tcia.commands.results')

#: the action of each stage's records, whichever command runs it
ACTIONS = {
    'plan': 'tcia_download',
    'series': 'tcia_download',
    'metadata': 'tcia_deposit_metadata',
    'patient': 'tcia_deposit_dataset',
    'collection': 'tcia_deposit_dataset',
    'catalog': 'tcia_catalog',
    'archives': 'tcia_add',
    'clone': 'tcia_add',
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


@singledispatch
def to_result(outcome: Outcome) -> dict[str, Any]:
    """The result record of ``outcome``."""
    msg = f'no result record for {type(outcome).__name__}'
    raise TypeError(msg)


@to_result.register
def _(outcome: Problem) -> dict[str, Any]:
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
def _(outcome: SeriesOutcome) -> dict[str, Any]:
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
    )
    if outcome.archive is not None:
        res['archive'] = str(outcome.archive)
        res['archive_md5'] = outcome.archive_md5
        res['archive_size'] = outcome.archive_size
    return res


@to_result.register
def _(outcome: MetadataOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['metadata'],
        outcome.status,
        outcome.message,
        path=str(outcome.path),
        type='file',
        archive=str(outcome.archive),
        SeriesInstanceUID=outcome.series_uid,
        files=outcome.files,
    )


@to_result.register
def _(outcome: PatientOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['patient'],
        outcome.status,
        outcome.message,
        type='dataset',
        path=str(outcome.path),
        PatientID=outcome.patient_id,
        patient_slug=outcome.slug,
        url=outcome.url,
        files=outcome.files,
        commit=outcome.commit,
        exception=outcome.exception,
    )


@to_result.register
def _(outcome: CollectionOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['collection'],
        outcome.status,
        outcome.message,
        type='dataset',
        path=str(outcome.path),
        Collection=outcome.collection,
        url=outcome.url,
        exception=outcome.exception,
    )


@to_result.register
def _(outcome: CatalogOutcome) -> dict[str, Any]:
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


@to_result.register
def _(outcome: ArchivesOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['archives'], outcome.status, outcome.message, path=str(outcome.path)
    )


@to_result.register
def _(outcome: CloneOutcome) -> dict[str, Any]:
    return record(
        ACTIONS['clone'],
        outcome.status,
        outcome.message,
        type='dataset',
        path=str(outcome.path),
    )


def slurm_result(outcome: SlurmJob) -> dict[str, Any]:
    """The record of a ``--slurm`` submission."""
    return record(
        'tcia_add',
        'ok',
        f'submitted job array {outcome.array_id} ({outcome.tasks} task(s), one '
        f'--shard each) and the collection step {outcome.final_id} (runs when '
        f'every task succeeded); scripts and logs in {outcome.directory}; to '
        f'run failed tasks again: bash {outcome.resubmit_script} TASK ...',
        type='slurm',
        path=str(outcome.directory),
        array_job=outcome.array_id,
        final_job=outcome.final_id,
        script=str(outcome.array_script),
        final_script=str(outcome.final_script),
        resubmit_script=str(outcome.resubmit_script),
        logs=outcome.logs,
    )


def summary_result(summary: AddSummary, path: str) -> dict[str, Any]:
    """The last record of tcia-add: what the run did, and whether it is
    complete."""
    urls = summary.urls
    message = (
        f'{summary.downloaded} series downloaded ({bytes2human(summary.bytes)}), '
        f'{summary.skipped} skipped, {summary.failed_series} failed; '
        f'{summary.files} files registered; {summary.deleted} archives deleted'
    )
    if urls:
        message += f'; clone: {urls[0]}'
    if summary.catalogs:
        message += f'; catalog: {summary.catalogs[0]}'
    if summary.failed:
        message += (
            '; not complete: see the records above, then run the same '
            'command again (what is done is kept)'
        )
    return record(
        'tcia_add',
        'error' if summary.failed else 'ok',
        message,
        type='summary',
        path=path,
        series_downloaded=summary.downloaded,
        series_skipped=summary.skipped,
        series_failed=summary.failed_series,
        files_registered=summary.files,
        bytes_downloaded=summary.bytes,
        archives_deleted=summary.deleted,
        clone_urls=urls,
        catalogs=[str(c) for c in summary.catalogs],
    )
