"""``datalad tcia-catalog``: metadata + DataCite -> a datalad-catalog site."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datalad
from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureStr
from datalad_next.exceptions import CapturedException

from datalad_tcia.catalog import (
    CatalogError,
    CollectionCatalog,
    PatientCatalog,
    collection_record,
    file_records,
    patient_record,
    publish,
)
from datalad_tcia.datacite import DataCiteClient, doi_from_uri
from datalad_tcia.dataset import (
    DEFAULT_LAYOUT,
    LAYOUT_CONFIG,
    GitError,
    git,
    load_slugs,
    read_collection,
)
from datalad_tcia.export import clone_url
from datalad_tcia.nbia import NbiaError
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, unwritable

from .common import retry_policy, store_path, store_url_problem, timeouts
from .params import (
    datacite_url_param,
    output_format_param,
    store_param,
    store_url_param,
)

lgr = logging.getLogger('datalad.tcia.commands.catalog')

ACTION = 'tcia_catalog'


@build_doc
class TciaCatalog(ValidatedInterface):
    """Write a datalad-catalog site for a collection in the store

    The site, in <store>/<collection-id>/catalog/, has a home page for the
    collection (the DataCite record of its DOI: title, creators with ORCIDs,
    DOI link, licence, version, publication year, abstract; modalities, body
    parts, patient/study/series/file counts and size, the clone URL), one
    page per patient dataset (its studies and series with counts and
    sizes), and an entry per file with its size and DICOM summary.

    The datasets must have been built with 'datalad tcia-deposit-dataset'.
    A collection without a DOI, or whose DOI DataCite does not know or
    cannot be reached, is catalogued without the DataCite part, and the
    page says so. Re-running updates the site in place.
    """

    _params_ = {
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection (name or collection id) in the store.""",
        ),
        'store_url': store_url_param,
        'datacite_url': datacite_url_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'store_url': EnsureStr(min_len=1),
            'datacite_url': EnsureStr(min_len=1),
        },
    )

    _examples_ = [
        {
            'text': 'Write the catalog of a collection whose datasets are deposited',
            'code_py': "tcia_catalog(collection='Pseudo-PHI-DICOM-Data', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-catalog --store /data/tcia '
            '--collection Pseudo-PHI-DICOM-Data',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        store: str | None = None,
        collection: str | None = None,
        store_url: str | None = None,
        datacite_url: str | None = None,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        yield from write_catalog(store_path(store), collection, store_url, datacite_url)


def write_catalog(
    store_dir: Path,
    collection: str | None,
    store_url: str | None = None,
    datacite_url: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Write the catalog of ``collection``; yield result records."""
    common = {'action': ACTION, 'logger': lgr}
    problem = store_url_problem(store_url)
    if problem:
        yield get_status_dict(status='impossible', message=problem, **common)
        return
    if not collection:
        yield get_status_dict(
            status='impossible', message='give --collection', **common
        )
        return
    deposits, name, _problems = read_collection(store_dir, collection)
    slay = StoreLayout(store_dir, name)
    repos = slay.root / 'repos'
    if not deposits or not (repos / 'collection' / '.git').exists():
        yield get_status_dict(
            status='impossible',
            path=str(slay.root),
            message=f'no datasets of collection {collection!r} in {store_dir}; '
            'run "datalad tcia-download" and "datalad tcia-deposit-dataset" '
            'first',
            **common,
        )
        return
    base_url = (store_url or store_dir.as_uri()).rstrip('/')
    catalog_dir = slay.root / 'catalog'
    try:
        with StoreLock(slay.lock):
            coll = _collection(slay, deposits, base_url)
            _add_citation(coll, datacite_url)
            records = [collection_record(coll)]
            shared: dict[str, Any] = {
                k: records[0][k] for k in ('license', 'doi') if k in records[0]
            }
            for p in coll.patients:
                records.append(patient_record(p, coll.name, shared))
                records.extend(file_records(p))
            publish(catalog_dir, records, records[0])
    except StoreLocked as e:
        yield get_status_dict(
            status='impossible', path=str(slay.root), message=str(e), **common
        )
    except OSError as e:
        yield get_status_dict(
            status='impossible',
            path=str(slay.root),
            message=unwritable(slay.root, e),
            **common,
        )
        return
    except (CatalogError, GitError) as e:
        yield get_status_dict(
            status='error',
            path=str(catalog_dir),
            message=f'writing the catalog failed: {e}',
            exception=CapturedException(e),
            **common,
        )
        return
    note = f'; {coll.datacite_note}' if coll.datacite_note else ''
    yield get_status_dict(
        status='ok',
        path=str(catalog_dir),
        type='directory',
        message=f'catalog of {len(coll.patients)} patient dataset(s), '
        f'{len(records)} records{note}',
        url=coll.clone_url,
        doi=coll.doi,
        **common,
    )


def _dataset_id(repo: Path) -> str:
    return (
        git(repo, 'config', '-f', '.datalad/config', 'datalad.dataset.id')
        .decode()
        .strip()
    )


def _head(repo: Path) -> str:
    return git(repo, 'rev-parse', 'HEAD').decode().strip()


def _collection(
    slay: StoreLayout, deposits: dict[str, Any], base_url: str
) -> CollectionCatalog:
    repos = slay.root / 'repos'
    slugs = load_slugs(slay.metadata)
    superds = repos / 'collection'
    coll = CollectionCatalog(
        name=slay.collection,
        dataset_id=_dataset_id(superds),
        dataset_version=_head(superds),
        clone_url=clone_url(base_url, f'{slay.cid}/collection'),
    )
    for pid in sorted(deposits):
        slug = slugs.get(pid)
        repo = repos / str(slug)
        if slug is None or not (repo / '.git').exists():
            continue
        try:
            layout = git(repo, 'config', LAYOUT_CONFIG).decode().strip()
        except GitError:
            layout = DEFAULT_LAYOUT
        coll.patients.append(
            PatientCatalog(
                patient_id=pid,
                slug=slug,
                dataset_id=_dataset_id(repo),
                dataset_version=_head(repo),
                clone_url=clone_url(base_url, f'{slay.cid}/datasets/{slug}'),
                deposits=deposits[pid],
                layout=layout,
            )
        )
    nbia = next(
        (d.archive.get('nbia_series') or {} for ds in deposits.values() for d in ds),
        {},
    )
    coll.doi = doi_from_uri(nbia.get('DataDescriptionURI'))
    coll.license_name = nbia.get('LicenseName')
    coll.license_url = nbia.get('LicenseURI')
    return coll


def _add_citation(coll: CollectionCatalog, datacite_url: str | None) -> None:
    if not coll.doi:
        coll.datacite_note = (
            'NBIA gives no DOI for this collection: no DataCite record shown'
        )
        return
    client = DataCiteClient(
        datacite_url or str(datalad.cfg.obtain('datalad.tcia.datacite-url')),
        retry=retry_policy(),
        timeout=timeouts(),
    )
    try:
        coll.citation = client.citation(coll.doi)
    except NbiaError as e:
        lgr.debug('DataCite lookup failed: %s', e)
        coll.datacite_note = (
            f'DataCite could not be reached for DOI {coll.doi} ({e}); run '
            '"datalad tcia-catalog" again later to add its record'
        )
        return
    if coll.citation is None:
        coll.datacite_note = f'DataCite has no record of DOI {coll.doi}'
