"""The catalog of a collection: its metadata records, its datasets and its DataCite
record as a datalad-catalog site."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datalad_tcia.catalog import (
    MAX_SUBDATASETS,
    PATIENTS_ON_PAGE,
    CatalogError,
    CollectionCatalog,
    PatientCatalog,
    analyses_tab,
    collection_page,
    describes_tab,
    file_records,
    patient_record,
    patient_search_files,
    publish_catalog,
)
from datalad_tcia.datacite import CitationLookup, DataCiteError, doi_from_uri
from datalad_tcia.dataset import DEFAULT_PATH_TEMPLATE, PATH_TEMPLATE_CONFIG
from datalad_tcia.dataset.versions import version_notes
from datalad_tcia.export import clone_url
from datalad_tcia.metadata import CollectionRecords, load_slugs, read_collection
from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    collection_dirs,
    unwritable,
)
from datalad_tcia.store.git import GitError, dataset_id, git_line, rev_parse

from .ledger import load_built
from .link_references import analyses_of, load_analysis_record
from .outcomes import CatalogOutcome, Problem

if TYPE_CHECKING:
    from .settings import RunSettings

lgr = logging.getLogger('datalad.tcia.pipeline.write_catalog')


@dataclass(frozen=True)
class CatalogLimits:
    """Above which sizes a catalog leaves things out.

    Attributes
    ----------
    max_files: int
      Files are listed one by one only in collections of at most this many
      files (``datalad.tcia.catalog-max-files``).
    max_subdatasets: int
      Patients are subdatasets of the collection page (besides its
      Patients tab) only up to this many (``datalad.tcia.catalog-max-subdatasets``).
    patients_on_page: int
      The collection page's Patients tab lists this many; a bigger
      collection's page links to its patient search page
      (``patients.html``) for all of them.
    """

    max_files: int = 20_000
    max_subdatasets: int = MAX_SUBDATASETS
    patients_on_page: int = PATIENTS_ON_PAGE


def write_catalog(
    settings: RunSettings,
    collection: str,
    *,
    stored: CollectionRecords | None = None,
) -> Iterator[CatalogOutcome | Problem]:
    """Write the catalog site of ``collection`` (its datasets must exist).

    ``stored`` is the collection's metadata records, if the caller has
    read them already. Each file gets an entry only if the collection has
    at most ``settings.catalog_limits.max_files`` files (datalad-catalog
    writes file entries one by one, and its pages load every entry of a
    dataset); above, the patient pages show their studies and series
    without a file listing. The collection page lists every patient in its
    Patients tab, and as subdatasets up to ``max_subdatasets`` patients.
    DataCite (``settings.citations``) gives the citation shown.
    """
    store, base_url = settings.store, settings.base_url
    limits = settings.catalog_limits or CatalogLimits()
    stored = stored or read_collection(store, collection)
    layout = stored.layout
    if not stored.patients or not (layout.collection_repo / '.git').exists():
        yield Problem(
            'catalog',
            'impossible',
            f'no datasets of collection {collection!r} in {store}; '
            'run "datalad tcia-download" and "datalad tcia-deposit-dataset" '
            'first',
            path=layout.root,
        )
        return
    try:
        with StoreLock(layout.lock):
            coll = describe_collection(stored, base_url)
            link_datasets(coll, layout)
            add_citation(coll, settings.citations)
            records = catalog_records(coll, limits)
            publish_catalog(
                layout.catalog, records, records[0], patient_search_files(coll)
            )
    except StoreLocked as e:
        yield Problem('catalog', 'impossible', str(e), path=layout.root)
        return
    except OSError as e:
        yield Problem(
            'catalog', 'impossible', unwritable(layout.root, e), path=layout.root
        )
        return
    except (CatalogError, GitError) as e:
        yield CatalogOutcome(
            'error',
            f'writing the catalog failed: {e}',
            layout.catalog,
            exception=e,
        )
        return
    note = _limits_note(coll, limits)
    yield CatalogOutcome(
        'ok',
        f'catalog of {len(coll.patients)} patient dataset(s), '
        f'{len(records)} records{note}',
        layout.catalog,
        url=coll.clone_url,
        doi=coll.doi,
    )


def catalog_records(
    coll: CollectionCatalog, limits: CatalogLimits
) -> list[dict[str, Any]]:
    """The catalog's records of ``coll``: its page first, then each
    patient's (and each file's, in collections of at most
    ``limits.max_files`` files)."""
    records = [collection_page(coll, limits.max_subdatasets, limits.patients_on_page)]
    shared: dict[str, Any] = {
        k: records[0][k] for k in ('license', 'doi') if k in records[0]
    }
    with_files = _n_files(coll) <= limits.max_files
    for p in coll.patients:
        records.append(patient_record(p, coll.name, shared))
        if with_files:
            records.extend(file_records(p))
    return records


def _n_files(coll: CollectionCatalog) -> int:
    return sum(len(d.images) for p in coll.patients for d in p.patient_series)


def _limits_note(coll: CollectionCatalog, limits: CatalogLimits) -> str:
    """What the result says the catalog left out, and why."""
    note = f'; {coll.datacite_note}' if coll.datacite_note else ''
    n_files = _n_files(coll)
    if n_files > limits.max_files:
        note += (
            f'; the {n_files} files are not listed one by one (more than '
            f'{limits.max_files}, datalad.tcia.catalog-max-files): patient '
            'pages show their series'
        )
    if len(coll.patients) > limits.max_subdatasets:
        note += (
            f'; the collection page lists the {len(coll.patients)} patients in '
            'its Patients tab, not as subdatasets (more than '
            f'{limits.max_subdatasets}, datalad.tcia.catalog-max-subdatasets)'
        )
    return note


def describe_collection(stored: CollectionRecords, base_url: str) -> CollectionCatalog:
    """What the catalog shows of a collection whose datasets are built."""
    layout = stored.layout
    slugs = load_slugs(layout)
    superds = layout.collection_repo
    coll = CollectionCatalog(
        name=layout.collection,
        dataset_id=dataset_id(superds),
        dataset_version=rev_parse(superds, 'HEAD'),
        clone_url=clone_url(base_url, layout.collection_export.relpath),
        versions=version_notes(superds),
    )
    # what each dataset was built from says its ID and commit: no git
    built = {r.slug: r for r in load_built(layout).values()}
    for pid in sorted(stored.patients):
        slug = slugs.get(pid)
        if slug is None or not (layout.repo(slug) / '.git').exists():
            continue
        rec = built.get(slug)
        if rec is not None:
            ident, version = rec.dataset_id, rec.commit
            template = str(rec.conditions.get('template') or DEFAULT_PATH_TEMPLATE)
        else:
            repo = layout.repo(slug)
            ident, version = dataset_id(repo), rev_parse(repo, 'HEAD')
            try:
                template = git_line(repo, 'config', PATH_TEMPLATE_CONFIG)
            except GitError:
                template = DEFAULT_PATH_TEMPLATE
        coll.patients.append(
            PatientCatalog(
                patient_id=pid,
                slug=slug,
                dataset_id=ident,
                dataset_version=version,
                clone_url=clone_url(base_url, layout.patient_export(slug).relpath),
                patient_series=stored.patients[pid],
                template=template,
            )
        )
    series = next((d.series for deps in stored.patients.values() for d in deps), None)
    if series is not None:
        coll.doi = doi_from_uri(series.data_description_uri)
        coll.license_name = series.license_name
        coll.license_url = series.license_uri
    return coll


def link_datasets(coll: CollectionCatalog, layout: StoreLayout) -> None:
    """Link the collection's page to the store's analysis results that
    describe it, or an analysis result's page to the collections it
    describes."""
    record = load_analysis_record(layout)
    if record is not None:
        coll.kind = 'analysis result'
        coll.links.append(describes_tab(record))
        return
    store = layout.store
    entries = analyses_of(
        [StoreLayout(store, d.name) for d in collection_dirs(store)], layout.cid
    )
    if entries:
        coll.links.append(analyses_tab(entries))


def add_citation(coll: CollectionCatalog, datacite: CitationLookup) -> None:
    """Add the DataCite record of the collection's DOI, or say why not."""
    if not coll.doi:
        coll.datacite_note = (
            'NBIA gives no DOI for this collection: no DataCite record shown'
        )
        return
    try:
        coll.citation = datacite.citation(coll.doi)
    except DataCiteError as e:
        lgr.debug('DataCite lookup failed: %s', e)
        coll.datacite_note = (
            f'DataCite could not be reached for DOI {coll.doi} ({e}); run '
            '"datalad tcia-catalog" again later to add its record'
        )
        return
    if coll.citation is None:
        coll.datacite_note = (
            f'DataCite has no record of DOI {coll.doi}: it is not a DataCite '
            "DOI (registered elsewhere, e.g. with Crossref); see the DOI's "
            'landing page for how to cite the collection'
        )
