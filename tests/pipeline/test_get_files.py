"""``pipeline/get_files.py``: content into a clone across its datasets,
verified, and git-annex sees it as its own ``get`` would leave it."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from tcia_lookalike import LookalikeServer

from datalad_tcia.export import clone_url
from datalad_tcia.pipeline import (
    RunSettings,
    build_datasets,
    clone_collection,
    get_files,
)
from datalad_tcia.pipeline.get_files import DISK_RESERVE
from datalad_tcia.retrieve import TransferSettings, dataset_content, scan_links
from datalad_tcia.store import StoreLayout
from tests.conftest import FAST_RETRY
from tests.helpers import run, run_ok
from tests.idc_fixtures import CLEAN_BUCKET, CleanIdc

from .conftest import PHI, idc_sources

FAST = TransferSettings(jobs=8, retry=FAST_RETRY)


def _clone(settings: RunSettings, target: Path) -> Path:
    layout = StoreLayout(settings.store, PHI)
    url = clone_url(settings.base_url, layout.collection_export.relpath)
    out = clone_collection(url, target)
    assert out.status == 'ok', out.message
    return target


def _truth(srv: LookalikeServer) -> dict[str, str]:
    """MD5 -> SOPInstanceUID of every look-alike file of the collection."""
    return {
        i.md5: i.sop_uid
        for s in srv.archive.iter_series()
        if s.collection.name == PHI
        for i in s.instances
    }


def _dicoms(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob('*.dcm') if '.git' not in p.relative_to(root).parts
    )


def _patients(clone: Path) -> list[Path]:
    return sorted(p.parent for p in clone.glob('*/.datalad'))


def _fsck(repo: Path) -> list[dict]:
    out = run_ok(['git', 'annex', 'fsck', '--fast', '--json', '--quiet'], repo)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _check_present(clone: Path, truth: dict[str, str], n: int | None = None) -> None:
    files = [p for p in _dicoms(clone) if p.exists()]
    if n is not None:
        assert len(files) == n
    for path in files:
        assert hashlib.md5(path.read_bytes()).hexdigest() in truth, path
        assert not os.access(path.resolve(), os.W_OK) or os.geteuid() == 0
        assert path.resolve().stat().st_mode & 0o222 == 0
    for patient in _patients(clone):
        assert (patient / '.git').is_dir()
        full = run_ok(['git', 'annex', 'fsck', '--json', '--quiet'], patient)
        assert all(
            json.loads(line)['success'] for line in full.splitlines() if line.strip()
        ), full


def test_everything_across_datasets(
    built: RunSettings, tmp_path: Path, tcia: LookalikeServer
) -> None:
    clone = _clone(built, tmp_path / 'clone')
    truth = _truth(tcia)
    outcomes = list(get_files(clone, [clone], recursive=True, settings=FAST))
    patients = _patients(clone)
    assert len(patients) == 2
    mine = {o.path: o for o in outcomes}
    for patient in patients:
        assert mine[patient].status == 'ok', mine[patient].message
        assert mine[patient].installed
        assert mine[patient].fallback == 0
    _check_present(clone, truth, len(truth))
    assert sum(o.files for o in outcomes) == len(truth)
    # git-annex's view: whereis "here", the journal committed by its next
    # command, a drop and a get of its own work
    patient = patients[0]
    uuid = run_ok(['git', 'config', 'annex.uuid'], patient).strip()
    first = next(p for p in _dicoms(patient))
    where = json.loads(
        run_ok(['git', 'annex', 'whereis', '--json', str(first)], patient)
    )
    assert uuid in {w['uuid'] for w in where['whereis']}
    run_ok(['git', 'annex', 'drop', '--force', str(first)], patient)
    assert not first.exists()
    run_ok(['git', 'annex', 'get', str(first)], patient)
    assert first.exists()
    status = run_ok(['git', 'status', '--porcelain'], patient)
    assert status == ''
    # again: nothing to do
    again = list(get_files(clone, [clone], recursive=True, settings=FAST))
    assert {o.status for o in again} == {'notneeded'}


def test_one_patient_and_one_series(
    built: RunSettings, tmp_path: Path, tcia: LookalikeServer
) -> None:
    clone = _clone(built, tmp_path / 'clone')
    truth = _truth(tcia)
    names = sorted(p.name for p in clone.iterdir() if not p.name.startswith('.'))
    patient_dirs = [n for n in names if (clone / n).is_dir()]
    first = clone / patient_dirs[0]
    # a patient by its path, without -r: installed and all of its files
    out = list(get_files(clone, [first], settings=FAST))
    assert [o.status for o in out] == ['ok'], out
    assert not (clone / patient_dirs[1] / '.git').exists()
    got = [p for p in _dicoms(first) if p.exists()]
    assert got and len(got) == len(_dicoms(first))
    # one series of the other patient
    second = clone / patient_dirs[1]
    out = list(get_files(clone, [second], get_data=False))
    assert [o.status for o in out] == ['ok'] and out[0].installed
    series = sorted({p.parent for p in _dicoms(second)})[0]
    out = list(get_files(clone, [series], settings=FAST))
    assert out[0].status == 'ok', out
    assert {p.exists() for p in _dicoms(series)} == {True}
    others = [p for p in _dicoms(second) if p.parent != series]
    assert others and not any(p.exists() for p in others)
    _check_present(clone, truth)


def test_two_patients_by_their_paths(
    built: RunSettings, tmp_path: Path, tcia: LookalikeServer
) -> None:
    clone = _clone(built, tmp_path / 'clone')
    truth = _truth(tcia)
    names = sorted(
        p.name for p in clone.iterdir() if p.is_dir() and not p.name.startswith('.')
    )
    assert len(names) >= 2  # noqa: PLR2004
    two = [clone / n for n in names[:2]]
    out = list(get_files(clone, two, settings=FAST))
    assert sorted(o.path for o in out) == two
    assert {o.status for o in out} == {'ok'}, out
    got = [p for d in two for p in _dicoms(d)]
    assert got and all(p.exists() for p in got)
    _check_present(clone, truth, len(got))


def test_a_bad_source_falls_back_and_a_dead_one_fails_cleanly(
    built: RunSettings, tmp_path: Path, tcia: LookalikeServer
) -> None:
    clone = _installed(built, tmp_path)
    tcia.faults.add('status', 'getSingleImage', status=500, times=None)
    out = list(get_files(clone, [clone], recursive=True, settings=FAST))
    assert {o.status for o in out if o.path != clone} == {'error'}
    bad = next(o for o in out if o.status == 'error')
    assert 'could not be got' in bad.message and 'run again' in bad.message
    assert bad.failed
    assert not [p for p in _dicoms(clone) if p.exists()]
    for patient in _patients(clone):
        leftovers = [
            p for p in (patient / '.git' / 'annex' / 'tmp').rglob('*') if p.is_file()
        ]
        assert leftovers == []
        assert not list((patient / '.git' / 'annex' / 'objects').rglob('*.dcm'))
    assert run(['git', 'annex', 'fsck', '--fast'], patient).returncode == 0


def test_no_room_is_refused_before_a_byte(
    built: RunSettings, tmp_path: Path, tcia: LookalikeServer, monkeypatch
) -> None:
    import shutil
    from collections import namedtuple

    clone = _clone(built, tmp_path / 'clone')
    usage = namedtuple('usage', 'total used free')
    monkeypatch.setattr(
        shutil, 'disk_usage', lambda p: usage(10**12, 10**12, DISK_RESERVE)
    )
    tcia.reset()
    out = list(get_files(clone, [clone], recursive=True, settings=FAST))
    assert [o.status for o in out] == ['impossible']
    assert 'free space or get fewer paths' in out[0].message
    assert not tcia.requests('getSingleImage')


def test_a_path_that_is_not_there(built: RunSettings, tmp_path: Path) -> None:
    clone = _clone(built, tmp_path / 'clone')
    out = list(get_files(clone, [clone / 'nope'], settings=FAST))
    assert [o.status for o in out] == ['impossible']
    assert 'does not exist' in out[0].message


@pytest.fixture
def built_idc(acquired: RunSettings, clean_idc: CleanIdc) -> RunSettings:
    """Pseudo-PHI's datasets, every file with IDC's object (first) and
    NBIA's ``getSingleImage`` as sources."""
    outcomes = list(build_datasets(replace(acquired, idc=idc_sources(clean_idc)), PHI))
    assert {o.status for o in outcomes} <= {'ok', 'notneeded'}, outcomes
    return acquired


def _installed(settings: RunSettings, tmp_path: Path) -> Path:
    """A clone of the collection with every patient installed."""
    clone = _clone(settings, tmp_path / 'clone')
    list(get_files(clone, [clone], recursive=True, get_data=False))
    return clone


def _idc_gets(idc: CleanIdc) -> list[str]:
    return [r.path for r in idc.s3.log if r.method == 'GET' and r.path.endswith('.dcm')]


def _singles(tcia: LookalikeServer) -> list[str]:
    return [
        r.query['SOPInstanceUID']
        for r in tcia.requests('getSingleImage')
        if r.status == 200  # noqa: PLR2004
    ]


def test_idc_first_and_nbia_for_a_503_or_wrong_bytes(
    built_idc: RunSettings,
    clean_idc: CleanIdc,
    tcia: LookalikeServer,
    tmp_path: Path,
) -> None:
    clone = _installed(built_idc, tmp_path)
    truth = _truth(tcia)
    patient = _patients(clone)[0]
    wanted = dataset_content(patient, scan_links(patient)).wanted
    assert all(w.urls[0].startswith(clean_idc.s3.endpoint) for w in wanted)
    assert all('getSingleImage' in w.urls[1] for w in wanted)
    # one object answers 503, another holds other bytes
    failing, changed = wanted[0], wanted[1]
    key = failing.urls[0].split(f'/{CLEAN_BUCKET}/', 1)[1]
    clean_idc.s3.fail_keys[key] = 503
    changed_key = changed.urls[0].split(f'/{CLEAN_BUCKET}/', 1)[1]
    original = requests.get(changed.urls[0], timeout=30).content
    clean_idc.s3.put(CLEAN_BUCKET, changed_key, b'other bytes' + original[11:])
    try:
        tcia.reset()
        out = list(get_files(clone, [clone], recursive=True, settings=FAST))
    finally:
        clean_idc.s3.put(CLEAN_BUCKET, changed_key, original)
    assert {o.status for o in out if o.path != clone} == {'ok'}, out
    assert sum(o.fallback for o in out) == 0
    _check_present(clone, truth, len(truth))
    # each of the two from NBIA, every other file from IDC alone
    by_path = {patient / p: w for w in (failing, changed) for p in w.paths}
    sops = {truth[hashlib.md5(p.read_bytes()).hexdigest()] for p in by_path}
    assert sorted(_singles(tcia)) == sorted(sops)
    assert len(set(_idc_gets(clean_idc))) == len(truth)


def test_idc_and_nbia_down_is_a_clear_error_and_nothing_partial(
    built_idc: RunSettings,
    clean_idc: CleanIdc,
    tcia: LookalikeServer,
    tmp_path: Path,
) -> None:
    clone = _installed(built_idc, tmp_path)
    clean_idc.s3.fail_objects = 503
    for endpoint in ('getImage', 'getSingleImage'):
        tcia.faults.add('status', endpoint, status=500, times=None)
    out = list(get_files(clone, [clone], recursive=True, settings=FAST))
    failed = [o for o in out if o.path != clone]
    assert failed and {o.status for o in failed} == {'error'}
    for o in failed:
        assert 'could not be got' in o.message and 'run again' in o.message
        # git-annex's own words for the file, after its own attempts
        assert o.failed and all(': ' in f for f in o.failed)
    assert not [p for p in _dicoms(clone) if p.exists()]
    for patient in _patients(clone):
        annex = patient / '.git' / 'annex'
        assert not [p for p in (annex / 'tmp').rglob('*') if p.is_file()]
        assert not list((annex / 'objects').rglob('*.dcm'))
        assert run(['git', 'annex', 'fsck', '--fast'], patient).returncode == 0
