"""Round trip on real git-annex: look-alike -> download -> metadata ->
datasets -> deposits -> archives deleted -> clone in a fresh HOME -> get."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.export import deposit_url
from datalad_tcia.formats.annex_branch import hashdirlower
from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, enable_remote, fresh_env, run, run_ok

tcia_deposit_dataset = api('tcia_deposit_dataset')
tcia_download = api('tcia_download')

PHI = 'Pseudo-PHI-DICOM-Data'
ENC = 'LOOKALIKE-MR-Encodings'


def _truth(srv: LookalikeServer, *collections: str) -> dict[str, str]:
    """SOPInstanceUID -> MD5 of every file the server holds."""
    return {
        i.sop_uid: i.md5
        for s in srv.archive.iter_series()
        if s.collection.name in collections
        for i in s.instances
    }


def _check_files(root: Path, truth: dict[str, str], collection: str) -> int:
    """Every DICOM file under ``root`` is present and has the server's
    content; returns how many were checked."""
    checked = 0
    for path in root.rglob('*.dcm'):
        if '.git' in path.relative_to(root).parts:
            continue
        data = path.read_bytes()
        sop = pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID
        assert hashlib.md5(data).hexdigest() == truth[sop], path
        checked += 1
    return checked


def _check_one(path: Path, truth: dict[str, str]) -> None:
    data = path.read_bytes()
    sop = pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID
    assert hashlib.md5(data).hexdigest() == truth[sop]


@pytest.fixture(scope='module')
def built(lookalike_session: LookalikeServer, tmp_path_factory) -> Iterator[dict]:
    """Two collections downloaded, built into datasets and deposited, then
    the archives deleted."""
    srv = lookalike_session
    srv.reset()
    store = tmp_path_factory.mktemp('store')
    for coll in (PHI, ENC):
        res = tcia_download(
            api_url=srv.api_url, collection=coll, store=str(store), jobs=2
        )
        assert {r['status'] for r in res} == {'ok'}
    results = {}
    for coll in (PHI, ENC):
        res = tcia_deposit_dataset(store=str(store), collection=coll)
        assert {r['status'] for r in res} == {'ok'}, res
        results[coll] = res
        shutil.rmtree(store / collection_id(coll) / 'archives')
    yield {'store': store, 'results': results}
    srv.reset()


def test_results_carry_clone_urls(built: dict) -> None:
    store = built['store']
    res = built['results'][PHI]
    patients = [r for r in res if 'PatientID' in r]
    assert {r['PatientID'] for r in patients} == {'Pseudo-PHI-001', 'Pseudo-PHI-002'}
    cid = collection_id(PHI)
    for r in patients:
        # the clone URL is the plain git repository; the deposit is beside it
        assert r['url'] == f'{store.as_uri()}/{cid}/datasets/{r["patient_slug"]}.git'
        assert (
            store / cid / 'datasets' / f'{r["patient_slug"]}.git/info/refs'
        ).exists()
        assert (store / cid / 'datasets' / f'{r["patient_slug"]}_XDLRA--refs').exists()
    coll = [r for r in res if r['path'].endswith('/collection')][0]
    assert coll['url'] == f'{store.as_uri()}/{cid}/collection.git'
    assert (store / cid / 'collection_XDLRA--repo-export').exists()


def test_rerun_changes_nothing(built: dict) -> None:
    store = built['store']
    cid = collection_id(PHI)
    deposits = {p: p.read_bytes() for p in (store / cid).rglob('*_XDLRA--*')}
    heads = {
        p.name: (p / '.git' / 'refs' / 'heads').iterdir().__next__().read_text()
        for p in (store / cid / 'repos').iterdir()
    }
    res = tcia_deposit_dataset(store=str(store), collection=PHI)
    assert {r['status'] for r in res} == {'notneeded'}
    assert {p: p.read_bytes() for p in (store / cid).rglob('*_XDLRA--*')} == deposits
    assert {
        p.name: (p / '.git' / 'refs' / 'heads').iterdir().__next__().read_text()
        for p in (store / cid / 'repos').iterdir()
    } == heads


@pytest.mark.slow
def test_dataset_content(built: dict, tmp_path: Path) -> None:
    """Keys, sources, metadata, LICENSE, commit message, gitmodules (of a
    clone of the deposit: the store's working copy is sparse)."""
    store = built['store']
    work = store / collection_id(PHI) / 'repos' / 'Pseudo-PHI-001'
    env = dict(os.environ)
    # the store's working copy checks out .datalad/ only, and is clean
    assert sorted(p.name for p in work.iterdir()) == ['.datalad', '.git']
    assert run_ok(['git', 'status', '--porcelain'], work, env) == ''
    url = next(
        r['url']
        for r in built['results'][PHI]
        if r.get('PatientID') == 'Pseudo-PHI-001'
    )
    repo = tmp_path / 'Pseudo-PHI-001'
    run_ok([DATALAD, 'clone', url, str(repo)], tmp_path, env)
    files = run_ok(['git', 'ls-files'], repo, env).splitlines()
    dcm = sorted(f for f in files if f.endswith('.dcm'))
    assert dcm == [
        '03-14-2019-CT CHEST W CONTRAST-75724/1-AXIAL 5mm-82017/1-1.dcm',
        '03-14-2019-CT CHEST W CONTRAST-75724/1-AXIAL 5mm-82017/1-2.dcm',
        '03-14-2019-CT CHEST W CONTRAST-75724/1-AXIAL 5mm-82017/1-3.dcm',
        '03-14-2019-CT CHEST W CONTRAST-75724/2-Dose Report-78867/1-1.dcm',
    ]
    assert 'License Information' in (repo / 'LICENSE').read_text()
    # LICENSE is in git, the DICOM files are annexed without content
    assert not (repo / 'LICENSE').is_symlink()
    assert all((repo / f).is_symlink() and not (repo / f).exists() for f in dcm)
    whereis = json.loads(
        run_ok(['git', 'annex', 'whereis', '--json', dcm[0]], repo, env).splitlines()[0]
    )
    remotes = {w['description'] for w in whereis['whereis']}
    # NBIA's getSingleImage through git-annex's web remote (enabled in the
    # clone, no process of its own); uncurl and archivist are known but not
    # enabled (enableremote, see docs)
    assert remotes == {'[nbia]', 'uncurl', 'archivist'}
    info = json.loads(run_ok(['git', 'annex', 'info', '--json', 'nbia'], repo, env))
    assert (info['type'], info['cost']) == ('web', '150.0')
    assert 'remote.uncurl.annex-uuid' not in run_ok(['git', 'config', '-l'], repo, env)
    enable_remote(repo, env, 'uncurl')
    enable_remote(repo, env, 'archivist')
    whereis = json.loads(
        run_ok(['git', 'annex', 'whereis', '--json', dcm[0]], repo, env).splitlines()[0]
    )
    urls = [u for w in whereis['whereis'] for u in w['urls']]
    assert any(
        u.startswith('dl+archive:VURL--tcia-series-') and 'atype=zip' in u for u in urls
    ), whereis
    # whereis lists the URLs of git-annex's web remote only under its own
    # name: the URL log shows getSingleImage as a web URL (no ':' claim)
    key = whereis['key']
    weblog = run_ok(
        ['git', 'show', f'git-annex:{hashdirlower(key)}{key}.log.web'], repo, env
    )
    assert re.search(r' 1 http://\S+/getSingleImage\?SeriesInstanceUID=', weblog)
    assert re.search(r' 1 :dl\+archive:', weblog)
    meta = json.loads(
        run_ok(['git', 'annex', 'metadata', '--json', dcm[0]], repo, env)
    )['fields']
    assert meta['modality'] == ['CT']
    assert meta['seriesdescription'] == ['AXIAL 5mm']
    assert meta['studydescription'] == ['CT CHEST W CONTRAST']
    assert meta['bodypartexamined'] == ['CHEST']
    assert meta['collection'] == [PHI]
    assert 'sopinstanceuid' in meta
    # the archive key has its getImage URL (fsck records its findings in
    # the git-annex branch: this test runs after the re-run test)
    fsck = run_ok(
        ['git', 'annex', 'fsck', '--fast', '--from', 'archivist', '--json'], repo, env
    )
    assert all(json.loads(line)['success'] for line in fsck.splitlines())
    log = run_ok(['git', 'log', '-1', '--format=%B'], repo, env)
    assert 'Register 4 DICOM file(s) of TCIA Pseudo-PHI-DICOM-Data' in log
    assert '/nbia-api/services/v4' in log
    superds = store / collection_id(PHI) / 'repos' / 'collection'
    gitmodules = (superds / '.gitmodules').read_text()
    assert f'url = {store.as_uri()}/{collection_id(PHI)}/datasets/' in gitmodules
    assert 'datalad-id = ' in gitmodules


@pytest.mark.slow
def test_clone_from_file_store_and_get_everything(
    built: dict, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    store = built['store']
    env = fresh_env(tmp_path / 'home')
    for coll in (PHI, ENC):
        url = [r for r in built['results'][coll] if r['path'].endswith('/collection')][
            0
        ]['url']
        target = tmp_path / collection_id(coll)
        run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
        run_ok([DATALAD, 'get', '-r', '.'], target, env)
        n = _check_files(target, _truth(lookalike_session, coll), coll)
        assert n == len(_truth(lookalike_session, coll))
    assert not (store / collection_id(PHI) / 'archives').exists()


@pytest.mark.slow
def test_clone_from_http_store(
    lookalike_session: LookalikeServer, http_store: tuple[Path, str], tmp_path: Path
) -> None:
    srv = lookalike_session
    srv.reset()
    root, base = http_store
    store = root / 'tcia'
    res = tcia_download(api_url=srv.api_url, collection=PHI, store=str(store))
    assert {r['status'] for r in res} == {'ok'}
    res = tcia_deposit_dataset(
        store=str(store), collection=PHI, store_url=f'{base}/tcia'
    )
    assert {r['status'] for r in res} == {'ok'}
    shutil.rmtree(store / collection_id(PHI) / 'archives')
    url = [r for r in res if r['path'].endswith('/collection')][0]['url']
    # a plain git repository, served by a static web server (git's dumb
    # HTTP protocol)
    assert url == f'{base}/tcia/{collection_id(PHI)}/collection.git'
    env = fresh_env(tmp_path / 'home')
    target = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
    run_ok([DATALAD, 'get', '-r', '.'], target, env)
    assert _check_files(target, _truth(srv, PHI), PHI) == len(_truth(srv, PHI))
    # the datalad-annex:: deposit beside it clones too (existing clones and
    # the INM-ICF recipe use it)
    old = tmp_path / 'deposit-clone'
    run_ok(
        [
            DATALAD,
            'clone',
            deposit_url(f'{base}/tcia', f'{collection_id(PHI)}/collection'),
            str(old),
        ],
        tmp_path,
        env,
    )
    run_ok([DATALAD, 'get', '-n', '-r', '.'], old, env)
    assert len(list(old.glob('*/.datalad/config'))) == 2


@pytest.mark.slow
def test_sources_fall_back(
    built: dict, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    """getImage down: single files still come via getSingleImage; and
    getSingleImage down: via the archive."""
    srv = lookalike_session
    env = fresh_env(tmp_path / 'home')
    url = [
        r
        for r in built['results'][PHI]
        if 'PatientID' in r and r['PatientID'] == 'Pseudo-PHI-001'
    ][0]['url']
    target = tmp_path / 'p1'
    run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
    ct = sorted(target.glob('*/1-AXIAL*/*.dcm'))
    sr = sorted(target.glob('*/2-Dose*/*.dcm'))
    truth = _truth(srv, PHI)
    srv.reset()
    srv.faults.add('status', 'getImage', status=500, times=None)
    run_ok([DATALAD, 'get', str(ct[0])], target, env)
    _check_one(ct[0], truth)
    assert srv.requests('getSingleImage')
    srv.reset()
    srv.faults.add('status', 'getSingleImage', status=500, times=None)
    # getSingleImage down: with nothing else enabled, git-annex says which
    # remotes to make available, and leaves nothing behind
    proc = run(['git', 'annex', 'get', str(sr[0])], target, env)
    assert proc.returncode
    assert 'Unable to access these remotes' in proc.stdout + proc.stderr
    assert '-- uncurl' in proc.stdout
    assert '-- archivist' in proc.stdout
    assert not list((target / '.git' / 'annex').rglob('tmp/*'))
    assert not sr[0].exists()
    # the archive route, once enabled (see docs: a last resort)
    for name in ('uncurl', 'archivist'):
        enable_remote(target, env, name)
    run_ok([DATALAD, 'get', str(sr[0])], target, env)
    _check_one(sr[0], truth)
    assert [e.status for e in srv.requests('getImage') if e.method == 'GET'] == [200]
    srv.reset()


@pytest.mark.slow
def test_url_substitution_shortcut(built: dict, tmp_path: Path) -> None:
    """The substitutions docs/source/datasets.rst gives: to the plain git
    repository, and to the datalad-annex:: deposit."""
    store = built['store']
    env = fresh_env(tmp_path / 'home')
    rules = [
        rf',^tcia://([^/]+)/(.+)$,{store.as_uri()}/\1/\2.git',
        r',^tcia://([^/]+)/(.+)$,datalad-annex::?type=external&externaltype=uncurl'
        rf'&encryption=none&url={store.as_uri()}/\1/\2_{{{{annex_key}}}}',
    ]
    for i, rule in enumerate(rules):
        target = tmp_path / f'short{i}'
        run_ok(
            [
                DATALAD,
                '-c',
                f'datalad.clone.url-substitute.tcia={rule}',
                'clone',
                f'tcia://{collection_id(PHI)}/collection',
                str(target),
            ],
            tmp_path,
            env,
        )
        assert (target / '.gitmodules').exists()


@pytest.mark.slow
def test_repair_urls_after_tcia_moves(
    built: dict, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    """The API moves to another host: uncurl's match/url repair a clone
    without rewriting history."""
    old = lookalike_session
    env = fresh_env(tmp_path / 'home')
    url = [r for r in built['results'][PHI] if r.get('PatientID') == 'Pseudo-PHI-002'][
        0
    ]['url']
    target = tmp_path / 'p2'
    run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
    files = sorted(
        p for p in target.rglob('*.dcm') if '.git' not in p.relative_to(target).parts
    )
    truth = _truth(old, PHI)
    with LookalikeServer() as moved:
        old.reset()
        for endpoint in ('getImage', 'getSingleImage'):
            old.faults.add('status', endpoint, status=500, times=None)
        pattern = old.api_url.replace('.', r'\.') + '/(?P<call>.+)'
        # the repair: uncurl enabled with a new match/url (git-annex asks
        # to verify a remote whose configuration changed)
        enable_remote(
            target, env, 'uncurl', f'match={pattern}', f'url={moved.api_url}/{{call}}'
        )
        run_ok([DATALAD, 'get', str(files[0]), str(files[-1])], target, env)
        _check_one(files[0], truth)
        _check_one(files[-1], truth)
        assert moved.requests('getImage') or moved.requests('getSingleImage')
        assert not [e for e in old.requests() if e.status == 200]
    old.reset()


@pytest.mark.slow
def test_get_one_file_costs_one_file(
    built: dict, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    """Per-file sources come first (``cost=`` travels in remote.log): one
    file costs the server at most 1.1 times the file, and after ``get -r``
    the clone holds no series archive."""
    srv = lookalike_session
    env = fresh_env(tmp_path / 'home')
    url = [r for r in built['results'][ENC] if r.get('PatientID')][0]['url']
    target = tmp_path / 'one'
    run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
    info = {
        name: json.loads(run_ok(['git', 'annex', 'info', '--json', name], target, env))[
            'cost'
        ]
        for name in ('idc', 'nbia')
    }
    assert info == {'idc': '100.0', 'nbia': '150.0'}
    # the external remotes keep their costs for when they are enabled
    remote_log = run_ok(['git', 'show', 'git-annex:remote.log'], target, env)
    assert re.search(r'autoenable=false cost=175 .*name=uncurl', remote_log)
    assert re.search(r'autoenable=false cost=200 .*name=archivist', remote_log)
    files = sorted(
        p for p in target.rglob('*.dcm') if '.git' not in p.relative_to(target).parts
    )
    srv.reset()
    run_ok([DATALAD, 'get', str(files[0])], target, env)
    size = files[0].stat().st_size
    sent = sum(e.bytes_sent for e in srv.requests())
    assert size <= sent <= 1.1 * size, (sent, size)
    run_ok([DATALAD, 'get', '-r', '.'], target, env)
    _check_files(target, _truth(srv, ENC), ENC)
    objects = [p.name for p in (target / '.git' / 'annex' / 'objects').rglob('*--*')]
    assert objects and not [o for o in objects if o.startswith('VURL')]
    assert not [e for e in srv.requests('getImage') if e.method == 'GET']
    srv.reset()


@pytest.mark.slow
def test_archive_dropped_when_it_was_the_only_way(
    built: dict, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    """getSingleImage down: the file comes out of the series archive, which
    the documented command then drops from the clone."""
    srv = lookalike_session
    env = fresh_env(tmp_path / 'home')
    url = [r for r in built['results'][PHI] if r.get('PatientID')][0]['url']
    target = tmp_path / 'arch'
    run_ok([DATALAD, 'clone', url, str(target)], tmp_path, env)
    one = sorted(target.glob('*/1-AXIAL*/*.dcm'))[0]
    srv.reset()
    srv.faults.add('status', 'getSingleImage', status=500, times=None)
    for name in ('uncurl', 'archivist'):
        enable_remote(target, env, name)
    run_ok([DATALAD, 'get', str(one)], target, env)
    _check_one(one, _truth(srv, PHI))
    srv.reset()

    def archives() -> list[str]:
        root = target / '.git' / 'annex' / 'objects'
        return [p.name for p in root.rglob('VURL*') if p.is_file()]

    assert archives()
    # the command docs/source/datasets.rst gives
    run_ok(
        ['sh', '-c', 'git annex unused --quiet && git annex dropunused --force all'],
        target,
        env,
    )
    assert not archives()
    _check_one(one, _truth(srv, PHI))
