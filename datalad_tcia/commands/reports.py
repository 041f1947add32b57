"""The last records of ``tcia-add``: the run's summary, or what was
submitted to SLURM."""

from __future__ import annotations

from typing import Any

from datalad.utils import bytes2human

from datalad_tcia.hpc import SlurmJob
from datalad_tcia.pipeline import AddSummary

from .results import record


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
    via = (
        f', {summary.from_idc} of them from IDC without pixel data'
        if summary.from_idc
        else ''
    )
    message = (
        f'{summary.downloaded} series downloaded ({bytes2human(summary.bytes)}'
        f'{via}), {summary.skipped} skipped, {summary.failed_series} failed; '
        f'{summary.files} files registered; {summary.deleted} archives deleted'
    )
    if summary.withdrawn:
        message += f'; {summary.withdrawn} series withdrawn upstream'
    if summary.idc_files or summary.idc_warnings:
        message += f'; {summary.idc_files} file(s) gained IDC sources'
    if summary.idc_warnings:
        message += (
            f' ({summary.idc_warnings} series could not be listed at IDC: '
            'run again later to add theirs)'
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
        series_from_idc=summary.from_idc,
        series_skipped=summary.skipped,
        series_failed=summary.failed_series,
        files_registered=summary.files,
        bytes_downloaded=summary.bytes,
        archives_deleted=summary.deleted,
        series_withdrawn=summary.withdrawn,
        idc_files=summary.idc_files,
        idc_warnings=summary.idc_warnings,
        clone_urls=urls,
        catalogs=[str(c) for c in summary.catalogs],
    )
