"""What the collection dataset says of itself: where and when it came from
(``.datalad/tcia/provenance.json``) and how to cite it (``CITATION.cff``,
from the collection's DataCite record).

Both are committed to git in the collection dataset. The provenance's
``updated`` time and tool version change only together with its content
(API, DOI, DataCite version) or the patients' commits: a run that finds
nothing new changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from datalad_tcia._version import __version__
from datalad_tcia.datacite import Citation

PROVENANCE = '.datalad/tcia/provenance.json'
CITATION = 'CITATION.cff'

#: provenance fields refreshed with a change but never a change themselves
_VOLATILE = ('updated', 'datalad_tcia_version', 'idc_index_version')


@dataclass(frozen=True)
class Provenance:
    """The provenance record of a collection (or analysis result) dataset.

    Attributes
    ----------
    collection, collection_id: str
      Its name and its folder in the store.
    nbia_api, doi, datacite_version, idc_index_version: str or None
      The NBIA API its series came from, its DOI, the DataCite record's
      version, the IDC index consulted.
    sources: sequence of str
      Where its series were acquired from (``nbia``, ``idc``, ``file``).
    idc_data_version: str or None
      The IDC release of the series from IDC (``v25``).
    holdings: mapping or None
      What it holds (``patients``, ``studies``, ``series``, ``files``,
      ``bytes``, ``license``: what the store's top-level dataset and
      catalog list).
    describes: sequence of str
      For an analysis result, the ids of the collections it describes.
    """

    collection: str
    collection_id: str
    nbia_api: str | None = None
    doi: str | None = None
    datacite_version: str | None = None
    idc_index_version: str | None = None
    sources: Sequence[str] = ()
    idc_data_version: str | None = None
    holdings: Mapping[str, Any] | None = None
    describes: Sequence[str] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as committed (``updated`` now; unknowns left out)."""
        record = {
            'collection': self.collection,
            'collection_id': self.collection_id,
            'nbia_api': self.nbia_api,
            'doi': self.doi,
            'datacite_version': self.datacite_version,
            'idc_index_version': self.idc_index_version,
            'acquired_from': sorted(set(self.sources)) or None,
            'idc_data_version': self.idc_data_version,
            'holdings': dict(self.holdings) if self.holdings else None,
            'describes': list(self.describes) or None,
            'datalad_tcia_version': __version__,
            'updated': datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        }
        return {k: v for k, v in record.items() if v is not None}


def provenance_bytes(new: Mapping[str, Any], old: bytes | None, changed: bool) -> bytes:
    """The file to commit: ``old`` as it is when nothing but the volatile
    fields differ and the dataset did not change otherwise, else ``new``.

    >>> old = b'{"collection": "C", "updated": "1"}'
    >>> provenance_bytes({'collection': 'C', 'updated': '2'}, old, False) == old
    True
    """
    if old is not None and not changed:
        try:
            before = json.loads(old)
        except ValueError:
            before = None
        if isinstance(before, dict) and _stable(before) == _stable(new):
            return old
    return (json.dumps(dict(new), indent=1, ensure_ascii=False) + '\n').encode()


def _stable(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _VOLATILE}


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def citation_cff(citation: Citation, what: str = 'collection') -> str:
    """``CITATION.cff`` (Citation File Format 1.2.0) of a DataCite record
    of a ``what`` (``collection``, ``analysis result``).

    >>> from datalad_tcia.datacite.record import Creator
    >>> c = Citation('10.7937/x', title='T', version='2',
    ...              creators=[Creator('Lovelace, Ada', 'Ada', 'Lovelace',
    ...                                '0000-0002-1825-0097')])
    >>> print(citation_cff(c))  # doctest: +ELLIPSIS
    cff-version: 1.2.0
    message: "If you use this dataset, please cite it as below."
    type: dataset
    title: "T"
    doi: "10.7937/x"
    version: "2"
    authors:
      - family-names: "Lovelace"
        given-names: "Ada"
        orcid: "https://orcid.org/0000-0002-1825-0097"
    ...
    """
    lines = [
        'cff-version: 1.2.0',
        f'message: {_q("If you use this dataset, please cite it as below.")}',
        'type: dataset',
        f'title: {_q(citation.title or citation.short_name or citation.doi)}',
        f'doi: {_q(citation.doi)}',
    ]
    if citation.version:
        lines.append(f'version: {_q(citation.version)}')
    lines.append('authors:')
    for person in citation.creators or []:
        if person.family_name:
            lines.append(f'  - family-names: {_q(person.family_name)}')
            if person.given_name:
                lines.append(f'    given-names: {_q(person.given_name)}')
        else:
            lines.append(f'  - name: {_q(person.name or "unknown")}')
        if person.orcid:
            lines.append(f'    orcid: {_q("https://orcid.org/" + person.orcid)}')
    if not citation.creators:
        publisher = citation.publisher or 'The Cancer Imaging Archive'
        lines.append(f'  - name: {_q(publisher)}')
    if citation.license_url:
        lines.append(f'license-url: {_q(citation.license_url)}')
    lines.append(f'url: {_q(citation.url or "https://doi.org/" + citation.doi)}')
    if citation.abstract:
        lines.append(f'abstract: {_q(citation.abstract)}')
    lines += [
        'identifiers:',
        '  - type: doi',
        f'    value: {_q(citation.doi)}',
        f'    description: {_q(f"The {what} in The Cancer Imaging Archive")}',
    ]
    return '\n'.join(lines) + '\n'
