"""``datalad tcia-add`` end to end."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pydicom
import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, fresh_env, run, snapshot

RT = 'LOOKALIKE-RT'


@pytest.mark.slow
def test_add_with_faults_then_clone_and_get_everything(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    store = tmp_path / 'store'
    coll = tcia.archive.collection(RT)
    assert coll is not None
    series = [s for p in coll.patients for st in p.studies for s in st.series]
    for s, kind in zip(
        series,
        ['status', 'truncate', 'corrupt', 'drop_member', 'bad_md5'],
        strict=False,
    ):
        tcia.faults.add(kind, 'getImage', series_uid=s.uid, status=503)
    tcia.faults.add('status', 'dois', status=500)
    target = tmp_path / 'clone'
    proc = run(
        [
            DATALAD,
            '-f',
            'json',
            'tcia-add',
            '--api-url',
            tcia.api_url,
            '--datacite-url',
            tcia.datacite_url,
            '--collection',
            RT,
            '--store',
            str(store),
            '-J',
            '2',
            str(target),
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = results[-1]
    assert summary['action'] == 'tcia_add'
    assert summary['type'] == 'summary'
    assert summary['status'] == 'ok'
    assert summary['series_downloaded'] == len(series)
    assert summary['series_failed'] == 0
    assert summary['files_registered'] == sum(len(s.instances) for s in series)
    assert summary['archives_deleted'] == len(series)
    assert summary['clone_urls']
    # every faulted series needed a second request
    for s in series[:5]:
        assert len(tcia.requests('getImage', series_uid=s.uid)) == 2
    cid = collection_id(RT)
    assert not (store / cid / 'archives').exists()
    assert (store / cid / 'catalog' / 'index.html').exists()
    # the clone at PATH has the patients as installable subdatasets
    assert (target / '.gitmodules').exists()

    # a fresh HOME clones the deposit and gets every file from the look-alike
    env = fresh_env(tmp_path / 'home')
    fresh = tmp_path / 'fresh'
    proc = run([DATALAD, 'clone', summary['clone_urls'][0], str(fresh)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    proc = run([DATALAD, 'get', '-r', '.'], fresh, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    truth = {i.sop_uid: i.md5 for s in series for i in s.instances}
    seen = 0
    for path in fresh.rglob('*.dcm'):
        if '.git' in path.relative_to(fresh).parts:
            continue
        data = path.read_bytes()
        sop = pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID
        assert hashlib.md5(data).hexdigest() == truth[sop]
        seen += 1
    assert seen == len(truth)

    # re-running changes nothing and downloads nothing
    tcia.reset()
    proc = run(
        [
            DATALAD,
            '-f',
            'json',
            'tcia-add',
            '--api-url',
            tcia.api_url,
            '--datacite-url',
            tcia.datacite_url,
            '--collection',
            RT,
            '--store',
            str(store),
        ],
        tmp_path,
    )
    assert proc.returncode == 0
    again = [json.loads(line) for line in proc.stdout.splitlines()]
    assert again[-1]['series_skipped'] == len(series)
    assert tcia.requests('getImage') == []
    assert {r['status'] for r in again if r['action'] == 'tcia_deposit_dataset'} == {
        'notneeded'
    }


@pytest.mark.slow
def test_add_unknown_input(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    store.mkdir()
    (store / 'keep.txt').write_text('earlier work')
    before = snapshot(store)
    for args, named in (
        (['--collection', 'No-Such-Collection'], 'No-Such-Collection'),
        (['--series', '1.2.3.4.5.6'], '1.2.3.4.5.6'),
    ):
        proc = run(
            [
                DATALAD,
                'tcia-add',
                '--api-url',
                tcia.api_url,
                '--store',
                str(store),
                *args,
            ],
            tmp_path,
        )
        assert proc.returncode != 0
        assert named in proc.stdout + proc.stderr
        assert snapshot(store) == before
    assert tcia.requests('getImage') == []


@pytest.mark.slow
def test_add_one_series_in_process(tcia: LookalikeServer, tmp_path: Path) -> None:
    """The Python API runs the whole pipeline: series -> patient ->
    collection (superdataset, catalog, verified archive deletion) -> clone."""
    store = tmp_path / 'store'
    uid = next(iter(tcia.archive.iter_series())).uid
    res = api('tcia_add')(
        str(tmp_path / 'clone'),
        api_url=tcia.api_url,
        datacite_url=tcia.datacite_url,
        series=[uid],
        store=str(store),
    )
    by_action = {}
    for r in res:
        by_action.setdefault(r['action'], []).append(r['status'])
    assert by_action['tcia_download'] == ['ok']
    # patient, collection, the store's top-level dataset
    assert by_action['tcia_deposit_dataset'] == ['ok', 'ok', 'ok']
    assert by_action['tcia_catalog'] == ['ok', 'ok']  # the collection, the home
    # archive deletion, the clone, the summary
    assert by_action['tcia_add'] == ['ok', 'ok', 'ok']
    summary = res[-1]
    assert summary['type'] == 'summary'
    assert summary['archives_deleted'] == 1
    assert summary['series_downloaded'] == 1
    assert not list(store.rglob('*.zip'))
    assert (tmp_path / 'clone' / '.gitmodules').exists()
    # the patient's git repository in the store is what the clone's
    # subdataset points at
    modules = (tmp_path / 'clone' / '.gitmodules').read_text()
    assert f'url = {store.as_uri()}/pseudo_phi_dicom_data/datasets/' in modules
    assert '.git\n' in modules


def test_update_of_an_unchanged_store(tcia: LookalikeServer, tmp_path: Path) -> None:
    """``tcia-add --update``: every collection of the store, one NBIA
    listing each (and one DataCite lookup where there is a DOI), nothing
    downloaded, no dataset read or written, one summary per collection."""
    store = tmp_path / 'store'
    add = api('tcia_add')
    common = {
        'api_url': tcia.api_url,
        'datacite_url': tcia.datacite_url,
        'store': str(store),
    }
    for name in ('Pseudo-PHI-DICOM-Data', 'LOOKALIKE-RT'):
        res = add(collection=name, **common)
        assert res[-1]['status'] == 'ok', res[-1]
    deposits = sorted(store.rglob('*_XDLRA--refs'))
    stamps = [p.stat().st_mtime_ns for p in deposits]
    tcia.reset()
    res = add(update=True, **common)
    summaries = [r for r in res if r.get('type') == 'summary']
    assert len(summaries) == 2
    assert all(r['status'] == 'ok' and r['series_downloaded'] == 0 for r in summaries)
    unchanged = [r for r in res if r.get('message', '').startswith('nothing changed')]
    assert len(unchanged) == 2
    endpoints = sorted(r.endpoint for r in tcia.requests() if r.endpoint != 'dois')
    assert endpoints == ['getCollectionValues'] * 2 + ['getSeries'] * 2
    # and DataCite once per collection with a DOI (has its record changed?)
    assert len(tcia.requests('dois')) == 1
    assert [
        p.stat().st_mtime_ns for p in sorted(store.rglob('*_XDLRA--refs'))
    ] == stamps
