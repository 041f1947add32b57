"""``pipeline/write_home.py``: the catalog's home lists every collection of
the store (title, DOI, licence, holdings, version), each linking to its
own catalog site; it is rewritten only for a new state of the top-level
dataset, and a browser follows its links."""

from __future__ import annotations

import http.server
import json
import threading
from functools import partial

from datalad_tcia.pipeline import (
    RunSettings,
    build_top,
    write_catalog,
    write_home,
)
from datalad_tcia.store import TopLayout, collection_id
from tests.catalog.test_catalog import _chromium

from .conftest import PHI, RT, acquire, build


def test_the_home_lists_every_collection(acquired: RunSettings) -> None:
    store = acquired.store
    assert write_home(store, acquired.base_url).status == 'impossible'
    build(acquired, PHI)
    acquire(acquired, RT)
    build(acquired, RT)
    for name in (PHI, RT):
        out = list(write_catalog(acquired, name))
        assert [o.status for o in out] == ['ok']
    assert build_top(store, acquired.base_url).status == 'ok'
    out = write_home(store, acquired.base_url)
    assert out.status == 'ok', out.message
    home = TopLayout(store).catalog
    super_ = json.loads((home / 'metadata' / 'super.json').read_text())
    record = next(
        json.loads(p.read_text())
        for p in (home / 'metadata').rglob('*.json')
        if p.name != 'super.json'
        and json.loads(p.read_text()).get('dataset_id') == super_['dataset_id']
    )
    tab = record['additional_display'][0]
    assert tab['name'] == 'collections'
    phi = tab['content'][f'{PHI} ({collection_id(PHI)})']
    assert phi['url'] == f'../{collection_id(PHI)}/catalog/index.html'
    assert 'DOI 10.7937/s17z-r072' in phi['description']
    assert 'patients' in phi['description'] and 'version tcia-' in phi['description']
    assert f'{RT} ({collection_id(RT)})' in tab['content']
    # the same state: not written again
    stamp = (home / 'metadata' / 'super.json').stat().st_mtime_ns
    assert write_home(store, acquired.base_url).status == 'notneeded'
    assert (home / 'metadata' / 'super.json').stat().st_mtime_ns == stamp

    # in a browser: the home lists both, its link opens the collection
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), partial(Quiet, directory=str(store))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=_chromium(), headless=True, args=['--no-sandbox']
            )
            page = browser.new_page()
            page.goto(f'http://127.0.0.1:{httpd.server_address[1]}/catalog/')
            page.wait_for_selector(f'text={RT}', timeout=30000)
            assert PHI in page.inner_text('body')
            page.click(f'a[href="../{collection_id(RT)}/catalog/index.html"]')
            page.locator('[id="patients_RT-PHANTOM-1"]').wait_for(timeout=30000)
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
