"""The whole pipeline for a selection: plan -> series -> patients ->
collection (superdataset, catalog, archive deletion) -> clone."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from datalad_tcia.export import clone_url
from datalad_tcia.hpc import Shard
from datalad_tcia.metadata import (
    read_collection,
    stored_analysis_results,
    stored_collections,
)
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.pipeline.selection import Selection
from datalad_tcia.store import StoreLayout

from .acquire import acquire_all
from .build_datasets import build_datasets
from .build_top import build_top
from .clean_up import delete_archives
from .clone import clone_collection
from .gather_provenance import citation_current, lookup_citation
from .link_references import described_collections, load_analysis_record
from .make_version import datasets_current, unchanged
from .outcomes import (
    SUCCESS,
    ArchivesOutcome,
    CatalogOutcome,
    CollectionOutcome,
    IdcOutcome,
    Outcome,
    PatientOutcome,
    Problem,
    SeriesOutcome,
    WithdrawnOutcome,
)
from .plan import Plan, plan_selection
from .settings import RunSettings
from .third_party import nbia_only
from .withdraw import withdraw_missing
from .write_catalog import write_catalog
from .write_home import write_home

lgr = logging.getLogger('datalad.tcia.pipeline.add')


@dataclass
class AddSummary:
    """What a run of :func:`add_selection` did, counted from its outcomes."""

    downloaded: int = 0
    #: of the series acquired, those from IDC (listing and headers)
    from_idc: int = 0
    skipped: int = 0
    failed_series: int = 0
    bytes: int = 0
    files: int = 0
    failed: bool = False
    failed_input: bool = False
    clone_urls: dict[str, str | None] = field(default_factory=dict)
    catalogs: list[Path] = field(default_factory=list)
    deleted: int = 0
    withdrawn: int = 0
    #: files given IDC sources this run, and series IDC could not list
    idc_files: int = 0
    idc_warnings: int = 0

    def count(self, outcome: Outcome) -> None:
        """Take one outcome into account."""
        ok = outcome.status in SUCCESS
        if isinstance(outcome, SeriesOutcome):
            if outcome.status == 'ok':
                self.downloaded += 1
                self.from_idc += outcome.source == 'idc'
                self.bytes += outcome.archive_size or outcome.received or 0
            elif outcome.status == 'notneeded':
                self.skipped += 1
            else:
                self.failed_series += 1
        elif (
            isinstance(outcome, Problem)
            and outcome.stage in ('plan', 'series')
            and not ok
        ):
            self.failed_input = True
        elif isinstance(outcome, PatientOutcome) and ok:
            self.files += outcome.files or 0
        elif isinstance(outcome, WithdrawnOutcome) and outcome.status == 'ok':
            self.withdrawn += 1
        elif isinstance(outcome, IdcOutcome):
            self.idc_files += outcome.matched
            self.idc_warnings += len(outcome.warnings)
        elif isinstance(outcome, CatalogOutcome) and outcome.status == 'ok':
            self.catalogs.append(outcome.path)
        elif isinstance(outcome, ArchivesOutcome):
            self.deleted += outcome.deleted
        if not ok:
            self.failed = True

    @property
    def urls(self) -> list[str]:
        return [u for u in self.clone_urls.values() if u]


def _withdraw_missing(
    settings: RunSettings,
    selection: Selection,
    planned: dict[str, dict[str, list[SeriesInfo]]],
    shard: Shard | None,
) -> Iterator[Outcome]:
    """What upstream no longer lists of a whole selection leaves the
    datasets (a new version); the IDC index withdraws only what came from
    IDC. ``planned``: dataset name -> PatientID -> its series now."""
    for name, patients in planned.items():
        uids = {s.series_uid for p in patients.values() for s in p}
        # an analysis result partly selected (the part describing a
        # collection): only that part is in scope
        described = (
            None
            if selection.analysis_result or selection.all_collections
            else {s.collection for p in patients.values() for s in p}
        )

        def in_scope(
            s: SeriesInfo,
            name: str = name,
            described: set[str | None] | None = described,
        ) -> bool:
            pid = s.patient_id
            return (
                (
                    selection.patient is None
                    or (pid or '').upper() == selection.patient.upper()
                )
                and (described is None or s.collection in described)
                and (shard is None or shard.holds(name, pid or ''))
            )

        yield from withdraw_missing(
            StoreLayout(settings.store, name),
            uids,
            in_scope,
            'nbia' if settings.index is None else 'idc',
        )


def _collection_step(
    settings: RunSettings, name: str, summary: AddSummary, touched: set[str]
) -> Iterator[Outcome]:
    """The datasets, catalog and archives of the collection (or analysis
    result) ``name``; its clone URL into ``summary``. Nothing new upstream
    (not ``touched``) and current datasets: nothing is read."""
    store, base_url, citations = settings.store, settings.base_url, settings.citations
    layout = StoreLayout(store, name)
    if (
        name not in touched
        and not summary.failed
        and datasets_current(layout)
        and citation_current(citations, layout)
    ):
        yield unchanged(layout, base_url)
        summary.clone_urls[name] = clone_url(base_url, layout.collection_export.relpath)
        return
    clone = None
    # read once, for the datasets and the catalog
    stored = read_collection(store, name)
    citation = lookup_citation(citations, stored)
    for built in build_datasets(settings, name, stored=stored, citation=citation):
        if isinstance(built, CollectionOutcome):
            clone = built.url
        yield built
    summary.clone_urls[name] = clone
    if clone is None:
        # no collection dataset: the errors above say why; a catalog of
        # nothing would only add noise
        return
    yield from write_catalog(settings, name, stored=stored)
    if not settings.keep_archives and not summary.failed:
        yield delete_archives(layout, clone)


def relink_catalogs(
    settings: RunSettings, names: Iterable[str], touched: set[str]
) -> Iterator[Outcome]:
    """Write again the catalogs of the store's collections that an
    analysis result new or changed in this run (among ``names``)
    describes, so that their pages link it."""
    store = settings.store
    described = {
        cid
        for name in names
        if name in touched
        for cid in described_collections(load_analysis_record(StoreLayout(store, name)))
    }
    for cid in sorted(described):
        layout = StoreLayout(store, cid)
        if (layout.catalog / 'index.html').is_file():
            yield from write_catalog(settings, cid)


def stored_selections(selection: Selection, store: Path) -> list[Selection]:
    """``selection`` once for every collection and analysis result in
    ``store`` (``tcia-add --update``)."""
    out = [replace(selection, collection=c) for c in stored_collections(store)]
    for ident in stored_analysis_results(store):
        one = replace(selection, analysis_result=ident, with_analysis_results=False)
        if not nbia_only(ident):
            out.append(one)
            continue
        # only NBIA lists it: collection by collection
        record = load_analysis_record(StoreLayout(store, ident)) or {}
        out += [
            replace(one, collection=str(c['collection']))
            for c in record.get('collections') or ()
        ]
    return out


def add_selection(
    settings: RunSettings,
    selection: Selection,
    *,
    clone_to: Path | None = None,
    summary: AddSummary | None = None,
    shard: Shard | None = None,
) -> Iterator[Outcome]:
    """Everything for ``selection``; outcomes as they happen.

    Bad input changes nothing. Archives are deleted (unless
    ``settings.keep_archives``) only when nothing failed and every file
    of the collection's datasets is verified to have its TCIA sources.
    Every collection dataset published in the store is then registered in
    the store's top-level dataset (:func:`~.build_top.build_top`). With
    ``clone_to``, the collection dataset (a selection within one
    collection) or the top-level dataset (a selection across collections)
    is cloned there. ``summary``, if given, counts what
    happened.

    With ``shard``, only the series and patient datasets of the shard's
    patients are done, and the collection step (superdataset, catalog,
    archive deletion, clone) is left to a later run without ``shard``;
    other shards may run at the same time, in other processes or cluster
    jobs on a shared store.

    ``settings.index`` (the IDC index) answers the selection instead of
    NBIA; ``settings.source`` says where series are acquired from (see
    :func:`~.acquire.route`); with ``settings.idc``, the files gain IDC's
    URLs as sources (see :func:`~.idc_sources.refresh_idc`).
    """
    summary = summary if summary is not None else AddSummary()
    touched: set[str] = set()  # collections with something new this run

    def report(outcome: Outcome) -> Outcome:
        summary.count(outcome)
        if isinstance(outcome, SeriesOutcome | WithdrawnOutcome) and (
            outcome.status != 'notneeded'
        ):
            touched.add(outcome.series.published_in or '')
        return outcome

    store, jobs = settings.store, settings.jobs
    plan = plan_selection(
        settings.planner, selection, store, jobs=jobs, uuids=settings.uuids
    )
    for problem in [*plan.problems, *plan.notes]:
        yield report(problem)
    all_series = {name: p for name, p in plan.collections.items() if name}
    if shard is not None:
        plan.series = _of_shard(plan, shard)
    if selection.is_whole and not plan.problems:
        yield from map(
            report, _withdraw_missing(settings, selection, all_series, shard)
        )
    for acquired in acquire_all(settings, plan.series):
        yield report(acquired)
    collections = sorted(name for name in plan.collections if name)
    if summary.failed_input or not collections:
        return
    if shard is not None:
        for name in collections:
            yield from map(
                report,
                build_datasets(
                    settings,
                    name,
                    patients=plan.collections[name],
                    collection_step=False,
                ),
            )
        return
    top_url = yield from _store_steps(settings, collections, summary, touched, report)
    if clone_to is not None and not summary.failed:
        # one collection: its dataset; several: the top-level dataset
        url = summary.clone_urls[collections[0]] if len(collections) == 1 else top_url
        if url:
            yield report(clone_collection(url, clone_to))


def _of_shard(plan: Plan, shard: Shard) -> list[SeriesInfo]:
    """The series of ``plan`` that ``shard`` holds."""
    series = [
        s for s in plan.series if shard.holds(s.published_in or '', s.patient_id or '')
    ]
    lgr.info(
        'shard %s: %d series of %d patient(s)',
        shard,
        len(series),
        sum(len(p) for p in plan.collections.values()),
    )
    return series


def _store_steps(
    settings: RunSettings,
    collections: Sequence[str],
    summary: AddSummary,
    touched: set[str],
    report: Callable[[Outcome], Outcome],
) -> Generator[Outcome, None, str | None]:
    """Each collection's datasets, catalog and archives; the catalogs an
    analysis result links; the top-level dataset (its clone URL is
    returned) and the catalog's home. Each outcome goes through
    ``report`` first."""
    for name in collections:
        yield from map(report, _collection_step(settings, name, summary, touched))
    yield from map(report, relink_catalogs(settings, collections, touched))
    top = build_top(settings.store, settings.base_url)
    yield report(top)
    if top.status in SUCCESS and (top.path / '.git').exists():
        # the catalog's home: every collection, linking to its catalog
        yield report(write_home(settings.store, settings.base_url))
    return top.url
