"""``datalad tcia-download`` against the look-alike."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import api, datalad, snapshot

tcia_download = api('tcia_download')

PHI = 'Pseudo-PHI-DICOM-Data'
ENC = 'LOOKALIKE-MR-Encodings'


def _check_store(store: Path, srv: LookalikeServer, collection: str) -> None:
    """Every series of ``collection`` is deposited and matches the server."""
    cid = collection_id(collection)
    coll = srv.archive.collection(collection)
    assert coll is not None
    for series in (s for p in coll.patients for st in p.studies for s in st.series):
        arec = json.loads(
            (
                store / cid / 'metadata' / f'{series.uid}_metadata_archive.json'
            ).read_text()
        )
        drecs = json.loads(
            (
                store / cid / 'metadata' / f'{series.uid}_metadata_dicoms.json'
            ).read_text()
        )
        assert arec['SeriesInstanceUID'] == series.uid
        assert arec['Collection'] == collection
        assert arec['collection_id'] == cid
        assert arec['ImageCount'] == len(series.instances)
        assert arec['md5_manifest_verified'] is True
        assert arec['nbia_series']['SeriesInstanceUID'] == series.uid
        assert 'License Information' in arec['license_text']
        archive = store / cid / 'archives' / f'{series.uid}.zip'
        assert archive.stat().st_size == arec['archive_size']
        dicoms = {r['SOPInstanceUID']: r for r in drecs if r['dicom']}
        # the per-file MD5s equal the server's for every file
        assert {sop: r['md5'] for sop, r in dicoms.items()} == {
            i.sop_uid: i.md5 for i in series.instances
        }
        assert {sop: r['size'] for sop, r in dicoms.items()} == {
            i.sop_uid: i.size for i in series.instances
        }
        for r in dicoms.values():
            assert r['SeriesInstanceUID'] == series.uid
            assert r['Modality'] == series.modality
        others = sorted(r['path'] for r in drecs if not r['dicom'])
        assert others == ['LICENSE', 'md5hashes.csv']
        with zipfile.ZipFile(archive) as zf:
            assert zf.testzip() is None


@pytest.mark.slow
def test_download_with_one_fault_per_series(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Must-show: faults on every series' first request, exit 0, all deposited."""
    store = tmp_path / 'store'
    coll = tcia.archive.collection(ENC)
    assert coll is not None
    series = [s for p in coll.patients for st in p.studies for s in st.series]
    kinds = ['status', 'truncate', 'corrupt', 'drop_member', 'bad_md5', 'reset']
    faults = {}
    for i, s in enumerate(series):
        kind = kinds[i % len(kinds)]
        faults[s.uid] = kind
        tcia.faults.add(kind, 'getImage', series_uid=s.uid, status=500)
    proc = datalad(
        'tcia-download',
        '--api-url',
        tcia.api_url,
        '--collection',
        ENC,
        '--store',
        str(store),
        '-J',
        '2',
        '-f',
        'json',
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(series)
    assert {r['status'] for r in results} == {'ok'}
    assert all(r['attempts'] == 2 for r in results)
    for s in series:
        log = tcia.requests('getImage', series_uid=s.uid)
        # the first request met its fault, the second succeeded
        assert [e.fault for e in log] == [faults[s.uid], None]
    _check_store(store, tcia, ENC)
    # nothing temporary left behind
    assert not list(store.rglob('*.part'))

    # a second run makes no archive request
    tcia.reset()
    proc = datalad(
        'tcia-download',
        '--api-url',
        tcia.api_url,
        '--collection',
        ENC,
        '--store',
        str(store),
        '-f',
        'json',
    )
    assert proc.returncode == 0
    assert {json.loads(line)['status'] for line in proc.stdout.splitlines()} == {
        'notneeded'
    }
    assert tcia.requests('getImage') == []


def test_md5s_across_all_encodings(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    for coll in tcia.archive.collections:
        res = tcia_download(
            api_url=tcia.api_url, collection=coll.name, store=str(store), jobs=2
        )
        assert {r['status'] for r in res} == {'ok'}
        _check_store(store, tcia, coll.name)
    # transfer syntaxes recorded from the file meta
    syntaxes = set()
    for path in store.rglob('*_metadata_dicoms.json'):
        for r in json.loads(path.read_text()):
            if r.get('TransferSyntaxUID'):
                syntaxes.add(r['TransferSyntaxUID'])
    assert len(syntaxes) >= 7


def test_force_downloads_again(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    uid = next(iter(tcia.archive.iter_series())).uid
    assert (
        tcia_download(api_url=tcia.api_url, series=[uid], store=str(store))[0]['status']
        == 'ok'
    )
    assert (
        tcia_download(api_url=tcia.api_url, series=[uid], store=str(store))[0]['status']
        == 'notneeded'
    )
    res = tcia_download(
        api_url=tcia.api_url, series=[uid], store=str(store), force=True
    )
    assert res[0]['status'] == 'ok'
    assert len(tcia.requests('getImage')) == 2


def test_persistent_failure_is_an_error_and_others_go_on(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    store = tmp_path / 'store'
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    bad = coll.patients[0].studies[0].series[0]
    tcia.faults.add('drop_member', 'getImage', series_uid=bad.uid, times=None)
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    status = {r['SeriesInstanceUID']: r['status'] for r in res}
    assert status.pop(bad.uid) == 'error'
    assert set(status.values()) == {'ok'}
    err = next(r for r in res if r['status'] == 'error')
    assert 'ImageCount is 3' in err['message']
    assert 'run the command again' in err['message']
    cid = collection_id(PHI)
    assert not (store / cid / 'archives' / f'{bad.uid}.zip').exists()
    assert not (store / cid / 'metadata' / f'{bad.uid}_metadata_archive.json').exists()
    assert not list(store.rglob('*.part'))
    # bounded: max-attempts (4 in tests) downloads
    assert len(tcia.requests('getImage', series_uid=bad.uid)) == 4
    # once the server is healthy again a re-run completes, without
    # downloading the good series again
    tcia.reset()
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert {r['SeriesInstanceUID'] for r in res if r['status'] == 'ok'} == {bad.uid}
    assert [e.series_uid for e in tcia.requests('getImage')] == [bad.uid]
    _check_store(store, tcia, PHI)


def test_unsafe_member_names_are_refused(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    store = tmp_path / 'store'
    uid = next(iter(tcia.archive.iter_series())).uid
    tcia.faults.add(
        'extra_member',
        'getImage',
        series_uid=uid,
        times=None,
        members=[('../../evil.dcm', b'x')],
    )
    res = tcia_download(api_url=tcia.api_url, series=[uid], store=str(store))
    assert res[0]['status'] == 'error'
    assert "unsafe member name '../../evil.dcm'" in res[0]['message']
    assert not list((store).rglob('*.zip'))


@pytest.mark.slow
@pytest.mark.parametrize(
    ('args', 'named'),
    [
        (['--series', '1.2.3.4.5'], '1.2.3.4.5'),
        (['--collection', 'No-Such-Collection'], 'No-Such-Collection'),
        (['--manifest', 'MANIFEST'], 'line 8'),
        (['--series', 'not-a-uid'], 'not-a-uid'),
    ],
)
def test_bad_input_leaves_the_store_unchanged(
    tcia: LookalikeServer, tmp_path: Path, args: list[str], named: str
) -> None:
    store = tmp_path / 'store'
    # a store with earlier work in it
    uid = next(iter(tcia.archive.iter_series())).uid
    tcia_download(api_url=tcia.api_url, series=[uid], store=str(store))
    before = snapshot(store)
    manifest = tmp_path / 'bad.tcia'
    manifest.write_text(
        'downloadServerUrl=x\nincludeAnnotation=true\nnoOfrRetry=4\n'
        'databasketId=x\nmanifestVersion=3.0\nListOfSeriesToDownload=\n'
        f'{uid}\n1.2.3;rm -rf\n'
    )
    args = [str(manifest) if a == 'MANIFEST' else a for a in args]
    tcia.reset()
    proc = datalad(
        'tcia-download', '--api-url', tcia.api_url, '--store', str(store), *args
    )
    assert proc.returncode != 0
    assert named in proc.stdout + proc.stderr
    assert 'Nothing was downloaded' in proc.stdout + proc.stderr
    assert snapshot(store) == before
    assert tcia.requests('getImage') == []


def test_store_that_is_a_file(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    store.write_text('not a directory')
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert res[0]['status'] == 'impossible'
    assert 'not a directory' in res[0]['message']
    assert store.read_text() == 'not a directory'


def test_store_from_config(tcia: LookalikeServer, tmp_path: Path, datalad_cfg) -> None:
    datalad_cfg.set('datalad.tcia.store', str(tmp_path / 'cfgstore'), scope='global')
    datalad_cfg.set('datalad.tcia.api-url', tcia.api_url, scope='global')
    uid = next(iter(tcia.archive.iter_series())).uid
    res = tcia_download(series=[uid])
    assert res[0]['status'] == 'ok'
    assert res[0]['path'].startswith(str(tmp_path / 'cfgstore'))


@pytest.mark.slow
def test_kill_mid_download_then_resume(tcia: LookalikeServer, tmp_path: Path) -> None:
    """SIGKILL while archives stream in; no partial file under a final name;
    a re-run completes."""
    store = tmp_path / 'store'
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    uids = [s.uid for p in coll.patients for st in p.studies for s in st.series]
    # every archive trickles in, one 64 KiB chunk per 0.5 s
    tcia.faults.add('slow', 'getImage', times=None, delay=0.5)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / 'datalad'),
            'tcia-download',
            '--api-url',
            tcia.api_url,
            '--collection',
            PHI,
            '--store',
            str(store),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    archives = store / collection_id(PHI) / 'archives'
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list(archives.glob('.*.part')) if archives.exists() else []
        if parts and any(p.stat().st_size > 0 for p in parts):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail('download never started')
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # whatever carries a final name is complete and verified
    for path in archives.glob('*.zip'):
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
    for path in (store / collection_id(PHI) / 'metadata').glob('*.json'):
        json.loads(path.read_text())
    assert list(archives.glob('.*.part'))  # the interrupted download
    tcia.reset()
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert {r['status'] for r in res} <= {'ok', 'notneeded'}
    assert {r['SeriesInstanceUID'] for r in res} == set(uids)
    _check_store(store, tcia, PHI)
    assert not list(store.rglob('*.part'))


def test_concurrent_run_is_refused(tcia: LookalikeServer, tmp_path: Path) -> None:
    """A patient another process works on is refused, clearly; the other
    patients of the collection are downloaded (processes share a
    collection patient by patient)."""
    from datalad_tcia.store import StoreLayout, StoreLock

    store = tmp_path / 'store'
    busy = 'Pseudo-PHI-001'
    with StoreLock(StoreLayout(store, PHI).patient_lock(busy)):
        res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    refused = [r for r in res if r['status'] == 'impossible']
    assert refused
    assert all('another datalad-tcia process' in r['message'] for r in refused)
    assert {r['status'] for r in res} == {'ok', 'impossible'}
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    patient = next(p for p in coll.patients if p.patient_id == busy)
    busy_series = {s.uid for st in patient.studies for s in st.series}
    fetched = {r.series_uid for r in tcia.requests('getImage')}
    assert busy_series
    assert fetched
    assert not fetched & busy_series


def test_unwritable_store(tcia: LookalikeServer) -> None:
    # /proc takes no new directories, not even from root
    store = Path('/proc/self/tcia-store')
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert [r['status'] for r in res] == ['impossible']
    assert 'cannot write to the store' in res[0]['message']
    assert tcia.requests('getImage') == []


@pytest.mark.slow
def test_disk_full_then_resume(tcia: LookalikeServer, tmp_path: Path) -> None:
    """A write that fails (here: a file size limit, as a full disk would)
    is an error naming the place; nothing partial stays; a re-run with
    room completes."""
    import resource

    store = tmp_path / 'store'

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / 'datalad'),
            '-f',
            'json',
            'tcia-download',
            '--api-url',
            tcia.api_url,
            '--collection',
            PHI,
            '--store',
            str(store),
        ],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limit,
    )
    assert proc.returncode != 0
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    errors = [r for r in results if r['status'] == 'error']
    assert errors
    assert all('cannot write' in r['message'] for r in errors)
    assert not list(store.rglob('*.part'))
    for path in store.rglob('*.zip'):
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert {r['status'] for r in res} <= {'ok', 'notneeded'}
    _check_store(store, tcia, PHI)
