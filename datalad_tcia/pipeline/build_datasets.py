"""The dataset stage of a collection: every patient (each under its own
lock), then the collection superdataset (under the collection's lock)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from datalad_tcia.datacite import Citation
from datalad_tcia.dataset import DEFAULT_PATH_TEMPLATE, SubdatasetEntry
from datalad_tcia.dataset.naming import GROUP_ABOVE
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
from .idc_sources import IdcSources
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

lgr = logging.getLogger('datalad.tcia.pipeline.build_datasets')

#: seconds to wait for the collection's lock (held to assign slugs and for
#: the superdataset; a run that holds it longer is doing something else)
COLLECTION_LOCK_WAIT = 120.0


def build_datasets(
    store: Path,
    collection: str,
    base_url: str,
    *,
    template: str | None = None,
    jobs: int = 1,
    force: bool = False,
    stored: CollectionRecords | None = None,
    patients: Iterable[str] | None = None,
    collection_step: bool = True,
    idc: IdcSources | None = None,
    citation: Citation | None = None,
    group_above: int = GROUP_ABOVE,
) -> Iterator[PatientOutcome | CollectionOutcome | IdcOutcome | Problem]:
    """Build and export the patient datasets and the superdataset of
    ``collection`` (name or collection id) from its metadata records
    (``stored``, if the caller has read it already).

    Only ``patients`` (PatientIDs), if given, are built. Each patient is
    built under its own lock, so that other processes can build the
    collection's other patients at the same time; the collection's lock
    is held only to assign slugs and for the collection step (the
    superdataset and its export), which ``collection_step=False`` skips.
    With ``idc``, each patient's files gain IDC's URLs first (see
    :func:`~.idc_sources.refresh_idc`). ``citation`` (the collection's DataCite
    record) becomes the collection dataset's ``CITATION.cff``. A collection
    of more than ``group_above`` patients holds them in group datasets.
    """
    first = stored.layout if stored is not None else StoreLayout(store, collection)
    stamps = first.record_stamps()  # before any record is read
    idc_version = idc.index.version if idc else None
    template = template or DEFAULT_PATH_TEMPLATE
    done = Unchanged(first, stamps, {} if force else load_built(first), template)
    done.keep(idc_version)
    if stored is None:
        # only the series of patients not built from their records as they
        # are: an unchanged patient's records are not even read
        name = next((r.collection for r in done.records.values()), collection)
        stored = read_collection(store, name, only=done.unknown())
        done.discard(stored.patients)
    else:
        done.discard_unlike(stored.patients)
    while True:
        git_files = license_files_of([*done.summaries(), *summarize_patients(stored)])
        done.discard_unless(build_conditions(template, git_files, idc_version))
        missing = done.unread(stored.patients)
        if not missing:
            break
        more = read_collection(store, stored.layout.collection, only=missing)
        for pid, deps in more.patients.items():
            mine = stored.patients.setdefault(pid, [])
            mine.extend(deps)
            mine.sort(key=lambda d: d.record.series_uid)  # as read at once
        stored.problems.extend(more.problems)
    for problem in stored.problems:
        yield Problem('patient', 'error', problem)
    if not stored.patients and not done.records:
        yield Problem(
            'patient',
            'impossible',
            f'no metadata of collection {collection!r} in the store '
            f'{store}; run "datalad tcia-download" first',
            path=store,
        )
        return
    layout = stored.layout
    try:
        # short: slugs are assigned under the collection's lock, which
        # other processes (shards) hold as briefly: wait for it
        with StoreLock(layout.lock, wait=COLLECTION_LOCK_WAIT):
            slugs = prepare_collection(stored, group_above)
    except StoreLocked as e:
        yield Problem('patient', 'impossible', str(e), path=layout.root)
        return
    except OSError as e:
        yield Problem(
            'patient', 'impossible', unwritable(layout.root, e), path=layout.root
        )
        return
    conditions = build_conditions(template, git_files, idc_version)
    series_of: dict[str, list[SeriesRecords]] = dict(stored.patients)
    current = done.records
    if patients is None:
        # a patient whose every series was withdrawn keeps its dataset,
        # updated to hold no file (its history keeps them)
        for pid in withdrawn_patients(layout) - set(series_of) - set(current):
            if pid in slugs and (layout.repo(slugs[pid]) / '.git').exists():
                series_of[pid] = []
    chosen = sorted({*series_of, *current} if patients is None else patients)
    works = [
        PatientWork(
            layout,
            pid,
            slugs[pid],
            series_of[pid],
            base_url,
            template,
            git_files,
            force,
            idc,
            not stored.problems,
            _stamps_of(series_of[pid], stamps),
            conditions,
        )
        for pid in chosen
        if pid in series_of and pid not in current
    ]
    if idc is not None:
        # one index query for the collection, not one per patient
        idc.locate([d.record.series_uid for w in works for d in w.patient_series])
    entries: list[SubdatasetEntry] = []
    summaries: list[PatientSummary] = []
    failed = False
    for pid in chosen:
        rec = current.get(pid)
        if rec is not None:
            entry = rec.entry(layout, base_url)
            entries.append(entry)
            summaries.append(rec.summary)
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
    # each patient under its own lock (see build_patient)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for outcome in pool.map(build_patient, works):
            if outcome.idc is not None and outcome.idc.status == 'ok':
                yield outcome.idc
            yield outcome
            if outcome.entry is None:
                failed = True
                summaries.append(
                    summarize_patient(layout.collection, series_of[outcome.patient_id])
                )
            else:
                entries.append(outcome.entry)
                summaries.append(outcome.summary or PatientSummary())
    if not entries or not collection_step:
        return
    # what the datasets now reflect (the IDC step may have written records)
    fingerprint = layout.metadata_fingerprint(None if works else stamps)
    try:
        with StoreLock(layout.lock, wait=COLLECTION_LOCK_WAIT):
            # an analysis result: what its series describe, resolved
            analysis = link_analysis_result(
                layout, stored, idc.index if idc else None, changed=bool(works)
            )
            files = dict(git_files)
            if analysis is not None:
                files[ANALYSIS_FILE] = record_bytes(analysis)
                # one of IDC's own (not TCIA's): as the index cites it
                citation = index_citation(analysis) or citation
            record = provenance_of(
                layout,
                summaries,
                citation,
                idc_version,
                described_collections(analysis),
            )
            built = build_collection(
                layout,
                entries,
                base_url,
                SelfDescription(files, record, citation),
                force=force,
                patients_failed=failed,
                jobs=jobs,
            )
            if built.status in ('ok', 'notneeded') and not failed:
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
