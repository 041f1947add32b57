"""An analysis result's links to the images it describes, both ways.

Every object of an analysis result names the series it was made of (its
per-file record's ``ReferencedSeriesInstanceUID``, read from the DICOM
references; see :mod:`datalad_tcia.archive.references`). Here each
referenced series is resolved to its collection, patient and study: by
the IDC index (any series IDC holds), else by the store (a collection
recorded there), else left with its UID alone. The result, the
analysis result's *record*, is kept in the store
(``<store>/<id>/metadata/analysis_result.json``, for the catalog) and
committed to the analysis result's dataset
(``.datalad/tcia/analysis_result.json``)::

    {"analysis_result": {id, title, DOI, licence, citation, ...},
     "collections": [{"collection", "collection_id", "patients",
                      "series"}],
     "series": {<its series>: {"Modality", "PatientID",
                "StudyInstanceUID", "Collection", "references": [<uid>]}},
     "referenced": {<a described series>: {"Collection", "collection_id",
                    "PatientID", "StudyInstanceUID", "Modality",
                    "resolved_by": "idc-index" | "store" | null,
                    "described_by": [<its series>]}}}

A collection's dataset never changes for an analysis result: the way back
(from a CT series to its segmentations) is ``referenced`` here, the
git-annex metadata of the analysis result's files
(``referencedseriesinstanceuid``) and the catalog.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from datalad_tcia.archive.references import REFERENCED_SERIES
from datalad_tcia.datacite import Citation
from datalad_tcia.idc import AnalysisResult, idc_collection_id, normalize_doi
from datalad_tcia.metadata import (
    CollectionRecords,
    MetadataError,
    SeriesRecords,
    read_collection,
    read_series_record,
)
from datalad_tcia.store import StoreLayout, atomic_write_json, collection_dirs

from .third_party import known_analyses

if TYPE_CHECKING:
    from datalad_tcia.idc import IdcIndex

lgr = logging.getLogger('datalad.tcia.pipeline.link_references')

#: the record's path in the analysis result's dataset
ANALYSIS_FILE = '.datalad/tcia/analysis_result.json'


def _series(stored: CollectionRecords) -> list[SeriesRecords]:
    return [d for deps in stored.patients.values() for d in deps]


def _references(stored: CollectionRecords) -> dict[str, dict[str, Any]]:
    """Each series of ``stored``: what it is and what it references."""
    out = {}
    for dep in _series(stored):
        s = dep.series
        refs = {
            str(uid)
            for rec in dep.images
            for uid in rec.tags.get(REFERENCED_SERIES) or ()
        }
        out[s.series_uid] = {
            'Modality': s.modality,
            'PatientID': s.patient_id,
            'StudyInstanceUID': s.study_uid,
            'Collection': s.collection,
            'references': sorted(refs),
        }
    return dict(sorted(out.items()))


def _in_store(layout: StoreLayout, uids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The series of ``uids`` recorded in the store's collections (one
    listing of each collection's records, not one look per series)."""
    found: dict[str, dict[str, Any]] = {}
    wanted = set(uids)
    for folder in collection_dirs(layout.store):
        if not wanted:
            break
        if folder.name == layout.cid:
            continue
        other = StoreLayout(layout.store, folder.name)
        for uid in sorted(wanted.intersection(other.recorded_series())):
            try:
                s = read_series_record(other, uid).series
            except (FileNotFoundError, MetadataError):
                continue
            found[uid] = _where(s.collection, s.patient_id, s.study_uid, s.modality)
            found[uid]['resolved_by'] = 'store'
            wanted.discard(uid)
    return found


def _where(
    collection: str | None, patient: str | None, study: str | None, modality: str | None
) -> dict[str, Any]:
    return {
        'Collection': collection,
        'collection_id': idc_collection_id(collection) if collection else None,
        'PatientID': patient,
        'StudyInstanceUID': study,
        'Modality': modality,
    }


def resolve_references(
    layout: StoreLayout, series: Mapping[str, Mapping[str, Any]], index: IdcIndex | None
) -> dict[str, dict[str, Any]]:
    """Every series ``series`` reference, resolved to its collection,
    patient and study (by the IDC index, else the store), with the series
    that describe it."""
    described_by: dict[str, list[str]] = {}
    for uid, entry in series.items():
        for ref in entry['references']:
            described_by.setdefault(ref, []).append(uid)
    uids = sorted(described_by)
    found: dict[str, dict[str, Any]] = {}
    if index is not None:
        for uid, s in index.series_many(uids).items():
            found[uid] = _where(s.collection, s.patient_id, s.study_uid, s.modality)
            found[uid]['resolved_by'] = 'idc-index'
    found.update(_in_store(layout, [u for u in uids if u not in found]))
    out = {}
    for uid in uids:
        entry = found.get(uid) or {
            **_where(None, None, None, None),
            'resolved_by': None,
        }
        out[uid] = {**entry, 'described_by': sorted(described_by[uid])}
    return out


def analysis_record(
    stored: CollectionRecords,
    analysis: AnalysisResult,
    index: IdcIndex | None,
) -> dict[str, Any]:
    """The record of the analysis result whose whole metadata records are
    ``stored`` (see the module's description)."""
    series = _references(stored)
    referenced = resolve_references(stored.layout, series, index)
    counts: dict[str, tuple[set[str], int]] = {}
    for entry in series.values():
        name = str(entry['Collection'] or '')
        patients, n = counts.get(name, (set(), 0))
        patients.add(str(entry['PatientID']))
        counts[name] = (patients, n + 1)
    return {
        'analysis_result': analysis.to_json(),
        'collections': [
            {
                'collection': name,
                'collection_id': idc_collection_id(name),
                'patients': len(patients),
                'series': n,
            }
            for name, (patients, n) in sorted(counts.items())
        ],
        'series': series,
        'referenced': referenced,
    }


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The record as committed (stable: sorted keys)."""
    return (
        json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + '\n'
    ).encode()


def load_analysis_record(layout: StoreLayout) -> dict[str, Any] | None:
    """The store's record of the analysis result at ``layout``, if it is
    one."""
    try:
        record = json.loads(layout.analysis_record.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def link_analysis_result(
    layout: StoreLayout,
    stored: CollectionRecords,
    index: IdcIndex | None,
    *,
    changed: bool,
) -> dict[str, Any] | None:
    """The record of the analysis result at ``layout`` (``None`` for a
    collection), made again from its whole records if its datasets
    ``changed`` or it has none yet, and kept in the store.

    Raises
    ------
    OSError
      If the store cannot be written.
    """
    old = load_analysis_record(layout)
    if old is not None and not changed:
        return old
    ident = next(
        (d.series.analysis_result for d in _series(stored) if d.series.analysis_result),
        None,
    )
    if ident is None and old is None:
        return None
    whole = read_collection(layout.store, layout.collection)
    if ident is None and old is not None:
        ident = str(old['analysis_result']['analysis_result_id'])
    known = known_analyses(None, None, index)
    analysis = known.get(str(ident)) or AnalysisResult(str(ident))
    if analysis.doi is None:
        # one only NBIA lists: its DOI is that of its series
        doi = next((d.series.data_description_uri for d in _series(whole)), None)
        if doi:
            analysis = AnalysisResult(str(ident), doi=normalize_doi(doi))
    record = analysis_record(whole, analysis, index)
    if record != old:
        atomic_write_json(layout.analysis_record, record)
        lgr.info(
            '%s: %d series describing %d series of %s',
            ident,
            len(record['series']),
            len(record['referenced']),
            ', '.join(c['collection_id'] for c in record['collections']),
        )
    return record


def index_citation(record: Mapping[str, Any]) -> Citation | None:
    """How the IDC index says to cite an analysis result IDC published
    (not TCIA: a DOI outside ``10.7937/``, e.g. Zenodo's); ``None`` for
    TCIA's, whose DataCite record is cited."""
    entry = record.get('analysis_result') or {}
    doi = str(entry.get('doi') or '')
    if not doi or doi.startswith('10.7937/'):
        return None
    return Citation(
        doi,
        title=entry.get('title'),
        publisher='Imaging Data Commons',
        license_name=entry.get('license_name'),
        license_url=entry.get('license_url'),
        abstract=entry.get('citation'),
        url=entry.get('source_url'),
    )


def described_collections(record: Mapping[str, Any] | None) -> list[str]:
    """The ids of the collections an analysis record's series describe."""
    if not record:
        return []
    return sorted({str(c['collection_id']) for c in record.get('collections') or ()})


def analyses_of(store_layouts: Sequence[StoreLayout], cid: str) -> list[dict[str, Any]]:
    """The analysis results among ``store_layouts`` that describe the
    collection ``cid``: their ``analysis_result`` entries plus
    ``folder`` (their place in the store) and ``series`` (theirs of it)."""
    out = []
    for layout in store_layouts:
        record = load_analysis_record(layout)
        if record is None or cid not in described_collections(record):
            continue
        mine = next(c for c in record['collections'] if c['collection_id'] == cid)
        out.append(
            {
                **record['analysis_result'],
                'folder': layout.cid,
                'series': mine['series'],
                'patients': mine['patients'],
            }
        )
    return out
