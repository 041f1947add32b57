"""An analysis result's dataset: built from IDC alone, every object's
references resolved to the series it describes, linked both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from datalad.api import tcia_add
from tcia_lookalike.analysis import (
    NODULES,
    NODULES_DOI,
    analysis_series,
    seg_instance,
)
from tcia_lookalike.data import Series
from tcia_lookalike.idc_index import index_row, instance_key, write_index

from datalad_tcia.pipeline.link_references import (
    ANALYSIS_FILE,
    analyses_of,
    described_collections,
    load_analysis_record,
    resolve_references,
)
from datalad_tcia.store import StoreLayout
from tests.helpers import run_ok
from tests.idc_fixtures import ANALYSIS_BUCKET, PHI, AnalysisSide

RT = 'LOOKALIKE-RT'


def _add(side: AnalysisSide, store: Path, **kw: Any) -> list[dict]:
    """``tcia-add`` against ``side``: from the IDC index alone unless
    ``kw`` says otherwise."""
    return tcia_add(
        api_url=side.srv.api_url,
        datacite_url=side.srv.datacite_url,
        store=str(store),
        result_renderer='disabled',
        on_failure='ignore',
        **{'index': 'idc', 'source': 'idc', **kw},
    )


def _described(s: Series) -> Series:
    """The CT series the look-alike made ``s`` of."""
    return next(x for st in s.patient.studies for x in st.series if x.modality == 'CT')


def test_analysis_result_from_idc_alone(
    analysis_side: AnalysisSide, tmp_path: Path
) -> None:
    side = analysis_side
    store = tmp_path / 'store'
    res = _add(side, store, analysis_result=NODULES)
    bad = [r['message'] for r in res if r['status'] not in ('ok', 'notneeded')]
    assert not bad
    # from IDC alone: NBIA is not asked (DataCite is, for the DOI)
    assert {r.endpoint for r in side.srv.requests()} <= {'dois'}
    analysis = side.srv.archive.analyses[0]
    layout = StoreLayout(store, NODULES)
    record = load_analysis_record(layout)
    assert record is not None
    assert record['analysis_result']['doi'] == NODULES_DOI
    assert described_collections(record) == ['lookalike_rt', 'pseudo_phi_dicom_data']
    # every object's references resolve to the series it was made of
    assert set(record['series']) == {s.uid for s in analysis.series}
    for s in analysis.series:
        ct = _described(s)
        assert record['series'][s.uid]['references'] == [ct.uid]
        ref = record['referenced'][ct.uid]
        assert (ref['Collection'], ref['PatientID'], ref['StudyInstanceUID']) == (
            ct.collection.name,
            ct.patient.patient_id,
            ct.study.uid,
        )
        assert ref['Modality'] == 'CT' and ref['resolved_by'] == 'idc-index'
        assert s.uid in ref['described_by']
    # committed to its dataset, which says what it describes
    repo = layout.collection_repo
    committed = run_ok(['git', 'show', f'HEAD:{ANALYSIS_FILE}'], repo)
    assert json.loads(committed) == record
    prov = json.loads(
        run_ok(['git', 'show', 'HEAD:.datalad/tcia/provenance.json'], repo)
    )
    assert prov['doi'] == NODULES_DOI
    assert prov['describes'] == ['lookalike_rt', 'pseudo_phi_dicom_data']
    # git-annex metadata: what each file describes (a clone's "git annex
    # find --metadata" is in tests/commands/test_analysis.py)
    ct = _described(analysis.series[0])
    patient = layout.repo(ct.patient.patient_id)
    keys = [
        line.split('\t')[0].split()[2]
        for line in run_ok(['git', 'ls-tree', '-r', 'HEAD'], patient).splitlines()
        if line.startswith('120000')
    ]
    assert len(keys) == 2  # its SEG and its SR
    for blob in keys:
        key = run_ok(['git', 'cat-file', 'blob', blob], patient).rsplit('/', 1)[-1]
        meta = json.loads(
            run_ok(['git', 'annex', 'metadata', '--json', '--key', key], patient)
        )
        assert meta['fields']['referencedseriesinstanceuid'] == [ct.uid]
        assert meta['fields']['analysisresult'] == [NODULES]
        assert meta['fields']['collection'] == [ct.collection.name]
    # the store's top-level dataset lists it as what it is
    listing = json.loads(
        run_ok(
            ['git', 'show', 'HEAD:.datalad/tcia/collections.json'],
            store / '.tcia' / 'repo',
        )
    )
    assert listing[0]['describes'] == ['lookalike_rt', 'pseudo_phi_dicom_data']


def test_with_a_collection_and_linked_catalogs(
    analysis_side: AnalysisSide, tmp_path: Path
) -> None:
    """--with-analysis-results: the collection and the part of the analysis
    result that describes it, each in its own dataset; adding the whole
    analysis result later withdraws nothing; catalogs link both ways."""
    side = analysis_side
    store = tmp_path / 'store'
    res = _add(side, store, collection=PHI, with_analysis_results=True)
    assert all(r['status'] in ('ok', 'notneeded') for r in res)
    phi, ar = StoreLayout(store, PHI), StoreLayout(store, NODULES)
    phi_series = {
        s.uid for s in side.srv.archive.iter_series() if s.collection.name == PHI
    }
    # the collection's datasets hold its original data only
    assert set(phi.recorded_series()) == phi_series
    mine = {
        s.uid for s in side.srv.archive.analyses[0].series if s.collection.name == PHI
    }
    assert set(ar.recorded_series()) == mine
    # the whole analysis result: the other collection's part joins
    res = _add(side, store, analysis_result=NODULES)
    assert not [r for r in res if r.get('withdrawn')]
    assert len(ar.recorded_series()) == len(side.srv.archive.analyses[0].series)
    # the collection's page lists it, its page lists the collections
    entries = analyses_of([ar, phi], phi.cid)
    assert [e['analysis_result_id'] for e in entries] == [NODULES]
    assert entries[0]['series'] == len(mine)
    tabs = _tabs(phi.catalog)
    assert f'../../{NODULES}/catalog/index.html' in json.dumps(tabs['analysis results'])
    tabs = _tabs(ar.catalog)
    links = json.dumps(tabs['collections'])
    assert '../../pseudo_phi_dicom_data/catalog/index.html' in links
    assert '../../lookalike_rt/catalog/index.html' in links
    # without the IDC index, the store's collections resolve references
    ct = _described(next(s for s in side.srv.archive.analyses[0].series))
    by_store = resolve_references(ar, {'x': {'references': [ct.uid, '1.2.3']}}, None)
    assert by_store[ct.uid]['resolved_by'] == 'store'
    assert by_store[ct.uid]['PatientID'] == ct.patient.patient_id
    assert by_store[ct.uid]['described_by'] == ['x']
    assert by_store['1.2.3']['resolved_by'] is None
    # nothing new upstream: nothing changes
    again = _add(side, store, update=True)
    assert not [
        r for r in again if r.get('action') == 'tcia_download' and r['status'] == 'ok'
    ]


def _tabs(catalog: Path) -> dict[str, Any]:
    """The home page's tabs of a catalog site, by name."""
    home = json.loads((catalog / 'metadata' / 'super.json').read_text())
    record = next(
        rec
        for p in (catalog / 'metadata').rglob('*.json')
        if p.name != 'super.json'
        and (rec := json.loads(p.read_text())).get('type') == 'dataset'
        and rec.get('dataset_id') == home['dataset_id']
    )
    return {t['name']: t['content'] for t in record['additional_display']}


def test_a_new_release_versions_the_analysis_result_only(
    analysis_side: AnalysisSide,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IDC release 26 adds a segmentation of a collection's CT series: the
    next --update makes a new version of the analysis result, none of the
    collection."""
    import datalad

    side = analysis_side
    store = tmp_path / 'store'
    res = _add(side, store, collection=PHI, with_analysis_results=True)
    assert all(r['status'] in ('ok', 'notneeded') for r in res)
    phi, ar = StoreLayout(store, PHI), StoreLayout(store, NODULES)
    before = {lay.cid: _tags(lay) for lay in (phi, ar)}
    analysis = side.srv.archive.analyses[0]
    ct = _described(next(s for s in analysis.series if s.collection.name == PHI))
    extra = analysis_series(
        analysis, ct, 'SEG', 9003, key='release-26', description='a second reader'
    )
    extra.instances.append(seg_instance(extra, ct))
    for inst in extra.instances:
        side.s3.put(ANALYSIS_BUCKET, instance_key(extra, inst), inst.data)
    index = write_index(
        side.srv.archive,
        tmp_path / 'v26' / 'idc_index.parquet',
        version='26.0.0',
        bucket=ANALYSIS_BUCKET,
        extra_rows=[index_row(extra, ANALYSIS_BUCKET)],
    )
    monkeypatch.setenv('DATALAD_TCIA_IDC__INDEX', str(index))
    datalad.cfg.reload(force=True)
    res = _add(side, store, update=True)
    assert all(r['status'] in ('ok', 'notneeded') for r in res)
    after = {lay.cid: _tags(lay) for lay in (phi, ar)}
    assert after[phi.cid] == before[phi.cid]
    assert len(after[ar.cid]) == len(before[ar.cid]) + 1
    record = load_analysis_record(ar)
    assert record is not None
    assert extra.uid in record['referenced'][ct.uid]['described_by']


def _tags(layout: StoreLayout) -> list[str]:
    return run_ok(['git', 'tag', '-l', 'tcia-*'], layout.collection_repo).split()
