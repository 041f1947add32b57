"""The catalog's home (``<store>/catalog``): the store's top-level dataset
and every collection in it, each linking to the collection's own catalog
site. Rewritten only when the top-level dataset has a new state."""

from __future__ import annotations

import logging
from pathlib import Path

from datalad_tcia.catalog import CatalogError, publish_catalog, shown_home
from datalad_tcia.catalog.home import home_page
from datalad_tcia.dataset.top import listing
from datalad_tcia.dataset.versions import version_notes
from datalad_tcia.export import clone_url
from datalad_tcia.store import StoreLock, StoreLocked, TopLayout, unwritable
from datalad_tcia.store.git import GitError, dataset_id, rev_parse

from .outcomes import CatalogOutcome, Problem

lgr = logging.getLogger('datalad.tcia.pipeline.write_home')

#: seconds to wait for the top-level dataset's lock
HOME_LOCK_WAIT = 300.0


def write_home(store: Path, base_url: str) -> CatalogOutcome | Problem:
    """Write the catalog's home from the top-level dataset (unless the home
    already shows its current state)."""
    top = TopLayout(store)
    url = clone_url(base_url, top.export.relpath)
    if not (top.repo / '.git').exists():
        return Problem(
            'catalog',
            'impossible',
            f'the store {store} has no top-level dataset yet: run "datalad '
            'tcia-deposit-dataset" (or "datalad tcia-add") first',
            path=store,
        )
    try:
        with StoreLock(top.lock, wait=HOME_LOCK_WAIT):
            version = rev_parse(top.repo, 'HEAD')
            if _shows(top, version):
                return CatalogOutcome(
                    'notneeded', 'the catalog home is up to date', top.catalog, url
                )
            entries = listing(top.repo)
            notes = version_notes(top.repo)
            home = home_page(
                entries,
                dataset_id(top.repo),
                version,
                url,
                (notes[0][0], notes[0][1]) if notes else None,
            )
            publish_catalog(top.catalog, [home], home)
    except StoreLocked as e:
        return Problem('catalog', 'impossible', str(e), path=store)
    except OSError as e:
        return Problem('catalog', 'impossible', unwritable(store, e), path=store)
    except (CatalogError, GitError) as e:
        return CatalogOutcome(
            'error', f'writing the catalog home failed: {e}', top.catalog, exception=e
        )
    return CatalogOutcome(
        'ok',
        f'catalog home of {len(entries)} collection(s), each linking to its '
        'own catalog',
        top.catalog,
        url,
    )


def _shows(top: TopLayout, version: str) -> bool:
    """Whether the home already shows this state of the top-level dataset."""
    shown = shown_home(top.catalog)
    return shown is not None and shown.get('dataset_version') == version
