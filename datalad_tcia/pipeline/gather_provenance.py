"""Where a collection's data came from, read from its metadata records,
and its DataCite record (for the collection dataset's provenance record
and ``CITATION.cff``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
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
    Provenance,
    citation_cff,
)
from datalad_tcia.metadata import CollectionRecords, SeriesRecords
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.git import cat_blobs

lgr = logging.getLogger('datalad.tcia.pipeline.gather_provenance')


def collection_doi(stored: CollectionRecords) -> str | None:
    """The collection's DOI, from NBIA's series records."""
    for series in stored.patients.values():
        for dep in series:
            doi = doi_from_uri(dep.series.data_description_uri)
            if doi:
                return doi
    return None


@dataclass(frozen=True)
class PatientSummary:
    """What the collection step needs of one patient's series, kept in the
    patient's built record (:mod:`.ledger`) so that an unchanged patient's
    series are not read again.

    Attributes
    ----------
    apis, idc_versions, sources, licences: tuple of str
      NBIA APIs, IDC index versions, acquisition sources and licence names
      its series records name.
    bucket_versions: tuple of str
      The IDC index versions of its series acquired from IDC's bucket.
    studies, series, files, bytes: int
      What its dataset holds.
    license_text: str or None
      The LICENSE text of its archives; ``made_license``: the text made
      from its series' licence (for series from IDC, which come without).
    doi: str or None
      The collection's DOI as its series records give it.
    """

    apis: tuple[str, ...] = ()
    idc_versions: tuple[str, ...] = ()
    bucket_versions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    studies: int = 0
    series: int = 0
    files: int = 0
    bytes: int = 0
    licences: tuple[str, ...] = ()
    license_text: str | None = None
    made_license: str | None = None
    doi: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PatientSummary:
        names = {f.name for f in fields(cls)}
        given: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in obj.items()
            if k in names
        }
        return cls(**given)


def summarize_patient(collection: str, deps: Sequence[SeriesRecords]) -> PatientSummary:
    """The :class:`PatientSummary` of a patient's series records."""
    images = [m for d in deps for m in d.images]
    made = next(
        (license_text(collection, d.series) for d in deps if d.series.license_name),
        None,
    )
    idc = {
        str(v)
        for d in deps
        for v in (
            d.record.idc.idc_version if d.record.idc else None,
            d.series.raw.get('IdcVersion'),
        )
        if v
    }
    return PatientSummary(
        apis=tuple(sorted({d.record.api_url for d in deps if d.record.api_url})),
        idc_versions=tuple(sorted(idc)),
        bucket_versions=tuple(
            sorted(
                {
                    d.record.idc.idc_version
                    for d in deps
                    if d.record.source == 'idc' and d.record.idc
                }
            )
        ),
        sources=tuple(sorted({d.record.source for d in deps})),
        studies=len({d.series.study_uid for d in deps}),
        series=len(deps),
        files=len(images),
        bytes=sum(m.size for m in images),
        licences=tuple(
            sorted({d.series.license_name for d in deps if d.series.license_name})
        ),
        license_text=next(
            (d.record.license_text for d in deps if d.record.license_text), None
        ),
        made_license=made,
        doi=next(
            (doi for d in deps if (doi := doi_from_uri(d.series.data_description_uri))),
            None,
        ),
    )


def license_text(collection: str, series: SeriesInfo) -> str:
    """The LICENSE text NBIA writes into its archives (``nbia-api.md``
    4.1), from a series' licence name and URL.

    >>> s = SeriesInfo('1', None, None, 'C', license_name='CC BY 4.0',
    ...                license_uri='https://creativecommons.org/licenses/by/4.0/')
    >>> license_text('C', s)[:60]
    'License Information. The C collection is distributed under t'
    """
    return (
        f'License Information. The {collection} collection is distributed '
        f'under the {series.license_name or "Not Specified"} at '
        f'{series.license_uri or "Not Specified"} By downloading the data, '
        'you agree to abide by terms of this license.\n'
    )


def summarize_patients(stored: CollectionRecords) -> list[PatientSummary]:
    """A summary of each patient of a metadata records."""
    name = stored.layout.collection
    return [
        summarize_patient(name, deps) for _, deps in sorted(stored.patients.items())
    ]


def provenance_record(
    stored: CollectionRecords,
    citation: Citation | None,
    idc_version: str | None = None,
) -> dict[str, Any]:
    """The provenance record of the collection dataset (``idc_version``:
    the IDC index this run consulted)."""
    return provenance_of(
        stored.layout, summarize_patients(stored), citation, idc_version
    )


def provenance_of(
    layout: StoreLayout,
    summaries: Sequence[PatientSummary],
    citation: Citation | None,
    idc_version: str | None = None,
    describes: Sequence[str] = (),
) -> dict[str, Any]:
    """The provenance record of the collection dataset from the summaries
    of its patients (``describes``: for an analysis result, the
    collections it describes)."""
    apis = sorted({a for p in summaries for a in p.apis})
    idc = sorted({v for p in summaries for v in p.idc_versions})
    from_bucket = sorted(
        {v for p in summaries for v in p.bucket_versions}, key=_release
    )
    return Provenance(
        layout.collection,
        layout.cid,
        nbia_api=apis[-1] if apis else None,
        doi=next((p.doi for p in summaries if p.doi), None),
        datacite_version=citation.version if citation else None,
        idc_index_version=idc_version or (idc[-1] if idc else None),
        sources=[s for p in summaries for s in p.sources],
        idc_data_version=f'v{_release(from_bucket[-1])}'
        if from_bucket and _release(from_bucket[-1])
        else None,
        holdings=holdings(summaries),
        describes=describes,
    ).to_json()


def holdings(summaries: Sequence[PatientSummary]) -> dict[str, Any]:
    """What the collection's datasets hold: patients, studies, series,
    files and their bytes, and the licence (NBIA's short name)."""
    licences = sorted({n for p in summaries for n in p.licences})
    return {
        'patients': sum(1 for p in summaries if p.series),
        'studies': sum(p.studies for p in summaries),
        'series': sum(p.series for p in summaries),
        'files': sum(p.files for p in summaries),
        'bytes': sum(p.bytes for p in summaries),
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
    datacite: CitationLookup, stored: CollectionRecords
) -> Citation | None:
    """The collection's DataCite record, or ``None`` (no DOI, DataCite
    unreachable or without the DOI: the catalog step says so)."""
    doi = collection_doi(stored)
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
