"""The dataset stage of a collection: every patient (each under its own
lock), then the collection superdataset (under the collection's lock)."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datalad_tcia.datacite import Citation
from datalad_tcia.dataset import SubdatasetEntry
from datalad_tcia.metadata import CollectionRecords, SeriesRecords, read_collection
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, unwritable

from .build_collection import (
    SelfDescription,
    build_collection,
    license_files_of,
    prepare_collection,
)
from .build_patient import PatientWork, build_patient
from .gather_provenance import (
    PatientSummary,
    provenance_of,
    summarize_patient,
    summarize_patients,
)
from .ledger import Unchanged, build_conditions, gather_built, load_built
from .link_references import (
    ANALYSIS_FILE,
    described_collections,
    index_citation,
    link_analysis_result,
    record_bytes,
)
from .make_version import record_built
from .outcomes import CollectionOutcome, IdcOutcome, PatientOutcome, Problem
from .withdraw import withdrawn_patients

if TYPE_CHECKING:
    from .settings import RunSettings

lgr = logging.getLogger('datalad.tcia.pipeline.build_datasets')

#: seconds to wait for the collection's lock (held to assign slugs and for
#: the superdataset; a run that holds it longer is doing something else)
COLLECTION_LOCK_WAIT = 120.0


@dataclass
class CollectionContext:
    """A collection as the dataset stage works on it, made once per run.

    Attributes
    ----------
    layout: StoreLayout
      Where the collection is in the store.
    stored: CollectionRecords
      The records read: of the patients whose datasets must be built.
    done: Unchanged
      The patients whose datasets are built from their records as they
      are (their records are not read).
    git_files: mapping
      Files every patient dataset commits to git (the LICENSE).
    conditions: mapping
      What the datasets are built under (:func:`~.ledger.build_conditions`).
    stamps: mapping
      The series records' stamps, taken before any record was read.
    """

    layout: StoreLayout
    stored: CollectionRecords
    done: Unchanged
    git_files: dict[str, bytes]
    conditions: Mapping[str, str | None]
    stamps: Mapping[str, tuple[int, int]]


def collection_context(
    settings: RunSettings, collection: str, stored: CollectionRecords | None = None
) -> CollectionContext:
    """Read what the dataset stage of ``collection`` needs: only the
    records of patients not built from them as they are (``stored``: the
    caller read them all already)."""
    first = (
        stored.layout if stored is not None else StoreLayout(settings.store, collection)
    )
    stamps = first.record_stamps()  # before any record is read
    idc_version = settings.idc.index.version if settings.idc else None
    done = Unchanged(
        first, stamps, {} if settings.force else load_built(first), settings.template
    )
    done.keep(idc_version)
    if stored is None:
        # an unchanged patient's records are not even read
        name = next((r.collection for r in done.records.values()), collection)
        stored = read_collection(settings.store, name, only=done.unknown())
        done.discard(stored.patients)
    else:
        done.discard_unlike(stored.patients)
    while True:
        git_files = license_files_of([*done.summaries(), *summarize_patients(stored)])
        conditions = build_conditions(settings.template, git_files, idc_version)
        done.discard_unless(conditions)
        missing = done.unread(stored.patients)
        if not missing:
            break
        more = read_collection(settings.store, stored.layout.collection, only=missing)
        for pid, deps in more.patients.items():
            mine = stored.patients.setdefault(pid, [])
            mine.extend(deps)
            mine.sort(key=lambda d: d.record.series_uid)  # as read at once
        stored.problems.extend(more.problems)
    return CollectionContext(stored.layout, stored, done, git_files, conditions, stamps)


def build_datasets(
    settings: RunSettings,
    collection: str,
    *,
    stored: CollectionRecords | None = None,
    patients: Iterable[str] | None = None,
    collection_step: bool = True,
    citation: Citation | None = None,
) -> Iterator[PatientOutcome | CollectionOutcome | IdcOutcome | Problem]:
    """Build and export the patient datasets and the superdataset of
    ``collection`` (name or collection id) from its metadata records
    (``stored``, if the caller has read them already).

    Only ``patients`` (PatientIDs), if given, are built. Each patient is
    built under its own lock, so that other processes can build the
    collection's other patients at the same time; the collection's lock
    is held only to assign slugs and for the collection step (the
    superdataset and its export), which ``collection_step=False`` skips.
    With ``settings.idc``, each patient's files gain IDC's URLs first (see
    :func:`~.idc_sources.refresh_idc`). ``citation`` (the collection's
    DataCite record) becomes the collection dataset's ``CITATION.cff``. A
    collection of more than ``settings.group_above`` patients holds them in
    group datasets; files are named by ``settings.template``.
    """
    context = collection_context(settings, collection, stored)
    for problem in context.stored.problems:
        yield Problem('patient', 'error', problem)
    if not context.stored.patients and not context.done.records:
        yield Problem(
            'patient',
            'impossible',
            f'no metadata of collection {collection!r} in the store '
            f'{settings.store}; run "datalad tcia-download" first',
            path=settings.store,
        )
        return
    slugs = yield from _slugs(context, settings.group_above)
    if slugs is None:
        return
    series_of = _series_of(context, slugs, patients is None)
    current = context.done.records
    chosen = sorted({*series_of, *current} if patients is None else patients)
    works = [
        _work(settings, context, pid, slugs[pid], series_of[pid])
        for pid in chosen
        if pid in series_of and pid not in current
    ]
    if settings.idc is not None:
        # one index query for the collection, not one per patient
        settings.idc.locate(
            [d.record.series_uid for w in works for d in w.patient_series]
        )
    parts = _Parts(changed=bool(works))
    yield from _unchanged(context, chosen, settings.base_url, parts)
    yield from _build_patients(settings, context, works, series_of, parts)
    if parts.entries and collection_step:
        yield from _collection_step(settings, context, parts, citation)


@dataclass
class _Parts:
    """What the patients gave the collection step."""

    changed: bool
    entries: list[SubdatasetEntry] = field(default_factory=list)
    summaries: list[PatientSummary] = field(default_factory=list)
    failed: bool = False


def _slugs(
    context: CollectionContext, group_above: int
) -> Generator[Problem, None, dict[str, str] | None]:
    """The patients' slugs, assigned under the collection's lock (which
    other processes, shards, hold as briefly: waited for)."""
    layout = context.layout
    try:
        with StoreLock(layout.lock, wait=COLLECTION_LOCK_WAIT):
            return prepare_collection(context.stored, group_above)
    except StoreLocked as e:
        yield Problem('patient', 'impossible', str(e), path=layout.root)
    except OSError as e:
        yield Problem(
            'patient', 'impossible', unwritable(layout.root, e), path=layout.root
        )
    return None


def _series_of(
    context: CollectionContext, slugs: Mapping[str, str], whole: bool
) -> dict[str, list[SeriesRecords]]:
    """Each patient's series to build from; with the ``whole`` collection,
    a patient whose every series was withdrawn keeps its dataset, updated
    to hold no file (its history keeps them)."""
    layout = context.layout
    series_of: dict[str, list[SeriesRecords]] = dict(context.stored.patients)
    if whole:
        gone = withdrawn_patients(layout) - set(series_of) - set(context.done.records)
        for pid in gone:
            if pid in slugs and (layout.repo(slugs[pid]) / '.git').exists():
                series_of[pid] = []
    return series_of


def _work(
    settings: RunSettings,
    context: CollectionContext,
    pid: str,
    slug: str,
    series: list[SeriesRecords],
) -> PatientWork:
    return PatientWork(
        context.layout,
        pid,
        slug,
        series,
        settings.base_url,
        settings.template,
        context.git_files,
        settings.force,
        settings.idc,
        not context.stored.problems,
        _stamps_of(series, context.stamps),
        context.conditions,
    )


def _unchanged(
    context: CollectionContext, chosen: Iterable[str], base_url: str, parts: _Parts
) -> Iterator[PatientOutcome]:
    """The patients whose datasets are built from their records as they
    are: ``notneeded``, as their built records say."""
    layout = context.layout
    for pid in chosen:
        rec = context.done.records.get(pid)
        if rec is None:
            continue
        entry = rec.entry(layout, base_url)
        parts.entries.append(entry)
        parts.summaries.append(rec.summary)
        yield PatientOutcome(
            'notneeded',
            'unchanged since its dataset was built',
            pid,
            rec.slug,
            layout.repo(rec.slug),
            entry.url,
            files=rec.files,
            commit=rec.commit,
            entry=entry,
            summary=rec.summary,
        )


def _build_patients(
    settings: RunSettings,
    context: CollectionContext,
    works: Sequence[PatientWork],
    series_of: Mapping[str, list[SeriesRecords]],
    parts: _Parts,
) -> Iterator[PatientOutcome | IdcOutcome]:
    """Each patient under its own lock (see :func:`build_patient`),
    ``settings.jobs`` at once."""
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        for outcome in pool.map(build_patient, works):
            if outcome.idc is not None and outcome.idc.status == 'ok':
                yield outcome.idc
            yield outcome
            if outcome.entry is None:
                parts.failed = True
                parts.summaries.append(
                    summarize_patient(
                        context.layout.collection, series_of[outcome.patient_id]
                    )
                )
            else:
                parts.entries.append(outcome.entry)
                parts.summaries.append(outcome.summary or PatientSummary())


def _collection_step(
    settings: RunSettings,
    context: CollectionContext,
    parts: _Parts,
    citation: Citation | None,
) -> Iterator[CollectionOutcome | Problem]:
    """The superdataset, under the collection's lock: what it says of
    itself, its patients, a version, its export."""
    layout = context.layout
    idc = settings.idc
    # what the datasets now reflect (the IDC step may have written records)
    fingerprint = layout.metadata_fingerprint(None if parts.changed else context.stamps)
    try:
        with StoreLock(layout.lock, wait=COLLECTION_LOCK_WAIT):
            # an analysis result: what its series describe, resolved
            analysis = link_analysis_result(
                layout,
                context.stored,
                idc.index if idc else None,
                changed=parts.changed,
            )
            files = dict(context.git_files)
            if analysis is not None:
                files[ANALYSIS_FILE] = record_bytes(analysis)
                # one of IDC's own (not TCIA's): as the index cites it
                citation = index_citation(analysis) or citation
            record = provenance_of(
                layout,
                parts.summaries,
                citation,
                idc.index.version if idc else None,
                described_collections(analysis),
            )
            built = build_collection(
                layout,
                parts.entries,
                settings.base_url,
                SelfDescription(files, record, citation),
                force=settings.force,
                patients_failed=parts.failed,
                jobs=settings.jobs,
            )
            if built.status in ('ok', 'notneeded') and not parts.failed:
                record_built(layout, fingerprint)
            gather_built(layout)
        yield built
    except StoreLocked as e:
        yield Problem('collection', 'impossible', str(e), path=layout.root)
    except OSError as e:
        yield Problem(
            'collection', 'impossible', unwritable(layout.root, e), path=layout.root
        )


def _stamps_of(
    deps: Iterable[SeriesRecords], stamps: Mapping[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    """The stamps of a patient's series records (taken before reading)."""
    return {u: stamps[u] for d in deps if (u := d.record.series_uid) in stamps}
