"""The catalog's links between an analysis result and the collections it
describes: a Collections tab on the analysis result's page, an Analysis
results tab on each collection's page (schema.org ``Thing`` entries with
a ``url``, which datalad-catalog renders as links). Both sites sit in one
store (``<store>/<id>/catalog/``), so the links are relative."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .translate import text


def _site(folder: str) -> str:
    """The catalog of the store's folder ``folder``, from another's."""
    return f'../../{folder}/catalog/index.html'


def describes_tab(record: Mapping[str, Any]) -> dict[str, Any]:
    """An analysis result's Collections tab: every collection its series
    describe, with how many of its patients and series, linking to the
    collection's catalog (in this store, once the collection is added)."""
    content: dict[str, Any] = {'@context': {}}
    referenced = record.get('referenced') or {}
    for entry in record.get('collections') or ():
        cid = str(entry['collection_id'])
        images = sum(1 for r in referenced.values() if r.get('collection_id') == cid)
        content[text(f'{entry["collection"]} ({cid})')] = {
            '@type': 'https://schema.org/Thing',
            'name': text(str(entry['collection'])),
            'description': text(
                f'{entry["series"]} series of {entry["patients"]} patient(s) '
                f'describe {images} series of this collection'
            ),
            'url': _site(cid),
        }
    return {'name': 'collections', 'icon': 'fas fa-link', 'content': content}


def analyses_tab(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A collection's Analysis results tab: every analysis result in the
    store that describes it, linking to its catalog."""
    content: dict[str, Any] = {'@context': {}}
    for entry in entries:
        ident = str(entry['analysis_result_id'])
        doi = entry.get('doi')
        content[text(ident)] = {
            '@type': 'https://schema.org/Thing',
            'name': text(str(entry.get('title') or ident)),
            'description': text(
                f'{entry.get("series")} series of {entry.get("patients")} '
                f'patient(s) of this collection' + (f'; DOI {doi}' if doi else '')
            ),
            'url': _site(str(entry['folder'])),
        }
    return {
        'name': 'analysis results',
        'icon': 'fas fa-draw-polygon',
        'content': content,
    }
