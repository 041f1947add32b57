"""IDC's per-file URLs as sources: matched by MD5 and size, recorded in the
metadata deposit, registered in the datasets, tried first by clones."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pydicom
import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.archive import SPECIAL_MEMBERS
from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, fresh_env, run, run_ok
from tests.idc_fixtures import ENC, PHI, IdcSide

tcia_add = api('tcia_add')
tcia_deposit_dataset = api('tcia_deposit_dataset')


def _truth(srv: LookalikeServer, collection: str) -> dict[str, str]:
    return {
        i.sop_uid: i.md5
        for s in srv.archive.iter_series()
        if s.collection.name == collection
        for i in s.instances
    }


def _dicoms(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob('*.dcm') if '.git' not in p.relative_to(root).parts
    )


def _check(path: Path, truth: dict[str, str]) -> None:
    data = path.read_bytes()
    sop = pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID
    assert hashlib.md5(data).hexdigest() == truth[sop], path


def _add(srv: LookalikeServer, store: Path, collection: str, **kw) -> list[dict]:  # noqa: ANN003
    """tcia-add downloading from NBIA (these tests are of IDC's URLs as
    sources of NBIA's files; test_acquire.py has series from IDC)."""
    return tcia_add(
        api_url=srv.api_url,
        datacite_url=srv.datacite_url,
        collection=collection,
        store=str(store),
        **{'source': 'nbia', **kw},
    )


def _metadata(store: Path, collection: str) -> dict[str, tuple[dict, list[dict]]]:
    root = store / collection_id(collection) / 'metadata'
    out = {}
    for path in root.glob('*_metadata_archive.json'):
        uid = path.name[: -len('_metadata_archive.json')]
        dicoms = root / f'{uid}_metadata_dicoms.json'
        out[uid] = (json.loads(path.read_text()), json.loads(dicoms.read_text()))
    return out


@pytest.mark.slow
def test_round_trip_from_idc_with_nbia_down(
    tcia: LookalikeServer, idc: IdcSide, tmp_path: Path
) -> None:
    """tcia-add; archives deleted; NBIA's getImage and getSingleImage
    switched off; a fresh-HOME clone gets every file, with its true content,
    from the S3 server -- also the one IDC holds as a multipart upload."""
    store = tmp_path / 'store'
    res = _add(tcia, store, ENC)
    assert res[-1]['status'] == 'ok', res[-1]
    found = [r for r in res if r.get('type') == 'idc']
    truth = _truth(tcia, ENC)
    assert sum(r['idc_matched'] for r in found) == len(truth)
    assert res[-1]['idc_files'] == len(truth)
    assert f'{len(truth)} file(s) gained IDC sources' in res[-1]['message']
    assert not any(r.get('warnings') for r in found)
    assert not list(store.rglob('*.zip'))
    # the deposit records every file's IDC URL and, per series, IDC's facts
    for arec, dicoms in _metadata(store, ENC).values():
        assert arec['idc']['idc_version'] == '25.0.5'
        assert arec['idc']['endpoint'] == idc.s3.endpoint
        images = [r for r in dicoms if r['path'] not in SPECIAL_MEMBERS]
        assert arec['idc']['matched'] == arec['idc']['files'] == len(images)
        assert all('idc_url' not in r for r in dicoms if r not in images)
        for rec in images:
            assert rec['idc_url'].startswith(
                f'{idc.s3.endpoint}/idc-open-data/{arec["idc"]["crdc_series_uuid"]}/'
            )
    # one download to learn the MD5 of the multipart object, no more
    assert (
        len([r for r in idc.s3.log if r.method == 'GET' and 'list-type' not in r.query])
        == 1
    )

    tcia.reset()
    for endpoint in ('getImage', 'getSingleImage'):
        tcia.faults.add('status', endpoint, status=404, times=None)
    idc.s3.reset()
    env = fresh_env(tmp_path / 'home')
    url = [r for r in res if r.get('path', '').endswith('/collection')][0]['url']
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    run_ok([DATALAD, 'get', '-r', '.'], clone, env)
    files = _dicoms(clone)
    assert len(files) == len(truth)
    for path in files:
        _check(path, truth)
    assert idc.s3.bytes_sent() == sum(p.stat().st_size for p in files)
    assert not [r for r in tcia.requests() if r.status == 200]
    # no series archive in the clone
    assert not list(clone.rglob('.git/annex/objects/**/VURL*'))
    tcia.reset()


@pytest.mark.slow
def test_idc_down_nbia_serves_and_both_down_fail_cleanly(
    tcia: LookalikeServer, idc: IdcSide, tmp_path: Path
) -> None:
    """IDC's objects answer 503: every file comes from NBIA's
    getSingleImage; both down: ``datalad get`` fails with git-annex's
    message naming the remotes not enabled, and nothing is left behind."""
    store = tmp_path / 'store'
    res = _add(tcia, store, ENC)
    assert res[-1]['status'] == 'ok', res[-1]
    truth = _truth(tcia, ENC)
    env = fresh_env(tmp_path / 'home')
    url = [r for r in res if r.get('path', '').endswith('/collection')][0]['url']
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    tcia.reset()
    idc.s3.reset()
    idc.s3.fail_objects = 503
    run_ok([DATALAD, 'get', '-r', '.'], clone, env)
    files = _dicoms(clone)
    assert len(files) == len(truth)
    for path in files:
        _check(path, truth)
    singles = [r for r in tcia.requests('getSingleImage') if r.status == 200]
    assert len(singles) == len(truth)
    assert not [r for r in tcia.requests('getImage') if r.method == 'GET']
    # both down
    patient = next(p.parent for p in clone.glob('*/.datalad'))
    run_ok([DATALAD, 'drop', '--reckless', 'availability', '-r', '.'], clone, env)
    tcia.reset()
    for endpoint in ('getImage', 'getSingleImage'):
        tcia.faults.add('status', endpoint, status=500, times=None)
    proc = run([DATALAD, 'get', '-r', '.'], clone, env)
    assert proc.returncode
    said = proc.stdout + proc.stderr
    assert 'download failed' in said
    assert not [p for p in _dicoms(clone) if p.exists()]
    assert not [
        p for p in (patient / '.git' / 'annex').rglob('*') if p.is_file()
        and 'tmp' in p.relative_to(patient / '.git' / 'annex').parts
    ]  # fmt: skip
    out = run(['git', 'annex', 'get', str(files[0])], patient, env)
    assert out.returncode
    assert 'Unable to access these remotes: idc, nbia' in out.stdout + out.stderr
    assert '-- uncurl' in out.stdout and '-- archivist' in out.stdout
    tcia.reset()


@pytest.mark.slow
def test_unmatched_files_missing_series_and_one_file_get(
    tcia: LookalikeServer, idc: IdcSide, tmp_path: Path
) -> None:
    """A file IDC holds with other bytes gets no IDC URL, a series IDC
    lacks is left alone, and a clone's ``get`` of one file costs the S3
    server that file (IDC is tried first)."""
    store = tmp_path / 'store'
    res = _add(tcia, store, PHI, keep_archives=True)
    assert res[-1]['status'] == 'ok', res[-1]
    meta = _metadata(store, PHI)
    assert 'idc' not in meta[idc.missing][0]
    assert all('idc_url' not in r for r in meta[idc.missing][1])
    changed = [
        (arec, dicoms)
        for arec, dicoms in meta.values()
        if any(r.get('SOPInstanceUID') == idc.changed for r in dicoms)
    ]
    arec, dicoms = changed[0]
    assert arec['idc']['matched'] == arec['idc']['files'] - 1
    unmatched = [r for r in dicoms if r.get('dicom') and 'idc_url' not in r]
    assert [r['SOPInstanceUID'] for r in unmatched] == [idc.changed]

    url = [r for r in res if r.get('PatientID') and r.get('url')][0]['url']
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'p1'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    matched = [
        p
        for p in _dicoms(clone)
        if 'idc'
        in {
            w['description'].strip('[]')
            for w in json.loads(
                run_ok(['git', 'annex', 'whereis', '--json', str(p)], clone, env)
            )['whereis']
        }
    ]
    assert matched
    tcia.reset()
    idc.s3.reset()
    run_ok([DATALAD, 'get', str(matched[0])], clone, env)
    size = matched[0].stat().st_size
    assert size <= idc.s3.bytes_sent() <= 1.1 * size
    assert not tcia.requests('getImage') and not tcia.requests('getSingleImage')
    _check(matched[0], _truth(tcia, PHI))


def test_listing_failure_is_a_warning_and_next_run_adds_idc(
    tcia: LookalikeServer, idc: IdcSide, tmp_path: Path
) -> None:
    """IDC's bucket answers 503: tcia-add succeeds with TCIA's sources and
    says so; the next tcia-deposit-dataset adds IDC's in one commit per
    dataset, and --no-idc leaves them out."""
    store = tmp_path / 'store'
    idc.s3.fail_listings = 503
    res = _add(tcia, store, ENC, keep_archives=True)
    assert res[-1]['status'] == 'ok', res[-1]
    assert not [r for r in res if r['status'] not in ('ok', 'notneeded')]
    warned = [r for r in res if r.get('type') == 'idc']
    assert warned and all(r['warnings'] for r in warned)
    assert 'cannot list' in warned[0]['message']
    assert res[-1]['idc_warnings'] == len(warned[0]['warnings'])
    assert all('idc' not in a for a, _ in _metadata(store, ENC).values())
    repo = store / collection_id(ENC) / 'repos'
    patient = next(p for p in repo.iterdir() if p.name != 'collection')
    head = run_ok(['git', 'rev-parse', 'HEAD'], patient)

    idc.s3.fail_listings = None
    res = tcia_deposit_dataset(store=str(store), collection=ENC, no_idc=True)
    assert {r['status'] for r in res} == {'notneeded'}
    res = tcia_deposit_dataset(store=str(store), collection=ENC)
    assert [r['status'] for r in res if r.get('PatientID')] == ['ok', 'ok']
    n = len(_truth(tcia, ENC))
    built = [r for r in res if r.get('type') == 'dataset' and r.get('PatientID')]
    assert built[0]['message'] == f'{n} file(s) gained sources; exported'
    assert run_ok(['git', 'rev-parse', 'HEAD~1'], patient) == head
    message = run_ok(['git', 'log', '-1', '--format=%B'], patient)
    assert message.startswith(f'Register new sources of {n} file(s)')
    assert f'{n} file(s) gain idc URLs' in message
    assert run_ok(['git', 'diff', '--stat', 'HEAD~1', 'HEAD'], patient) == ''
    # and once is enough
    res = tcia_deposit_dataset(store=str(store), collection=ENC)
    assert {r['status'] for r in res} == {'notneeded'}


def test_add_planned_offline(
    tcia: LookalikeServer, idc: IdcSide, tmp_path: Path
) -> None:
    """``tcia-add --index idc`` plans from the index (no NBIA listing
    call), downloads from NBIA as always; the same selection planned by
    NBIA afterwards finds everything done."""
    store = tmp_path / 'store'
    tcia.reset()
    res = _add(tcia, store, 'pseudo_phi_dicom_data', index='idc', no_idc=True)
    assert res[-1]['status'] == 'ok', res[-1]
    listing = {'getCollectionValues', 'getSeries', 'getPatient', 'getPatientStudy'}
    assert not [r for r in tcia.requests() if r.endpoint in listing]
    got = {r['SeriesInstanceUID'] for r in res if r.get('action') == 'tcia_download'}
    phi = {s.uid for s in tcia.archive.iter_series() if s.collection.name == PHI}
    assert got == phi - {idc.missing}
    arec = next(iter(_metadata(store, PHI).values()))[0]
    assert arec['Collection'] == PHI
    assert arec['nbia_series']['IdcVersion'] == '25.0.5'
    assert not [r for r in res if r.get('type') == 'idc']
    res = _add(tcia, store, PHI, no_idc=True, keep_archives=True)
    assert res[-1]['status'] == 'ok', res[-1]
    statuses = {
        r['SeriesInstanceUID']: r['status']
        for r in res
        if r.get('action') == 'tcia_download'
    }
    assert statuses[idc.missing] == 'ok'
    assert {statuses[u] for u in got} == {'notneeded'}
    # the index lacks a series NBIA serves: planning from it withdraws nothing
    res = _add(tcia, store, PHI, index='idc', no_idc=True, keep_archives=True)
    assert res[-1]['status'] == 'ok', res[-1]
    assert not [r for r in res if r.get('withdrawn')]
