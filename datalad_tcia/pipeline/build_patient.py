"""The patient unit of work: build or update one patient dataset from its
metadata deposit and write its deposit.

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
from datalad_tcia.export import clone_url, push_deposit
from datalad_tcia.metadata import MetadataError, SeriesRecords
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked
from datalad_tcia.store.git import GitError, dataset_id, git_line, rev_parse

from .gather_provenance import PatientSummary, summarize_patient
from .idc_sources import IdcSources, refresh_idc
from .ledger import BuiltPatient, save_built
from .outcomes import IdcOutcome, PatientOutcome
from .withdraw import withdrawn_since

lgr = logging.getLogger('datalad.tcia.pipeline.build_patient')

#: what building or depositing a dataset can raise besides a bad plan
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
      Its path-safe name (working copy and deposit).
    deposits: sequence of SeriesRecords
      The patient's series.
    base_url: str
      The store's URL, for clone URLs.
    template: str
      Path template of the files (see ``--layout``).
    git_files: mapping
      Files committed to git (the collection's LICENSE).
    force: bool
      Replace a deposit that holds another history.
    idc: IdcSources, optional
      Where to look for IDC's copies of the files (no IDC step if
      ``None``).
    prune: bool
      Remove files that are no longer in the patient's deposit (off when
      part of the collection's deposit could not be read).
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
    deposits: Sequence[SeriesRecords]
    base_url: str
    template: str
    git_files: Mapping[str, bytes]
    force: bool = False
    idc: IdcSources | None = None
    prune: bool = True
    stamps: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    conditions: Mapping[str, str | None] | None = None


def build_patient(work: PatientWork) -> PatientOutcome:
    """Build or update the patient's dataset and write its deposit."""
    layout = work.layout
    path = layout.repo(work.slug)
    deposit = layout.patient_deposit(work.slug)
    url = clone_url(work.base_url, deposit.relpath)

    def outcome(
        status: str,
        message: str,
        *,
        files: int | None = None,
        commit: str | None = None,
        entry: SubdatasetEntry | None = None,
        exception: BaseException | None = None,
    ) -> PatientOutcome:
        return PatientOutcome(
            status,
            message,
            work.patient_id,
            work.slug,
            path,
            url,
            files=files,
            commit=commit,
            entry=entry,
            exception=exception,
            idc=found,
            summary=summary,
        )

    new: NewRepository | None = None
    found: IdcOutcome | None = None
    summary: PatientSummary | None = None
    deposits = work.deposits
    tmp = path
    try:
        with StoreLock(layout.patient_lock(work.patient_id)):
            if work.idc is not None:
                deposits, found = refresh_idc(
                    layout, work.patient_id, deposits, work.idc
                )
            files, sources = plan_patient(deposits, work.template, layout.collection)
            if not (path / '.git').exists():
                # a working copy under a temporary name was left by a run
                # killed while creating it: it is no dataset, start afresh
                remove_stale_datasets(layout.stale_repos_of(work.slug))
                tmp = layout.temp_path(path)
                new = init_repository(
                    tmp,
                    f'TCIA {layout.collection} patient {work.patient_id}',
                    work.template,
                )
            update = update_dataset(
                tmp if new else path,
                files,
                sources,
                work.git_files,
                partial(_message, work, deposits, len(files)),
                new=new,
                template=work.template,
                prune=work.prune,
            )
            if new:
                tmp.rename(path)
            pushed = push_deposit(path, deposit, force=work.force)
            commit = update.commit or rev_parse(path, 'HEAD')
            entry = SubdatasetEntry(
                work.slug, url, new.dataset_id if new else dataset_id(path), commit
            )
            summary = summarize_patient(layout.collection, deposits)
            # a series IDC could not list is tried again on the next run:
            # the patient is not done until then
            retry = found is not None and bool(found.warnings)
            if pushed.status != 'impossible' and work.conditions and not retry:
                _record_built(work, deposits, entry, len(files), summary)
    except StoreLocked as e:
        return outcome('impossible', str(e))
    except (PlanError, MetadataError, *BUILD_ERRORS) as e:
        if new is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        return outcome(
            'error', failure_message(f'patient {work.patient_id}', e), exception=e
        )
    if pushed.status == 'impossible':
        return outcome('impossible', pushed.message)
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
    return outcome(
        'ok' if done or pushed.status == 'ok' else 'notneeded',
        '; '.join([*done, 'deposited']) if done else pushed.message,
        files=len(files),
        commit=commit,
        entry=entry,
    )


def _record_built(
    work: PatientWork,
    deposits: Sequence[SeriesRecords],
    entry: SubdatasetEntry,
    files: int,
    summary: PatientSummary,
) -> None:
    """Write the patient's built record: the stamps its series records had
    before they were read (a record the IDC step rewrote just now: its new
    stamp; under the patient's lock, nothing else writes them)."""
    layout = work.layout
    before = {d.record.series_uid: d for d in work.deposits}
    stamps = {}
    for dep in deposits:
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
        advice = 'run again; the datasets and deposits done so far are kept'
    return f'{what}: {text}; {advice}'


def _message(
    work: PatientWork,
    deposits: Sequence[SeriesRecords],
    n_files: int,
    update: UpdateResult,
) -> str:
    api = next((d.record.api_url for d in deposits), None) or 'NBIA'
    lines = [
        f'Register {n_files} DICOM file(s) of TCIA {work.layout.collection} '
        f'patient {work.patient_id}'
        if deposits
        else f'Withdraw every series of TCIA {work.layout.collection} patient '
        f'{work.patient_id}',
        '',
        f'Sources: {api} (getSingleImage'
        + (
            ', getImage archive members)'
            if any(d.record.archive_url for d in deposits)
            else ')'
        ),
    ]
    idc = [d.record.idc for d in deposits if d.record.idc]
    if idc:
        lines.append(
            f'and IDC (idc-index-data {idc[0].idc_version}): '
            f'{sum(i.matched for i in idc)} file(s) '
            + (
                'listed with their MD5 and size in its bucket'
                if all(d.record.source == 'idc' for d in deposits)
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
        d for d in deposits if d.record.revised and d.record.revised.time > since
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
        for d in sorted(deposits, key=lambda d: d.record.series_uid)
    ]
    return '\n'.join(lines) + '\n'


def _head_time(repo: Path) -> float:
    """When the working copy's last commit was made (0 for a new one)."""
    try:
        return float(git_line(repo, 'log', '-1', '--format=%ct'))
    except (GitError, OSError, ValueError):
        return 0.0
