"""The parts of a DataCite DOI record that a catalog shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ORCID = re.compile(r'(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$')
_DOI = re.compile(r'(10\.\d{4,9}/\S+)$')


def doi_from_uri(uri: str | None) -> str | None:
    """The DOI in NBIA's ``DataDescriptionURI``, lower-cased.

    >>> doi_from_uri('https://doi.org/10.7937/K9/TCIA.2016.7O02S9CY')
    '10.7937/k9/tcia.2016.7o02s9cy'
    >>> doi_from_uri('https://www.cancerimagingarchive.net/x') is None
    True
    """
    if not uri:
        return None
    match = _DOI.search(uri.strip())
    return match.group(1).lower() if match else None


def orcid(identifier: Mapping[str, Any]) -> str | None:
    """An ORCID iD from a ``nameIdentifiers`` entry, in either form TCIA
    uses: ``https://orcid.org/0000-...`` (scheme ``ORCID``) or a bare
    ``0000-...`` (scheme ``Other``).

    >>> orcid({'nameIdentifier': '0000-0003-2665-753X',
    ...        'nameIdentifierScheme': 'Other'})
    '0000-0003-2665-753X'
    >>> orcid({'nameIdentifier': 'https://orcid.org/0000-0002-1825-0097'})
    '0000-0002-1825-0097'
    """
    value = str(identifier.get('nameIdentifier') or '').strip()
    scheme = str(identifier.get('nameIdentifierScheme') or '').upper()
    match = _ORCID.search(value)
    if match and (scheme in ('ORCID', 'OTHER', '') or 'orcid.org' in value):
        return match.group(1)
    return None


@dataclass(frozen=True)
class Creator:
    """One creator of a dataset."""

    name: str
    given_name: str | None = None
    family_name: str | None = None
    orcid: str | None = None


@dataclass(frozen=True)
class Citation:
    """A collection's DataCite record, reduced to what users cite."""

    doi: str
    title: str | None = None
    creators: list[Creator] = field(default_factory=list)
    publisher: str | None = None
    publication_year: int | None = None
    version: str | None = None
    license_name: str | None = None
    license_url: str | None = None
    abstract: str | None = None
    short_name: str | None = None
    url: str | None = None

    @classmethod
    def from_jsonapi(cls, doc: Mapping[str, Any]) -> Citation:
        """From a ``GET /dois/<doi>`` JSON:API document."""
        data = doc.get('data') or {}
        attrs: Mapping[str, Any] = data.get('attributes') or {}
        titles = [t for t in attrs.get('titles') or [] if isinstance(t, dict)]
        main = next((t for t in titles if not t.get('titleType')), None) or (
            titles[0] if titles else {}
        )
        creators = []
        for c in attrs.get('creators') or []:
            if not isinstance(c, dict):
                continue
            ids = [
                orcid(i) for i in c.get('nameIdentifiers') or [] if isinstance(i, dict)
            ]
            creators.append(
                Creator(
                    name=str(c.get('name') or ''),
                    given_name=c.get('givenName'),
                    family_name=c.get('familyName'),
                    orcid=next((i for i in ids if i), None),
                )
            )
        rights = next(
            (r for r in attrs.get('rightsList') or [] if isinstance(r, dict)), {}
        )
        abstract = next(
            (
                d.get('description')
                for d in attrs.get('descriptions') or []
                if isinstance(d, dict) and d.get('descriptionType') == 'Abstract'
            ),
            None,
        )
        short = next(
            (
                i.get('identifier')
                for i in attrs.get('identifiers') or []
                if isinstance(i, dict) and i.get('identifierType') == 'TCIA Short Name'
            ),
            None,
        )
        publisher = attrs.get('publisher')
        if isinstance(publisher, dict):
            publisher = publisher.get('name')
        year = attrs.get('publicationYear')
        return cls(
            doi=str(attrs.get('doi') or data.get('id') or '').lower(),
            title=main.get('title'),
            creators=creators,
            publisher=publisher,
            publication_year=int(str(year)) if str(year or '').isdigit() else None,
            version=str(attrs['version']) if attrs.get('version') else None,
            license_name=rights.get('rights'),
            license_url=rights.get('rightsUri'),
            abstract=abstract,
            short_name=short,
            url=attrs.get('url'),
        )
