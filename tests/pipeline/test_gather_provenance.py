"""``pipeline/gather_provenance.py``: where a collection's data came
from, and its DataCite record asked once."""

from __future__ import annotations

from tcia_lookalike import LookalikeServer

from datalad_tcia.metadata import read_collection
from datalad_tcia.pipeline import RunSettings, build_datasets
from datalad_tcia.pipeline.gather_provenance import (
    citation_current,
    collection_doi,
    lookup_citation,
    provenance_record,
)
from datalad_tcia.store import StoreLayout

from .conftest import PHI, RT, acquire


def test_provenance_of_an_nbia_collection(
    tcia: LookalikeServer, acquired: RunSettings
) -> None:
    stored = read_collection(acquired.store, PHI)
    doi = tcia.archive.collection(PHI).doi  # type: ignore[union-attr]
    assert collection_doi(stored) == doi == '10.7937/s17z-r072'
    tcia.reset()
    citation = lookup_citation(acquired.citations, stored)
    assert citation is not None and citation.doi.lower() == doi
    assert lookup_citation(acquired.citations, stored) is citation
    assert [r.endpoint for r in tcia.requests()] == ['dois']  # asked once
    record = provenance_record(stored, citation)
    assert record['collection'] == PHI
    assert record['doi'] == doi and record['datacite_version'] == citation.version
    assert record['nbia_api'] == acquired.nbia.base_url
    assert record['acquired_from'] == ['nbia']
    assert 'idc_index_version' not in record  # no IDC this run
    assert provenance_record(stored, None, '25.0.5')['idc_index_version'] == '25.0.5'


def test_no_doi_no_citation_and_nothing_asked(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    acquire(settings, RT)
    stored = read_collection(settings.store, RT)
    tcia.reset()
    assert collection_doi(stored) is None
    assert lookup_citation(settings.citations, stored) is None
    assert tcia.requests() == []


def test_citation_current_compares_citation_cff(
    tcia: LookalikeServer, built: RunSettings
) -> None:
    layout = StoreLayout(built.store, PHI)
    # built without a citation: CITATION.cff is not DataCite's record
    assert not citation_current(built.citations, layout)
    stored = read_collection(built.store, PHI)
    citation = lookup_citation(built.citations, stored)
    assert citation is not None
    out = list(build_datasets(built, PHI, citation=citation))
    assert out[-1].status == 'ok'
    assert citation_current(built.citations, layout)
