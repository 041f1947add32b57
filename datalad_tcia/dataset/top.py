"""The store's top-level dataset: every collection dataset of the store as
a subdataset at its collection id (``datalad get -n lidc_idri``, then
``datalad get -n lidc_idri/LIDC-IDRI-0001``), and what it holds, said in
``README.md``, ``CITATION.cff`` and ``.datalad/tcia/collections.json``.

A collection is registered at the commit its published git repository
(``<store>/<collection-id>/collection.git``) holds: what a clone of the
top-level dataset installs is what others can clone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datalad.utils import bytes2human

from datalad_tcia.export import clone_url
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.git import GitError, cat_blobs

from .collection import SubdatasetEntry, dataset_id_in
from .provenance import CITATION, PROVENANCE
from .versions import PREFIX, gitlinks, version_order

#: the machine-readable listing of the top-level dataset's collections
LISTING = '.datalad/tcia/collections.json'
README = 'README.md'


@dataclass(frozen=True)
class CollectionEntry:
    """A collection as the top-level dataset records it.

    Attributes
    ----------
    collection_id: str
      Its directory in the store and its path in the top-level dataset.
    collection: str
      NBIA's name of it.
    url: str
      The clone URL of its published git repository.
    dataset_id: str
      Its DataLad dataset ID.
    commit: str
      The commit its published repository holds.
    version: str or None
      Its newest version tag.
    title, doi, license: str or None
      From its ``CITATION.cff`` and its provenance record.
    holdings: mapping
      ``patients`` and, where its provenance record counts them,
      ``studies``, ``series``, ``files`` and ``bytes``.
    describes: tuple of str
      For an analysis result, the ids of the collections it describes.
    """

    collection_id: str
    collection: str
    url: str
    dataset_id: str
    commit: str
    version: str | None = None
    title: str | None = None
    doi: str | None = None
    license: str | None = None
    holdings: Mapping[str, int] = field(default_factory=dict)
    describes: tuple[str, ...] = ()

    @property
    def subdataset(self) -> SubdatasetEntry:
        """The entry of the top-level dataset's ``.gitmodules``."""
        return SubdatasetEntry(
            self.collection_id, self.url, self.dataset_id, self.commit
        )


def published_refs(bare: Path) -> tuple[str, dict[str, str]] | None:
    """The branch ``HEAD`` names and the refs (``info/refs``: what a clone
    sees) of the bare repository ``bare``; ``None`` if it is not published
    (yet)."""
    try:
        listing = (bare / 'info' / 'refs').read_text()
        head = (bare / 'HEAD').read_text().strip()
    except FileNotFoundError:
        return None
    refs = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition('\t')
        refs[ref] = sha
    head = head.removeprefix('ref: ')
    return (head, refs) if head in refs else None


def published_head(layout: StoreLayout) -> str | None:
    """The commit a clone of the collection dataset gets, if published."""
    published = published_refs(layout.collection_export.bare)
    return published[1][published[0]] if published else None


def published_collection(layout: StoreLayout, base_url: str) -> CollectionEntry | None:
    """What the top-level dataset records of the collection at ``layout``
    (read from its published repository: one ``git cat-file``), or
    ``None`` if the collection has no published dataset.

    Raises
    ------
    GitError
      If the published repository cannot be read.
    """
    target = layout.collection_export
    published = published_refs(target.bare)
    if published is None:
        return None
    head, refs = published
    commit = refs[head]
    tags = [
        r.removeprefix('refs/tags/')
        for r in refs
        if r.startswith(f'refs/tags/{PREFIX}') and not r.endswith('^{}')
    ]
    specs = [f'{commit}:{p}' for p in ('.datalad/config', PROVENANCE, CITATION)]
    blobs = cat_blobs(target.bare, specs)
    ident = dataset_id_in(blobs.get(specs[0], b''))
    if ident is None:
        msg = f'{target.bare} records no DataLad dataset ID at {commit}'
        raise GitError(msg)
    try:
        record = json.loads(blobs.get(specs[1], b'{}'))
    except ValueError:
        record = {}
    record = record if isinstance(record, dict) else {}
    cff = cff_scalars(blobs.get(specs[2], b'').decode('utf-8', 'replace'))
    holdings = dict(record.get('holdings') or {})
    if 'patients' not in holdings:
        # recorded before holdings were: its subdatasets (it has no groups)
        holdings['patients'] = len(gitlinks(target.bare, commit))
    return CollectionEntry(
        collection_id=layout.cid,
        collection=str(record.get('collection') or layout.collection),
        url=clone_url(base_url, target.relpath),
        dataset_id=ident,
        commit=commit,
        version=max(tags, key=version_order) if tags else None,
        title=cff.get('title'),
        doi=record.get('doi') or cff.get('doi'),
        license=holdings.pop('license', None) or None,
        holdings={k: int(v) for k, v in holdings.items() if isinstance(v, int)},
        describes=tuple(record.get('describes') or ()),
    )


def cff_scalars(text: str) -> dict[str, str]:
    """The top-level scalars of a ``CITATION.cff`` as
    :func:`~.provenance.citation_cff` writes them (JSON-quoted).

    >>> cff_scalars('type: dataset\\ntitle: "A \\\\"B\\\\""\\nauthors:\\n  - x\\n')
    {'type': 'dataset', 'title': 'A "B"'}
    """
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(': ')
        if not sep or line.startswith(' ') or not value:
            continue
        try:
            out[key] = json.loads(value) if value.startswith('"') else value
        except ValueError:
            continue
    return out


def top_files(entries: Sequence[CollectionEntry]) -> dict[str, bytes]:
    """``README.md``, ``CITATION.cff`` and the listing of the top-level
    dataset holding ``entries``."""
    listing = [
        {k: v for k, v in asdict(e).items() if v not in (None, {}, ())}
        for e in sorted(entries, key=lambda e: e.collection_id)
    ]
    return {
        README: _readme(entries).encode(),
        CITATION: _citation(entries).encode(),
        LISTING: (json.dumps(listing, indent=1, ensure_ascii=False) + '\n').encode(),
    }


def _readme(entries: Sequence[CollectionEntry]) -> str:
    total = sum(e.holdings.get('patients', 0) for e in entries)
    lines = [
        '# The Cancer Imaging Archive (TCIA) as DataLad datasets',
        '',
        f'{len(entries)} collection(s), {total} patient(s). Each collection '
        'is a subdataset at its collection id, each of its patients a '
        'subdataset of it:',
        '',
        '```',
        'datalad get -n <collection-id>              # a collection',
        'datalad get -n <collection-id>/<PatientID>  # a patient',
        'datalad get <collection-id>/<PatientID>     # and its files',
        '```',
        '',
        'An analysis result (segmentations, reports that others made of a '
        "collection's images, under their own DOI) is a dataset beside the "
        'collections it describes, its patients at the same paths; a '
        "patient's images and their segmentations, at once:",
        '',
        '```',
        'datalad get <collection-id>/<PatientID> <analysis-result-id>/<PatientID>',
        '```',
        '',
        '| collection | title | DOI | licence | patients | series | size | version |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for e in sorted(entries, key=lambda e: e.collection_id):
        size = e.holdings.get('bytes')
        cells = [
            f'`{e.collection_id}` ({e.collection})'
            if not e.describes
            else f'`{e.collection_id}` (analysis result of '
            + ', '.join(f'`{d}`' for d in e.describes)
            + ')',
            e.title or '',
            f'[{e.doi}](https://doi.org/{e.doi})' if e.doi else '',
            e.license or '',
            str(e.holdings.get('patients', '')),
            str(e.holdings.get('series', '')),
            bytes2human(size) if size is not None else '',
            e.version or '',
        ]
        lines.append('| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |')
    return '\n'.join(lines) + '\n'


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _citation(entries: Sequence[CollectionEntry]) -> str:
    lines = [
        'cff-version: 1.2.0',
        f'message: {_q("Cite each collection you use, as its references below say.")}',
        'type: dataset',
        f'title: {_q("The Cancer Imaging Archive (TCIA) as DataLad datasets")}',
        'authors:',
        f'  - name: {_q("The Cancer Imaging Archive")}',
        f'url: {_q("https://www.cancerimagingarchive.net")}',
        'references:',
    ]
    for e in sorted(entries, key=lambda e: e.collection_id):
        lines += [
            '  - type: dataset',
            f'    title: {_q(e.title or e.collection)}',
            '    authors:',
            f'      - name: {_q("The Cancer Imaging Archive")}',
        ]
        if e.doi:
            lines.append(f'    doi: {_q(e.doi)}')
        if e.version:
            lines.append(f'    version: {_q(e.version)}')
    return '\n'.join(lines) + '\n'


def listing(repo: Path) -> list[dict[str, Any]]:
    """The collections the top-level dataset at ``repo`` lists (its
    committed ``collections.json``)."""
    blob = cat_blobs(repo, [f'HEAD:{LISTING}']).get(f'HEAD:{LISTING}')
    try:
        data = json.loads(blob or b'[]')
    except ValueError:
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
