"""Series acquired from IDC without their pixel data (``--source idc``):
the bucket's listing gives each file's size and MD5, a few KB of each
file its DICOM header; the deposit, datasets, catalog and clones are
those a download from NBIA gives."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from datalad.api import tcia_add, tcia_download
from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc_index import instance_key

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, fresh_env, run_ok
from tests.idc_fixtures import CLEAN_BUCKET, ENC, PHI, CleanIdc

RT = 'LOOKALIKE-RT'


def _add(srv: LookalikeServer, store: Path, collection: str, **kw) -> list[dict]:  # noqa: ANN003
    return tcia_add(
        api_url=srv.api_url,
        datacite_url=srv.datacite_url,
        collection=collection,
        store=str(store),
        result_renderer='disabled',
        on_failure='ignore',
        **kw,
    )


def _path_keys(store: Path, collection: str) -> dict[str, dict[str, str]]:
    """Patient -> path -> annex key of every file of its dataset."""
    out = {}
    repos = store / collection_id(collection) / 'repos'
    for repo in sorted(p for p in repos.iterdir() if p.name != 'collection'):
        if repo.name.startswith('.'):
            continue
        tree = run_ok(['git', 'ls-tree', '-r', 'HEAD'], repo).splitlines()
        keys = {}
        for line in tree:
            meta, path = line.split('\t', 1)
            mode, _, blob = meta.split()
            if mode == '120000':
                target = run_ok(['git', 'cat-file', 'blob', blob], repo)
                keys[path] = target.rsplit('/', 1)[-1]
        out[repo.name] = keys
    return out


def _records(store: Path, collection: str) -> dict[str, tuple[dict, list[dict]]]:
    root = store / collection_id(collection) / 'metadata'
    out = {}
    for path in root.glob('*_metadata_archive.json'):
        uid = path.name[: -len('_metadata_archive.json')]
        dicoms = json.loads((root / f'{uid}_metadata_dicoms.json').read_text())
        out[uid] = (json.loads(path.read_text()), dicoms)
    return out


def _truth(srv: LookalikeServer, collection: str) -> dict[str, str]:
    return {
        i.sop_uid: i.md5
        for s in srv.archive.iter_series()
        if s.collection.name == collection
        for i in s.instances
    }


@pytest.mark.slow
def test_from_idc_alone_nbia_answers_nothing(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """--index idc --source idc: not one NBIA request; deposits, datasets,
    catalog; a fresh clone gets every file, from IDC, with its bytes; a
    header-only run moves a small share of the collection's bytes."""
    store = tmp_path / 'store'
    res = _add(tcia, store, PHI, index='idc', source='idc', jobs=8)
    assert res[-1]['status'] == 'ok', [r['message'] for r in res if r['status'] != 'ok']
    assert [r.endpoint for r in tcia.requests()] == ['dois']  # DataCite, once
    series = [r for r in res if r.get('action') == 'tcia_download']
    assert series and {r['source'] for r in series} == {'idc'}
    truth = _truth(tcia, PHI)
    total = sum(
        i.size
        for s in tcia.archive.iter_series()
        if s.collection.name == PHI
        for i in s.instances
    )
    received = sum(r['bytes_received'] for r in series)
    assert received < total / 2, (received, total)
    # the records: IDC's facts per series, IDC's URL per file, no archive
    for arec, dicoms in _records(store, PHI).values():
        assert arec['source'] == 'idc'
        assert arec['archive_url'] is None and arec['archive_md5'] is None
        assert (
            arec['idc']['index_row']['crdc_series_uuid']
            == (arec['idc']['crdc_series_uuid'])
        )
        assert arec['api_url'] == tcia.api_url
        for rec in dicoms:
            assert rec['dicom'] is True
            assert truth[rec['SOPInstanceUID']] == rec['md5']
            assert rec['idc_url'].startswith(clean_idc.s3.endpoint)
    cid = collection_id(PHI)
    assert (store / cid / 'catalog' / 'index.html').is_file()
    assert not list(store.rglob('*.zip'))
    # a clone, from IDC alone
    clean_idc.s3.reset()
    env = fresh_env(tmp_path / 'home')
    url = [r for r in res if r.get('path', '').endswith('/collection')][0]['url']
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    run_ok([DATALAD, 'get', '-r', '.'], clone, env)
    files = [
        p for p in clone.rglob('*.dcm') if '.git' not in p.relative_to(clone).parts
    ]
    assert len(files) == len(truth)
    got = sorted(hashlib.md5(p.read_bytes()).hexdigest() for p in files)
    assert got == sorted(truth.values())
    assert [r.endpoint for r in tcia.requests()] == ['dois']
    # every file also knows NBIA's getSingleImage URL (built, never asked)
    patient = next(p.parent for p in clone.glob('*/.datalad'))
    one = next(p for p in patient.rglob('*.dcm') if '.git' not in p.parts)
    urls = run_ok(
        ['git', 'annex', 'whereis', '--json', str(one.relative_to(patient))],
        patient,
        env,
    )
    assert 'getSingleImage' in urls or 'nbia' in urls


@pytest.mark.slow
def test_nbia_and_idc_builds_have_the_same_paths_and_keys(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """The same collections built from NBIA's archives and from IDC's
    listings and headers: identical path -> key maps, identical per-file
    records (tags and all); the multipart object was downloaded whole."""
    for coll in (PHI, ENC, RT):
        nbia = _add(tcia, tmp_path / 'nbia', coll, source='nbia', no_idc=True)
        assert nbia[-1]['status'] == 'ok', nbia[-1]
        idc = _add(tcia, tmp_path / 'idc', coll, index='idc', source='idc', jobs=4)
        assert idc[-1]['status'] == 'ok', [
            r['message'] for r in idc if r['status'] != 'ok'
        ]
        assert _path_keys(tmp_path / 'nbia', coll) == _path_keys(tmp_path / 'idc', coll)
        from_nbia = _records(tmp_path / 'nbia', coll)
        from_idc = _records(tmp_path / 'idc', coll)
        assert set(from_nbia) == set(from_idc)
        for uid, (_, dicoms) in from_nbia.items():
            theirs = {
                r['path']: {k: v for k, v in r.items() if k != 'idc_url'}
                for r in from_idc[uid][1]
            }
            ours = {r['path']: r for r in dicoms if r['dicom']}
            assert ours == theirs, uid
    # the multipart object: one whole GET (its MD5 computed), no range
    series, inst = next(
        (s, i)
        for s in tcia.archive.iter_series()
        for i in s.instances
        if i.sop_uid == clean_idc.multipart
    )
    key = instance_key(series, inst)
    gets = [r for r in clean_idc.s3.log if r.method == 'GET' and r.path.endswith(key)]
    assert [(r.range, r.bytes_sent) for r in gets] == [(None, inst.size)]
    others = [
        r for r in clean_idc.s3.log if r.method == 'GET' and 'list-type' not in r.query
    ]
    assert all(r.range for r in others if r not in gets)


@pytest.mark.slow
def test_cut_and_long_headers(
    tcia: LookalikeServer,
    clean_idc: CleanIdc,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that answers ranges with fewer bytes than asked, and a
    first range far shorter than any header: the headers are read to
    PixelData all the same (pydicom alone would accept the cut ones)."""
    import datalad

    ref = tcia_download(
        api_url=tcia.api_url,
        collection=RT,
        store=str(tmp_path / 'nbia'),
        source='nbia',
        result_renderer='disabled',
    )
    assert {r['status'] for r in ref} == {'ok'}
    monkeypatch.setenv('DATALAD_TCIA_IDC__HEADER__BYTES', '200')
    datalad.cfg.reload(force=True)
    clean_idc.s3.cut_ranges = 1000
    res = tcia_download(
        api_url=tcia.api_url,
        collection=RT,
        store=str(tmp_path / 'idc'),
        index='idc',
        source='idc',
        jobs=4,
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert {r['status'] for r in res} == {'ok'}, [r['message'] for r in res]
    ranges = [
        r for r in clean_idc.s3.log if r.method == 'GET' and 'list-type' not in r.query
    ]
    files = sum(len(d) for _, d in _records(tmp_path / 'idc', RT).values())
    assert len(ranges) > 3 * files  # grown and cut, several requests a file
    assert all(r.bytes_sent <= 1000 for r in ranges)
    ours = {
        uid: {r['path']: r for r in d if r['dicom']}
        for uid, (_, d) in _records(tmp_path / 'nbia', RT).items()
    }
    theirs = {
        uid: {r['path']: {k: v for k, v in r.items() if k != 'idc_url'} for r in d}
        for uid, (_, d) in _records(tmp_path / 'idc', RT).items()
    }
    assert ours == theirs


@pytest.mark.slow
def test_a_series_that_fails_verification(
    tcia: LookalikeServer,
    clean_idc: CleanIdc,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index says a series has one file more than the bucket holds:
    --source idc fails it with what to do and writes nothing of it;
    --source auto takes it from NBIA instead, the others from IDC."""
    import datalad
    from tcia_lookalike.idc_index import index_row, write_index

    coll = tcia.archive.collection(PHI)
    assert coll is not None
    bad = coll.patients[0].studies[0].series[0]
    row = {**index_row(bad, CLEAN_BUCKET), 'instanceCount': len(bad.instances) + 1}
    index = write_index(
        tcia.archive,
        tmp_path / 'idx' / 'idc_index.parquet',
        rows={bad.uid: row},
        bucket=CLEAN_BUCKET,
    )
    monkeypatch.setenv('DATALAD_TCIA_IDC__INDEX', str(index))
    datalad.cfg.reload(force=True)
    res = tcia_download(
        api_url=tcia.api_url,
        collection=PHI,
        store=str(tmp_path / 'idc'),
        index='idc',
        source='idc',
        result_renderer='disabled',
        on_failure='ignore',
    )
    failed = [r for r in res if r['status'] == 'error']
    assert [r['SeriesInstanceUID'] for r in failed] == [bad.uid]
    assert 'fails verification' in failed[0]['message']
    assert '--source nbia' in failed[0]['message']
    meta = tmp_path / 'idc' / collection_id(PHI) / 'metadata'
    assert not list(meta.glob(f'{bad.uid}*')) and not list(meta.glob('.*'))
    # auto: NBIA's count is the bucket's, the index's is not -> from NBIA
    res = tcia_download(
        api_url=tcia.api_url,
        collection=PHI,
        store=str(tmp_path / 'auto'),
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert {r['status'] for r in res} == {'ok'}
    sources = {r['SeriesInstanceUID']: r['source'] for r in res}
    assert sources.pop(bad.uid) == 'nbia'
    assert set(sources.values()) == {'idc'}
    # IDC's objects down: auto falls back to NBIA for every series
    clean_idc.s3.fail_objects = 503
    res = tcia_download(
        api_url=tcia.api_url,
        collection=PHI,
        store=str(tmp_path / 'down'),
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert {r['status'] for r in res} == {'ok'}
    assert {r['source'] for r in res} == {'nbia'}
    assert all(
        'IDC failed: cannot read series' in r['message']
        for r in res
        if r['SeriesInstanceUID'] != bad.uid  # NBIA's count is not the index's
    )
    assert len(tcia.requests('getImage')) >= len(res)
