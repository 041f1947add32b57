"""``datalad tcia-get`` as a user runs it: killed in the middle and run
again, in a clone made with plain DataLad before the command existed, and
its result records as JSON."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from tests.helpers import DATALAD, api, fresh_env, run_ok
from tests.idc_fixtures import PHI, CleanIdc

tcia_add = api('tcia_add')


def _store(tcia: LookalikeServer, store: Path) -> str:
    """Pseudo-PHI built from NBIA, with IDC's objects as first sources;
    the collection's clone URL."""
    res = tcia_add(
        api_url=tcia.api_url,
        datacite_url=tcia.datacite_url,
        collection=PHI,
        store=str(store),
        source='nbia',
    )
    assert res[-1]['status'] == 'ok', res[-1]
    return next(r for r in res if r.get('path', '').endswith('/collection'))['url']


def _clone(
    tcia: LookalikeServer, tmp_path: Path
) -> tuple[Path, dict[str, str], set[str]]:
    """A user's clone of the store :func:`_store` builds (fresh HOME); its
    environment and the MD5 of every look-alike file."""
    url = _store(tcia, tmp_path / 'store')
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    md5s = {i.md5 for s in tcia.archive.iter_series() for i in s.instances}
    return clone, env, md5s


def _dicoms(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob('*.dcm') if '.git' not in p.relative_to(root).parts
    )


def _objects(clone: Path) -> list[Path]:
    return [
        p
        for p in clone.glob('*/.git/annex/objects/*/*/*/*')
        if p.is_file() and p.name.startswith('MD5E-')
    ]


def _true_to_its_key(obj: Path) -> bool:
    """An object's bytes are what its MD5E key names."""
    size, digest = obj.name.split('-s', 1)[1].split('--', 1)
    data = obj.read_bytes()
    return (
        len(data) == int(size)
        and hashlib.md5(data).hexdigest() == (digest.split('.', 1)[0])
    )


def _get_json(clone: Path, env: dict[str, str]) -> list[dict]:
    out = run_ok([DATALAD, '-f', 'json', 'tcia-get', '-r', '.'], clone, env)
    return [json.loads(line) for line in out.splitlines() if line.startswith('{')]


def _all_true(clone: Path, md5s: set[str]) -> None:
    files = _dicoms(clone)
    assert files and all(p.exists() for p in files)
    assert {hashlib.md5(p.read_bytes()).hexdigest() for p in files} <= md5s
    for patient in sorted(p.parent for p in clone.glob('*/.datalad')):
        run_ok(['git', 'annex', 'fsck'], patient)


@pytest.mark.slow
def test_killed_in_the_middle_then_run_again(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """SIGKILL while files arrive: no object under a final name that is
    not whole and true; the next run fetches only what is missing and
    leaves every file true, with one JSON record per dataset."""
    clone, env, md5s = _clone(tcia, tmp_path)
    run_ok([DATALAD, 'tcia-get', '-n', '-r', '.'], clone, env)
    total = len(_dicoms(clone))
    clean_idc.s3.reset()
    clean_idc.s3.latency = 0.5
    proc = subprocess.Popen(
        [DATALAD, 'tcia-get', '-J', '2', '-r', '.'],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _objects(clone) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    objects = _objects(clone)
    assert 0 < len(objects) < total
    assert all(_true_to_its_key(o) for o in objects)
    # run again: only the rest is fetched
    clean_idc.s3.reset()
    records = _get_json(clone, env)
    assert {r['action'] for r in records} == {'tcia_get'}
    assert {r['type'] for r in records} == {'dataset'}
    assert {r['status'] for r in records} <= {'ok', 'notneeded'}, records
    patients = [r for r in records if r['path'] != str(clone)]
    assert len(patients) == len({r['path'] for r in patients})
    gets = {r.path for r in clean_idc.s3.log if r.method == 'GET'}
    assert len(gets) == total - len(objects)
    _all_true(clone, md5s)


@pytest.mark.slow
def test_a_clone_made_with_plain_datalad(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """A clone whose patients DataLad installed, with a file got by
    ``datalad get``: tcia-get gets the rest, and git-annex and DataLad
    agree with it (fsck, status, a later ``datalad get``)."""
    clone, env, md5s = _clone(tcia, tmp_path)
    run_ok([DATALAD, 'get', '-n', '-r', '.'], clone, env)
    first = _dicoms(clone)[0]
    run_ok([DATALAD, 'get', str(first)], clone, env)
    records = _get_json(clone, env)
    assert {r['status'] for r in records} <= {'ok', 'notneeded'}, records
    assert not any(r.get('installed') for r in records)
    _all_true(clone, md5s)
    status = run_ok([DATALAD, '-f', 'json', 'status', '-r'], clone, env)
    states = {json.loads(line)['state'] for line in status.splitlines() if line}
    assert states <= {'clean'}, status
    again = run_ok([DATALAD, '-f', 'json', 'get', '-r', '.'], clone, env)
    assert {json.loads(line)['status'] for line in again.splitlines()} <= {'notneeded'}


@pytest.mark.slow
def test_patients_at_datalad_annex_urls(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """A clone whose collection names its patients by their
    ``datalad-annex::`` deposits (as before the store had plain
    repositories): DataLad installs them, tcia-get gets their content."""
    from datalad_tcia.export import deposit_url

    clone, env, md5s = _clone(tcia, tmp_path)
    modules = run_ok(
        ['git', 'config', '-f', '.gitmodules', '--get-regexp', r'\.url$'], clone, env
    )
    for line in modules.splitlines():
        key, plain = line.split(' ', 1)
        base, name = plain.removesuffix('.git').rsplit('/', 1)
        run_ok(
            ['git', 'config', '-f', '.gitmodules', key, deposit_url(base, name)],
            clone,
            env,
        )
    run_ok(['git', 'commit', '-q', '-m', 'older URLs', '.gitmodules'], clone, env)
    records = _get_json(clone, env)
    patients = [r for r in records if r['path'] != str(clone)]
    assert patients and {r['status'] for r in patients} == {'ok'}, records
    assert all(r['installed'] for r in patients)
    _all_true(clone, md5s)
