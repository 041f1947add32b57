"""The catalog's home: the store's top-level dataset, listing every
collection of the store with its title, DOI, licence, holdings and last
version, each linking to the collection's own catalog site
(``<collection-id>/catalog/``).

Each collection keeps its own site, rewritten when it changes; the home is
a site of one page, rewritten when the top-level dataset changes: a
changed collection rewrites its own pages and the home, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from datalad.utils import bytes2human

from .translate import metadata_sources, text


def _about(entry: Mapping[str, Any]) -> str:
    held = entry.get('holdings') or {}
    described = entry.get('describes') or ()
    parts = [
        *([f'analysis result of {", ".join(described)}'] if described else []),
        f'{held.get("patients", "?")} patients',
        *([f'{held["series"]} series'] if 'series' in held else []),
        *([bytes2human(held['bytes'])] if 'bytes' in held else []),
        *([f'licence {entry["license"]}'] if entry.get('license') else []),
        *([f'DOI {entry["doi"]}'] if entry.get('doi') else []),
        *([f'version {entry["version"]}'] if entry.get('version') else []),
    ]
    return ', '.join(parts)


def collections_tab(listing: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The home's Collections tab: each collection, as a link to its site
    (a schema.org ``Thing``: datalad-catalog renders it as a link)."""
    content: dict[str, Any] = {'@context': {}}
    for entry in listing:
        cid = str(entry['collection_id'])
        title = entry.get('title') or entry.get('collection') or cid
        content[text(f'{entry.get("collection", cid)} ({cid})')] = {
            '@type': 'https://schema.org/Thing',
            'name': text(str(title)),
            'description': text(_about(entry)),
            'url': f'../{cid}/catalog/index.html',
        }
    return {'name': 'collections', 'icon': 'fas fa-layer-group', 'content': content}


def home_page(
    listing: Sequence[Mapping[str, Any]],
    dataset_id: str,
    dataset_version: str,
    clone_url: str,
    version: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The top-level dataset's record: the catalog's home page.

    ``listing`` is its ``collections.json`` (see
    :mod:`datalad_tcia.dataset.top`); ``version`` its newest version
    (name, date).
    """
    held = [e.get('holdings') or {} for e in listing]
    patients = sum(int(h.get('patients', 0)) for h in held)
    series = sum(int(h.get('series', 0)) for h in held)
    size = sum(int(h.get('bytes', 0)) for h in held)
    return {
        'type': 'dataset',
        'dataset_id': dataset_id,
        'dataset_version': dataset_version,
        'name': 'The Cancer Imaging Archive (TCIA) as DataLad datasets',
        'short_name': 'TCIA as DataLad datasets',
        'description': (
            f'{len(listing)} collections, {patients} patients, {series} series, '
            f'{bytes2human(size)}. Every collection is a subdataset of this '
            'dataset at its collection id, each of its patients a subdataset '
            f'of it: datalad clone {clone_url}, then datalad get -n '
            '<collection-id>/<PatientID>.'
        ),
        'url': [clone_url],
        'keywords': sorted({str(e['collection_id']) for e in listing}),
        'top_display': [
            *([{'name': 'Version', 'value': version[0]}] if version else []),
            {'name': 'Collections', 'value': len(listing)},
            {'name': 'Patients', 'value': patients},
            {'name': 'Series', 'value': series},
            {'name': 'Size', 'value': bytes2human(size)},
        ],
        'additional_display': [collections_tab(listing)],
        'metadata_sources': metadata_sources(version[1] if version else None),
    }
