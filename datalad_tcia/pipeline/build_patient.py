"""The patient unit of work: build or update one patient dataset from its
metadata records and write its export.

Nothing here reads or writes another patient's state: patients can be
worked on by separate threads, processes or cluster jobs.
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from datalad.runner.exception import CommandError
from datalad.support.exceptions import IncompleteResultsError

from datalad_tcia.dataset import (
    NewRepository,
    PlanError,
    SubdatasetEntry,
    UpdateResult,
    init_repository,
    plan_patient,
    remove_stale_datasets,
    series_summary,
    update_dataset,
)
from datalad_tcia.export import ExportResult, clone_url, export_dataset
from datalad_tcia.metadata import MetadataError, SeriesRecords
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked
from datalad_tcia.store.git import GitError, dataset_id, git_line, rev_parse

from .gather_provenance import PatientSummary, summarize_patient
from .idc_sources import IdcSources, refresh_idc
from .ledger import BuiltPatient, save_built
from .outcomes import IdcOutcome, PatientOutcome
from .withdraw import withdrawn_since

lgr = logging.getLogger('datalad.tcia.pipeline.build_patient')

#: what building or exporting a dataset can raise besides a bad plan
BUILD_ERRORS = (GitError, CommandError, IncompleteResultsError, OSError)


@dataclass(frozen=True)
class PatientWork:
    """Everything the patient step needs.

    Attributes
    ----------
    layout: StoreLayout
      The collection's place in the store.
    patient_id: str
      NBIA's PatientID.
    slug: str
      Its path-safe name (working copy and export).
    patient_series: sequence of SeriesRecords
      The patient's series.
    base_url: str
      The store's URL, for clone URLs.
    template: str
      Path template of the files (see ``--layout``).
    git_files: mapping
      Files committed to git (the collection's LICENSE).
    force: bool
      Replace an export that holds another history.
    idc: IdcSources, optional
      Where to look for IDC's copies of the files (no IDC step if
      ``None``).
    prune: bool
      Remove files that are no longer in the patient's records (off when
      part of the collection's records could not be read).
    stamps: mapping
      The stamps of the series records (see
      :meth:`~datalad_tcia.store.StoreLayout.record_stamps`), taken before
      they were read: what the built record says the dataset is built
      from.
    conditions: mapping, optional
      The build's conditions (:func:`~.ledger.build_conditions`); without,
      no built record is written.
    """

    layout: StoreLayout
    patient_id: str
    slug: str
    patient_series: Sequence[SeriesRecords]
    base_url: str
    template: str
    git_files: Mapping[str, bytes]
    force: bool = False
    idc: IdcSources | None = None
    prune: bool = True
    stamps: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    conditions: Mapping[str, str | None] | None = None


@dataclass
class _Progress:
    """What the patient step has learnt so far, for its outcome (also
    when it fails part of the way)."""

    found: IdcOutcome | None = None
    summary: PatientSummary | None = None
    new: NewRepository | None = None
    tmp: Path | None = None


@dataclass(frozen=True)
class _Built:
    update: UpdateResult
    pushed: ExportResult
    entry: SubdatasetEntry
    files: int


def build_patient(work: PatientWork) -> PatientOutcome:
    """Build or update the patient's dataset and write its export."""
    layout = work.layout
    path = layout.repo(work.slug)
    url = clone_url(work.base_url, layout.patient_export(work.slug).relpath)
    progress = _Progress()

    def outcome(status: str, message: str, **kwargs: Any) -> PatientOutcome:
        return PatientOutcome(
            status,
            message,
            work.patient_id,
            work.slug,
            path,
            url,
            idc=progress.found,
            summary=progress.summary,
            **kwargs,
        )

    try:
        with StoreLock(layout.patient_lock(work.patient_id)):
            built = _build_and_export(work, path, url, progress)
    except StoreLocked as e:
        return outcome('impossible', str(e))
    except (PlanError, MetadataError, *BUILD_ERRORS) as e:
        if progress.new is not None and progress.tmp and progress.tmp.exists():
            shutil.rmtree(progress.tmp, ignore_errors=True)
        return outcome(
            'error', failure_message(f'patient {work.patient_id}', e), exception=e
        )
    if built.pushed.status == 'impossible':
        return outcome('impossible', built.pushed.message)
    done = _changes(built.update)
    return outcome(
        'ok' if done or built.pushed.status == 'ok' else 'notneeded',
        '; '.join([*done, 'exported']) if done else built.pushed.message,
        files=built.files,
        commit=built.entry.commit,
        entry=built.entry,
    )


def _build_and_export(
    work: PatientWork, path: Path, url: str, progress: _Progress
) -> _Built:
    """The patient step under its lock: IDC's sources, the dataset's new
    state, its export and its built record."""
    layout = work.layout
    patient_series = work.patient_series
    if work.idc is not None:
        patient_series, progress.found = refresh_idc(
            layout, work.patient_id, patient_series, work.idc
        )
    files, sources = plan_patient(patient_series, work.template, layout.collection)
    new = None
    if not (path / '.git').exists():
        # a working copy under a temporary name was left by a run killed
        # while creating it: it is no dataset, start afresh
        remove_stale_datasets(layout.stale_repos_of(work.slug))
        progress.tmp = layout.temp_path(path)
        new = progress.new = init_repository(
            progress.tmp,
            f'TCIA {layout.collection} patient {work.patient_id}',
            work.template,
        )
    update = update_dataset(
        progress.tmp if new and progress.tmp else path,
        files,
        sources,
        work.git_files,
        partial(_message, work, patient_series, len(files)),
        new=new,
        template=work.template,
        prune=work.prune,
    )
    if new and progress.tmp:
        progress.tmp.rename(path)
    pushed = export_dataset(path, layout.patient_export(work.slug), force=work.force)
    entry = SubdatasetEntry(
        work.slug,
        url,
        new.dataset_id if new else dataset_id(path),
        update.commit or rev_parse(path, 'HEAD'),
    )
    progress.summary = summarize_patient(layout.collection, patient_series)
    # a series IDC could not list is tried again on the next run: the
    # patient is not done until then
    retry = progress.found is not None and bool(progress.found.warnings)
    if pushed.status != 'impossible' and work.conditions and not retry:
        _record_built(work, patient_series, entry, len(files), progress.summary)
    return _Built(update, pushed, entry, len(files))


def _changes(update: UpdateResult) -> list[str]:
    """What an update changed, in words."""
    done = []
    if update.added + update.changed + update.removed:
        done.append(
            f'{update.added} file(s) added, {update.changed} changed'
            + (f', {update.removed} removed' if update.removed else '')
        )
    if update.sourced:
        done.append(f'{update.sourced} file(s) gained sources')
    if update.remotes:
        done.append('special remotes configured anew')
    return done


def _record_built(
    work: PatientWork,
    patient_series: Sequence[SeriesRecords],
    entry: SubdatasetEntry,
    files: int,
    summary: PatientSummary,
) -> None:
    """Write the patient's built record: the stamps its series records had
    before they were read (a record the IDC step rewrote just now: its new
    stamp; under the patient's lock, nothing else writes them)."""
    layout = work.layout
    before = {d.record.series_uid: d for d in work.patient_series}
    stamps = {}
    for dep in patient_series:
        uid = dep.record.series_uid
        stamp = work.stamps.get(uid)
        if stamp is None or before.get(uid) is not dep:
            st = layout.archive_metadata(uid).stat()
            stamp = (st.st_size, st.st_mtime_ns)
        stamps[uid] = stamp
    assert work.conditions is not None  # noqa: S101
    save_built(
        layout,
        BuiltPatient(
            work.patient_id,
            work.slug,
            layout.collection,
            entry.commit,
            entry.dataset_id,
            files,
            stamps,
            work.conditions,
            summary,
        ),
    )


def failure_message(what: str, e: BaseException) -> str:
    """What failed, why, and what to do about it."""
    text = str(e)
    if isinstance(e, OSError) and e.filename:
        text = f'{e.strerror or e} ({e.filename})'
    if getattr(e, 'errno', None) == errno.ENOSPC or any(
        sign in text for sign in ('No space left on device', 'OutOfSpaceError')
    ):
        advice = (
            'the store is full (git-annex also keeps annex.diskreserve, '
            '100 MB by default, free): make room and run again'
        )
    else:
        advice = 'run again; the datasets and exports done so far are kept'
    return f'{what}: {text}; {advice}'


def _message(
    work: PatientWork,
    patient_series: Sequence[SeriesRecords],
    n_files: int,
    update: UpdateResult,
) -> str:
    api = next((d.record.api_url for d in patient_series), None) or 'NBIA'
    lines = [
        f'Register {n_files} DICOM file(s) of TCIA {work.layout.collection} '
        f'patient {work.patient_id}'
        if patient_series
        else f'Withdraw every series of TCIA {work.layout.collection} patient '
        f'{work.patient_id}',
        '',
        f'Sources: {api} (getSingleImage'
        + (
            ', getImage archive members)'
            if any(d.record.archive_url for d in patient_series)
            else ')'
        ),
    ]
    idc = [d.record.idc for d in patient_series if d.record.idc]
    if idc:
        lines.append(
            f'and IDC (idc-index-data {idc[0].idc_version}): '
            f'{sum(i.matched for i in idc)} file(s) '
            + (
                'listed with their MD5 and size in its bucket'
                if all(d.record.source == 'idc' for d in patient_series)
                else 'matched by MD5 and size'
            )
        )
    if update.changed or update.removed:
        lines.append(
            f'{update.changed} file(s) changed and {update.removed} removed '
            'upstream; the previous version keeps them, with their sources'
        )
    since = _head_time(work.layout.repo(work.slug))
    revised = [
        d for d in patient_series if d.record.revised and d.record.revised.time > since
    ]
    if revised:
        lines += ['', 'Revised upstream since the last version:']
        lines += [
            f'- {d.record.series_uid} ({d.record.source.upper()}): '
            f'{d.record.revised.changes}'
            for d in revised
            if d.record.revised
        ]
    gone = withdrawn_since(work.layout, work.patient_id, since)
    if gone:
        lines += ['', 'Withdrawn from NBIA since the last version:']
        lines += [f'- {uid}' for uid in gone]
    lines += ['', 'Series:']
    lines += [
        f'- {series_summary(d)}'
        for d in sorted(patient_series, key=lambda d: d.record.series_uid)
    ]
    return '\n'.join(lines) + '\n'


def _head_time(repo: Path) -> float:
    """When the working copy's last commit was made (0 for a new one)."""
    try:
        return float(git_line(repo, 'log', '-1', '--format=%ct'))
    except (GitError, OSError, ValueError):
        return 0.0
