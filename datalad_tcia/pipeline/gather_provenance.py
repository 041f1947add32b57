"""Where a collection's data came from, read from its metadata deposit,
and its DataCite record (for the collection dataset's provenance record
and ``CITATION.cff``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from datalad_tcia.datacite import (
    Citation,
    CitationLookup,
    DataCiteError,
    doi_from_uri,
)
from datalad_tcia.dataset.provenance import (
    CITATION,
    PROVENANCE,
    citation_cff,
    provenance,
)
from datalad_tcia.metadata import CollectionDeposit
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.git import cat_blobs

lgr = logging.getLogger('datalad.tcia.pipeline.gather_provenance')


def collection_doi(deposit: CollectionDeposit) -> str | None:
    """The collection's DOI, from NBIA's series records."""
    for series in deposit.patients.values():
        for dep in series:
            doi = doi_from_uri(dep.series.data_description_uri)
            if doi:
                return doi
    return None


def provenance_record(
    deposit: CollectionDeposit,
    citation: Citation | None,
    idc_version: str | None = None,
) -> dict[str, Any]:
    """The provenance record of the collection dataset (``idc_version``:
    the IDC index this run consulted)."""
    deps = [d for series in deposit.patients.values() for d in series]
    apis = sorted({d.record.api_url for d in deps if d.record.api_url})
    idc = sorted(
        {
            str(v)
            for d in deps
            for v in (
                d.record.idc.idc_version if d.record.idc else None,
                d.series.raw.get('IdcVersion'),
            )
            if v
        }
    )
    from_bucket = sorted(
        (
            d.record.idc.idc_version
            for d in deps
            if d.record.source == 'idc' and d.record.idc
        ),
        key=_release,
    )
    layout = deposit.layout
    return provenance(
        layout.collection,
        layout.cid,
        nbia_api=apis[-1] if apis else None,
        doi=collection_doi(deposit),
        datacite_version=citation.version if citation else None,
        idc_index_version=idc_version or (idc[-1] if idc else None),
        sources=[d.record.source for d in deps],
        idc_data_version=f'v{_release(from_bucket[-1])}'
        if from_bucket and _release(from_bucket[-1])
        else None,
        holdings=holdings(deposit),
    )


def holdings(deposit: CollectionDeposit) -> dict[str, Any]:
    """What the collection's datasets hold: patients, studies, series,
    files and their bytes, and the licence (NBIA's short name)."""
    deps = [d for series in deposit.patients.values() for d in series]
    images = [m for d in deps for m in d.images]
    licences = sorted({d.series.license_name for d in deps if d.series.license_name})
    return {
        'patients': len(deposit.patients),
        'studies': len({d.series.study_uid for d in deps}),
        'series': len(deps),
        'files': len(images),
        'bytes': sum(m.size for m in images),
        'license': ', '.join(licences) or None,
    }


def _release(index_version: str) -> int:
    """IDC's data release of an idc-index-data version (``25.0.5``: 25).

    >>> _release('25.0.5'), _release('unknown')
    (25, 0)
    """
    head = index_version.split('.', 1)[0]
    return int(head) if head.isdigit() else 0


def lookup_citation(
    datacite: CitationLookup, deposit: CollectionDeposit
) -> Citation | None:
    """The collection's DataCite record, or ``None`` (no DOI, DataCite
    unreachable or without the DOI: the catalog step says so)."""
    doi = collection_doi(deposit)
    if not doi:
        return None
    try:
        return datacite.citation(doi)
    except DataCiteError as e:
        lgr.debug('no DataCite record of %s: %s', doi, e)
        return None


def citation_current(datacite: CitationLookup, layout: StoreLayout) -> bool:
    """Whether the collection dataset's ``CITATION.cff`` is what DataCite's
    record says now (one request; ``True`` when there is nothing to compare
    or DataCite cannot be asked)."""
    path = layout.collection_repo
    blobs = cat_blobs(path, [f'HEAD:{PROVENANCE}', f'HEAD:{CITATION}'])
    try:
        record = json.loads(blobs.get(f'HEAD:{PROVENANCE}', b'{}'))
    except ValueError:
        return False
    doi = record.get('doi') if isinstance(record, dict) else None
    if not doi:
        return True
    try:
        citation = datacite.citation(str(doi))
    except DataCiteError as e:
        lgr.debug('cannot compare the citation of %s: %s', doi, e)
        return True
    if citation is None:
        return True
    return blobs.get(f'HEAD:{CITATION}') == citation_cff(citation).encode()
