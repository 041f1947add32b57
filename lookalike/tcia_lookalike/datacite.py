"""DataCite ``GET /dois/<doi>`` records for the look-alike's collections.

The record of ``10.7937/s17z-r072`` is a real one (see ``resources/``). The
record of the encodings collection is made up to cover what catalog code
must survive: ORCIDs given as URLs with scheme ``ORCID`` (the real record
gives bare ORCIDs with scheme ``Other``), an empty rights list, a multi-line
abstract, and markup in a creator name and the title.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from .data import Archive

CLIENT = {'client': {'data': {'id': 'nihnci.tcia', 'type': 'clients'}}}

NOT_FOUND = {
    'errors': [
        {'status': '404', 'title': "The resource you are looking for doesn't exist."}
    ]
}


def _real_record() -> dict[str, Any]:
    text = (
        files('tcia_lookalike') / 'resources' / 'datacite-10.7937_s17z-r072.json'
    ).read_text(encoding='utf-8')
    return json.loads(text)


def _person(family: str, given: str, orcid: str | None) -> dict[str, Any]:
    ids = []
    if orcid:
        ids.append(
            {
                'nameIdentifier': f'https://orcid.org/{orcid}',
                'nameIdentifierScheme': 'ORCID',
                'schemeUri': 'https://orcid.org',
            }
        )
    return {
        'affiliation': [],
        'familyName': family,
        'givenName': given,
        'name': f'{family}, {given}',
        'nameIdentifiers': ids,
        'nameType': 'Personal',
    }


def _made_up_record(doi: str, name: str) -> dict[str, Any]:
    return {
        'doi': doi,
        'url': f'https://www.cancerimagingarchive.net/collection/{name.lower()}/',
        'titles': [
            {
                'title': f'Encodings of DICOM files <b>{name}</b> (look-alike)',
                'titleType': None,
                'lang': None,
            }
        ],
        'creators': [
            _person('Lovelace', 'Ada', '0000-0002-1825-0097'),
            _person('<script>alert("creator")</script>', 'Mallory', None),
            _person('Müller-Łukasiewicz', 'Zoë', '0000-0001-5109-3700'),
        ],
        'publisher': 'The Cancer Imaging Archive',
        'publicationYear': 2024,
        'version': '1',
        'rightsList': [],
        'descriptions': [
            {
                'description': (
                    'A look-alike collection for testing '
                    '<img src=x onerror="window.__tcia_xss.push(\'abstract\')">.\n\n'
                    'Each series uses another DICOM encoding:\n'
                    '- explicit VR big endian\n- deflated\n- RLE\n- JPEG 2000'
                ),
                'descriptionType': 'Abstract',
                'lang': None,
            }
        ],
        'types': {'resourceTypeGeneral': 'Dataset', 'resourceType': 'DICOM'},
        'subjects': [],
        'state': 'findable',
    }


def datacite_records(archive: Archive) -> dict[str, dict[str, Any]]:
    """DOI (lower-case) -> JSON:API document for every collection with a
    DOI and every analysis result."""
    out: dict[str, dict[str, Any]] = {}
    published = [(c.doi, c.name, c.datacite_version) for c in archive.collections]
    # TCIA's analysis results are in DataCite too
    published += [(a.doi, a.title, None) for a in archive.analyses]
    for given, name, version in published:
        if not given:
            continue
        doi = given.lower()
        attrs = (
            _real_record() if doi == '10.7937/s17z-r072' else _made_up_record(doi, name)
        )
        if version:
            attrs = {**attrs, 'version': version}
        out[doi] = {
            'data': {
                'id': doi,
                'type': 'dois',
                'attributes': attrs,
                'relationships': CLIENT,
            }
        }
    return out
