"""Analysis results end to end: built from IDC alone, a user's clone of
the store's top-level dataset gets a patient's segmentations and the CT
images they describe with one command, the catalog pages link both ways
in a browser; and NBIA's third-party series leave a collection built
before they were told apart."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tcia_lookalike.analysis import NODULES

from datalad_tcia.store import StoreLayout, collection_id
from tests.catalog.test_catalog import _chromium
from tests.helpers import DATALAD, fresh_env, run_ok
from tests.idc_fixtures import PHI, AnalysisSide
from tests.pipeline.test_link_references import _add, _described

RT = 'LOOKALIKE-RT'


@pytest.mark.slow
def test_clone_gets_segmentations_and_their_images(
    analysis_side: AnalysisSide, tmp_path: Path, http_store: tuple[Path, str]
) -> None:
    side = analysis_side
    store, base = http_store  # the store, as a web server publishes it
    for kw in ({'collection': PHI}, {'collection': RT}, {'analysis_result': NODULES}):
        res = _add(side, store, **kw)
        assert all(r['status'] in ('ok', 'notneeded') for r in res), kw
    assert {r.endpoint for r in side.srv.requests()} <= {'dois'}
    seg = next(
        s
        for s in side.srv.archive.analyses[0].series
        if s.modality == 'SEG' and s.collection.name == RT
    )
    ct = _described(seg)
    pid = ct.patient.patient_id
    # the documented command, in a clone of the top-level dataset
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', (store / 'tcia.git').as_uri(), str(clone)], tmp_path, env)
    run_ok(
        [DATALAD, 'get', f'{collection_id(RT)}/{pid}', f'{NODULES}/{pid}'], clone, env
    )
    truth = {i.md5 for s in (seg, ct) for i in s.instances}
    got = set()
    for folder in (clone / collection_id(RT) / pid, clone / NODULES / pid):
        for f in folder.rglob('*.dcm'):
            if '.git' not in f.relative_to(folder).parts:
                got.add(hashlib.md5(f.read_bytes()).hexdigest())
    assert truth <= got
    # from the CT series to its segmentation and report, in the clone
    found = run_ok(
        [
            'git',
            'annex',
            'find',
            f'--metadata=referencedseriesinstanceuid={ct.uid}',
        ],
        clone / NODULES / pid,
        env,
    ).splitlines()
    assert len(found) == 2
    # and back: the analysis result's record names the CT series
    record = json.loads(
        (clone / NODULES / '.datalad' / 'tcia' / 'analysis_result.json').read_text()
    )
    assert record['series'][seg.uid]['references'] == [ct.uid]
    assert record['referenced'][ct.uid]['PatientID'] == pid
    _browse(base)


def _browse(base: str) -> None:
    """In Chromium (the store served at ``base``): the collection's page
    links its analysis result, whose page links both collections."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(), headless=True, args=['--no-sandbox']
        )
        page = browser.new_page()
        page.goto(f'{base}/{collection_id(RT)}/catalog/index.html')
        page.get_by_text('analysis results', exact=True).first.click()
        page.click(f'a[href="../../{NODULES}/catalog/index.html"]')
        page.wait_for_url(f'**/{NODULES}/catalog/**', timeout=30000)
        page.get_by_text('collections', exact=True).first.click()
        for cid in (collection_id(PHI), collection_id(RT)):
            page.locator(f'a[href="../../{cid}/catalog/index.html"]').wait_for(
                timeout=30000
            )
        page.click(f'a[href="../../{collection_id(PHI)}/catalog/index.html"]')
        page.locator('[id="patients_Pseudo-PHI-001"]').wait_for(timeout=30000)
        browser.close()


@pytest.mark.slow
def test_nbia_third_party_series_move_to_their_analysis_result(
    analysis_side: AnalysisSide, tmp_path: Path
) -> None:
    """A collection built while NBIA's third-party series were taken as
    its own: the next --update withdraws them from it (a new version; no
    other file's key changes), and --with-analysis-results puts them into
    their analysis result's dataset, named as IDC names it."""
    side = analysis_side
    archive = side.srv.archive
    analysis = archive.analyses[0]
    mine = [s for s in analysis.series if s.collection.name == PHI]
    store = tmp_path / 'store'
    # before: NBIA lists them without marking them (as the project read it)
    for s in mine:
        s.analysis = None
        archive.publish(s)
    try:
        res = _add_nbia(side, store, collection=PHI)
        assert all(r['status'] in ('ok', 'notneeded') for r in res)
        phi = StoreLayout(store, PHI)
        assert {s.uid for s in mine} <= set(phi.recorded_series())
        keys_before = _keys(phi)
        # now NBIA marks them third-party
        for s in mine:
            s.analysis = analysis
        res = _add_nbia(side, store, update=True)
        gone = [r for r in res if r.get('withdrawn')]
        assert {r['SeriesInstanceUID'] for r in gone} == {s.uid for s in mine}
        assert not set(phi.recorded_series()) & {s.uid for s in mine}
        keys_after = _keys(phi)
        assert {p: k for p, k in keys_before.items() if p in keys_after} == keys_after
        res = _add_nbia(side, store, collection=PHI, with_analysis_results=True)
        assert all(r['status'] in ('ok', 'notneeded') for r in res)
        ar = StoreLayout(store, NODULES)
        assert set(ar.recorded_series()) == {s.uid for s in mine}
        # by its id alone: NBIA asked for the collections it describes
        third = tmp_path / 'third'
        res = _add_nbia(side, third, analysis_result=NODULES)
        assert all(r['status'] in ('ok', 'notneeded') for r in res)
        assert set(StoreLayout(third, NODULES).recorded_series()) == {
            s.uid for s in mine
        }
        assert not (third / collection_id(PHI)).exists()
        # an analysis result the IDC index does not list (here: IDC off,
        # the installed idc-index-data's list): named by its DOI, and
        # updated collection by collection
        other = tmp_path / 'other'
        res = _add_nbia(
            side, other, collection=PHI, with_analysis_results=True, no_idc=True
        )
        assert all(r['status'] in ('ok', 'notneeded') for r in res)
        ident = 'doi_10_7937_tcia_lookalike_nodules'
        assert set(StoreLayout(other, ident).recorded_series()) == {s.uid for s in mine}
        res = _add_nbia(side, other, update=True, no_idc=True)
        assert all(r['status'] in ('ok', 'notneeded') for r in res), [
            r['message'] for r in res if r['status'] not in ('ok', 'notneeded')
        ]
    finally:
        for s in mine:
            s.analysis = analysis
            archive.withdraw(s.uid)
        archive.reindex()


def _add_nbia(side: AnalysisSide, store: Path, **kw: object) -> list[dict]:
    """``tcia-add`` planned by NBIA (IDC's sources as configured)."""
    return _add(side, store, index='nbia', source='auto', **kw)


def _keys(layout: StoreLayout) -> dict[str, str]:
    """Path -> annex key of every file of the collection's datasets."""
    out = {}
    for repo in layout.patient_repos():
        for line in run_ok(['git', 'ls-tree', '-r', 'HEAD'], repo).splitlines():
            meta, path = line.split('\t', 1)
            if meta.startswith('120000'):
                blob = meta.split()[2]
                out[f'{repo.name}/{path}'] = run_ok(
                    ['git', 'cat-file', 'blob', blob], repo
                ).rsplit('/', 1)[-1]
    return out
