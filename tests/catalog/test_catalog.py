"""``datalad tcia-catalog``: records, schema validation, and the site in a
real headless Chromium."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.catalog import text, validate
from datalad_tcia.store import collection_id
from tests.helpers import api

tcia_catalog = api('tcia_catalog')
tcia_deposit_dataset = api('tcia_deposit_dataset')
tcia_download = api('tcia_download')

ENC = 'LOOKALIKE-MR-Encodings'
RT = 'LOOKALIKE-RT'
ARTIFACTS = Path(__file__).parents[2] / 'test-artifacts'


@pytest.fixture(scope='module')
def catalogued(lookalike_session: LookalikeServer, tmp_path_factory) -> Iterator[dict]:
    srv = lookalike_session
    srv.reset()
    store = tmp_path_factory.mktemp('store')
    out = {}
    for coll in (ENC, RT):
        assert {
            r['status']
            for r in tcia_download(
                api_url=srv.api_url, collection=coll, store=str(store)
            )
        } == {'ok'}
        assert {
            r['status'] for r in tcia_deposit_dataset(store=str(store), collection=coll)
        } == {'ok'}
        out[coll] = tcia_catalog(
            store=str(store), collection=coll, datacite_url=srv.datacite_url
        )
    yield {'store': store, 'results': out, 'srv': srv}
    srv.reset()


def _own(res: list[dict], store: Path) -> list[dict]:
    """The records of the collection's catalog (not of the catalog's home,
    which tcia-catalog refreshes too)."""
    return [r for r in res if Path(r['path']) != store / 'catalog']


def _records(catalog: Path) -> list[dict]:
    """All metadata JSON the catalog holds."""
    return [
        json.loads(p.read_text())
        for p in (catalog / 'metadata').rglob('*.json')
        if p.name != 'super.json'
    ]


def _file_entries(catalog: Path) -> int:
    """How many files the catalog's directory nodes list."""
    return sum(
        c.get('type') == 'file'
        for r in _records(catalog)
        for c in r.get('children', [])
    )


def test_results(catalogued: dict) -> None:
    store = catalogued['store']
    res = _own(catalogued['results'][ENC], store)
    assert [r['status'] for r in res] == ['ok']
    assert res[0]['doi'] == '10.7937/tcia.lookalike.mrenc'
    assert res[0]['url'].endswith('/collection.git')
    # a collection without a DOI is catalogued and says so
    rt = _own(catalogued['results'][RT], store)
    assert [r['status'] for r in rt] == ['ok']
    assert 'no DOI' in rt[0]['message']
    assert (catalogued['store'] / collection_id(RT) / 'catalog' / 'index.html').exists()


def test_home_record(catalogued: dict) -> None:
    catalog = catalogued['store'] / collection_id(ENC) / 'catalog'
    super_ = json.loads((catalog / 'metadata' / 'super.json').read_text())
    nodes = _records(catalog)
    home = next(
        n
        for n in nodes
        if n.get('dataset_id') == super_['dataset_id'] and n.get('type') == 'dataset'
    )
    assert home['doi'] == 'https://doi.org/10.7937/tcia.lookalike.mrenc'
    assert home['name'].startswith('Encodings of DICOM files <b>')
    assert home['short_name'] == home['name']
    names = [a['name'] for a in home['authors']]
    assert 'Lovelace, Ada' in names
    assert any('<script>' in n for n in names)
    orcids = [
        i['identifier'] for a in home['authors'] for i in a.get('identifiers', [])
    ]
    assert 'https://orcid.org/0000-0002-1825-0097' in orcids
    # empty DataCite rights list: the licence NBIA reports
    assert home['license']['name'].startswith('Creative Commons Attribution 3.0')
    # foreign text is kept as it is (the catalog shows it as text)
    assert '<img src=x onerror=' in home['description']
    tcia = next(t for t in home['additional_display'] if t['name'] == 'TCIA')['content']
    assert tcia['Patients'] == 1
    assert set(tcia['Modalities']) >= {'MR', 'NM', 'OT'}
    # what a person types: a plain git URL, and the version with its date
    assert tcia['Clone URL'].endswith(f'/{collection_id(ENC)}/collection.git')
    assert tcia['Clone'] == f'datalad clone {tcia["Clone URL"]}'
    assert home['url'] == [tcia['Clone URL']]
    assert re.fullmatch(
        r'tcia-\d{4}-\d{2}-\d{2} \(\d{4}-\d{2}-\d{2}\)', tcia['Version']
    )
    tag = tcia['Version'].split()[0]
    assert {'name': 'Version', 'value': tag} in home['top_display']
    when = home['metadata_sources']['sources'][0]['source_time']
    day = datetime.fromtimestamp(when, tz=timezone.utc).date().isoformat()
    assert tcia['Version'].endswith(f'({day})')


def test_generated_metadata_validates(catalogued: dict) -> None:
    catalog = catalogued['store'] / collection_id(ENC) / 'catalog'
    super_ = json.loads((catalog / 'metadata' / 'super.json').read_text())
    assert super_['dataset_id']
    from datalad_tcia.catalog import collection_page, file_records, patient_record
    from datalad_tcia.datacite import DataCiteClient
    from datalad_tcia.metadata import read_collection
    from datalad_tcia.pipeline.write_catalog import add_citation, describe_collection

    stored = read_collection(catalogued['store'], ENC)
    coll = describe_collection(stored, 'file:///x')
    add_citation(coll, DataCiteClient(catalogued['srv'].datacite_url))
    records = [collection_page(coll)]
    for p in coll.patients:
        records.append(patient_record(p, coll.name))
        records.extend(file_records(p))
    validate(records)  # raises on any schema violation
    from datalad.api import catalog_validate

    res = catalog_validate(
        metadata=[json.dumps(r) for r in records],
        result_renderer='disabled',
        return_type='list',
    )
    assert {r['status'] for r in res} == {'ok'}
    assert len(res) == len(records)


def test_rerun_updates_in_place(catalogued: dict) -> None:
    store = catalogued['store']
    res = tcia_catalog(
        store=str(store), collection=ENC, datacite_url=catalogued['srv'].datacite_url
    )
    assert [r['status'] for r in _own(res, store)] == ['ok']


def test_datacite_down_still_catalogues(catalogued: dict, fast_retries) -> None:
    srv = catalogued['srv']
    srv.faults.add('status', 'dois', status=503, times=None)
    try:
        res = tcia_catalog(
            store=str(catalogued['store']),
            collection=ENC,
            datacite_url=srv.datacite_url,
        )
    finally:
        srv.reset()
    res = _own(res, catalogued['store'])
    assert [r['status'] for r in res] == ['ok']
    assert 'DataCite could not be reached' in res[0]['message']
    # put the full catalog back for the browser test
    tcia_catalog(
        store=str(catalogued['store']), collection=ENC, datacite_url=srv.datacite_url
    )


def test_file_entries_left_out_above_the_limit(catalogued: dict, datalad_cfg) -> None:
    """Above datalad.tcia.catalog-max-files, no file entries; the patient
    pages keep their series."""
    store = catalogued['store']
    catalog = store / collection_id(RT) / 'catalog'
    assert _file_entries(catalog) > 0
    home = next(r for r in _records(catalog) if r.get('subdatasets'))
    datalad_cfg.set('datalad.tcia.catalog-max-files', '5', scope='global')
    datalad_cfg.set('datalad.tcia.catalog-max-subdatasets', '0', scope='global')
    try:
        res = tcia_catalog(
            store=str(store), collection=RT, datacite_url=catalogued['srv'].datacite_url
        )
    finally:
        datalad_cfg.unset('datalad.tcia.catalog-max-files', scope='global')
        datalad_cfg.unset('datalad.tcia.catalog-max-subdatasets', scope='global')
    res = _own(res, store)
    assert [r['status'] for r in res] == ['ok']
    assert 'files are not listed one by one (more than 5' in res[0]['message']
    assert 'lists the 1 patients in its Patients tab' in res[0]['message']
    records = _records(catalog)
    assert _file_entries(catalog) == 0
    patient = next(r for r in records if r.get('short_name') == 'RT-PHANTOM-1')
    assert 'Planning CT' in json.dumps(patient['additional_display'])
    # the collection page: no subdatasets, its Patients tab links the patient
    new_home = next(
        r
        for r in records
        if r.get('dataset_id') == home['dataset_id'] and r.get('type') == 'dataset'
    )
    assert not new_home.get('subdatasets')
    tab = next(t for t in new_home['additional_display'] if t['name'] == 'patients')
    link = tab['content']['RT-PHANTOM-1']
    sub = home['subdatasets'][0]
    assert link['url'] == f'#/dataset/{sub["dataset_id"]}/{sub["dataset_version"]}'
    assert link['name'].startswith('1 study, ')
    # back to the full catalog
    res = tcia_catalog(
        store=str(store), collection=RT, datacite_url=catalogued['srv'].datacite_url
    )
    assert _file_entries(catalog) > 0


def test_descriptions_never_start_with_path(catalogued: dict) -> None:
    catalog = catalogued['store'] / collection_id(ENC) / 'catalog'
    for rec in _records(catalog):
        assert not str(rec.get('description', '')).startswith('path:')
    assert text('  path: x ') == 'path: x'


def _chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get('TCIA_REQUIRE_BROWSER'):
        # scripts/test.sh (CI) installs Chromium: there its absence is a failure
        pytest.fail('the catalog test needs Chromium (apt-get install chromium)')
    pytest.skip('no Chromium here (scripts/test.sh installs it and requires it)')


@pytest.fixture
def served_catalog(catalogued: dict) -> Iterator[str]:
    root = catalogued['store'] / collection_id(ENC) / 'catalog'

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def test_catalog_in_headless_chromium(catalogued: dict, served_catalog: str) -> None:
    """Must-show: DataCite title, DOI link, creators, licence on the home
    page; a patient page with its series; hostile text stays text."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            headless=True,
            args=[
                '--no-sandbox',
                '--disable-gpu',
                '--disable-quic',
                '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update',
                '--disable-sync',
            ],
        )
        page = browser.new_page(viewport={'width': 1280, 'height': 1600})
        page.on('dialog', lambda d: (dialogs.append(d.message), d.dismiss()))
        page.add_init_script('window.__tcia_xss = []')
        page.goto(served_catalog + '/', wait_until='networkidle')
        page.wait_for_selector('text=Encodings of DICOM files', timeout=30000)
        body = page.inner_text('body')
        # the DataCite title, with its markup shown as text
        assert 'Encodings of DICOM files <b>LOOKALIKE-MR-Encodings</b>' in body
        # the DOI as a link
        doi = page.locator('a[href*="doi.org/10.7937/tcia.lookalike.mrenc"]')
        assert doi.count() >= 1
        # creators, the hostile one as literal text
        assert 'Lovelace' in body
        assert '<script>alert("creator")</script>' in body
        assert 'Creative Commons Attribution 3.0' in body
        # markup in the DataCite abstract: shown as text
        assert '<img src=x onerror="window.__tcia_xss.push(\'abstract\')">' in body
        page.screenshot(path=str(ARTIFACTS / 'catalog-home.png'), full_page=True)

        # to the patient
        store = catalogued['store']
        cid = collection_id(ENC)
        super_ = json.loads(
            (store / cid / 'catalog' / 'metadata' / 'super.json').read_text()
        )
        home = next(
            n
            for n in _records(store / cid / 'catalog')
            if n.get('dataset_id') == super_['dataset_id']
            and n.get('type') == 'dataset'
            and n.get('subdatasets')
        )
        sub = home['subdatasets'][0]
        page.goto(
            f'{served_catalog}/#/dataset/{sub["dataset_id"]}/{sub["dataset_version"]}',
            wait_until='networkidle',
        )
        page.wait_for_selector('text=ENC-01', timeout=30000)
        body = page.inner_text('body')
        for series in ('Big endian', 'Deflated', 'RLE', 'JPEG 2000', 'No preamble'):
            assert series in body
        # markup in a DICOM header (SeriesDescription): shown as text
        assert '<img src=x onerror=window.__tcia_xss.push(1)>' in body
        assert 'files' in body
        page.screenshot(path=str(ARTIFACTS / 'catalog-patient.png'), full_page=True)
        xss = page.evaluate('window.__tcia_xss')
        browser.close()
    assert dialogs == []
    assert xss == []


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), partial(Quiet, directory=str(root))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f'http://127.0.0.1:{httpd.server_address[1]}'


def test_patients_paged_and_searched_in_headless_chromium(
    tcia: LookalikeServer, tmp_path: Path
) -> None:
    """A collection with more patients than its page lists: the page shows
    the first ones and links to the patient search page, which pages
    through all and finds one by its PatientID, linking to its page."""
    from playwright.sync_api import sync_playwright

    from datalad_tcia.pipeline import (
        CatalogOutcome,
        RunSettings,
        build_datasets,
        write_catalog,
    )
    from datalad_tcia.pipeline.write_catalog import CatalogLimits
    from tests.pipeline.conftest import PHI, acquire, make_settings

    settings: RunSettings = make_settings(tcia, tmp_path / 'store')
    acquire(settings, PHI)
    assert {o.status for o in build_datasets(settings, PHI)}
    out = list(
        write_catalog(
            replace(settings, catalog_limits=CatalogLimits(patients_on_page=1)), PHI
        )
    )
    assert [type(o) for o in out] == [CatalogOutcome] and out[0].status == 'ok'
    catalog = settings.store / collection_id(PHI) / 'catalog'
    index = json.loads((catalog / 'patient-index.json').read_text())
    assert [p['id'] for p in index['patients']] == ['Pseudo-PHI-001', 'Pseudo-PHI-002']
    httpd, url = _serve(catalog)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=_chromium(), headless=True, args=['--no-sandbox']
            )
            page = browser.new_page()
            page.goto(url + '/')
            page.wait_for_selector('text=All 2 patients', timeout=30000)
            body = page.inner_text('body')
            assert 'Pseudo-PHI-001' in body and 'Pseudo-PHI-002' not in body
            page.click('text=search by PatientID, page by page')
            page.wait_for_selector('a.patient', timeout=30000)
            assert page.locator('a.patient').count() == 2  # noqa: PLR2004
            assert '1–2 of 2 patients' in page.inner_text('#status')
            page.fill('#search', '002')
            assert page.locator('a.patient').all_inner_texts() == ['Pseudo-PHI-002']
            page.click('a.patient')
            page.wait_for_selector('text=Pseudo-PHI-002', timeout=30000)
            assert '#/dataset/' in page.url
            page.screenshot(path=str(ARTIFACTS / 'catalog-patient-search.png'))
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
