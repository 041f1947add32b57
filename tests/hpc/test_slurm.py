"""``tcia-add --slurm K`` on a real one-node SLURM cluster (started by the
test command, ``scripts/slurm-cluster.sh``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import StoreLayout, collection_id
from tests.helpers import clone_and_get_all, run, run_ok, store_state, tcia_add_argv

COHORT = 'LOOKALIKE-COHORT'  # see conftest.py
CID = collection_id(COHORT)


def _cluster_up() -> str | None:
    """Why SLURM tests cannot run here, or None."""
    if shutil.which('sbatch') is None:
        return 'sbatch is not installed (scripts/test.sh installs SLURM as root)'
    if run(['scontrol', 'ping']).returncode != 0:
        return 'no SLURM controller answers (scripts/test.sh starts one as root)'
    return None


needs_slurm = pytest.mark.skipif(_cluster_up() is not None, reason=str(_cluster_up()))


def _submit(srv: LookalikeServer, store: Path, tasks: int) -> dict[str, Any]:
    out = run_ok(tcia_add_argv(srv, store, COHORT, '--slurm', str(tasks)), store.parent)
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
    assert len(records) == 1, records
    return records[0]


def _state(job: str) -> str:
    """A job's state (``scontrol show job``; accounting is off)."""
    out = run(['scontrol', '-o', 'show', 'job', job]).stdout
    for field in out.split():
        if field.startswith('JobState='):
            return field.split('=', 1)[1]
    return 'GONE'


def _wait(job: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(job)
        if state in ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'GONE'):
            return state
        time.sleep(0.5)
    pytest.fail(f'job {job} still {_state(job)} after {timeout} s')


def _logs(directory: Path) -> str:
    return '\n'.join(
        f'== {p.name}\n{p.read_text()}' for p in sorted(directory.glob('*.log'))
    )


@needs_slurm
@pytest.mark.slow
def test_array_equals_one_process(
    cohort: LookalikeServer, serial_store: Path, tmp_path: Path
) -> None:
    store = tmp_path / 'store'
    rec = _submit(cohort, store, 4)
    assert rec['status'] == 'ok', rec
    directory = Path(rec['path'])
    assert directory.parent == store / 'slurm'
    assert (
        Path(rec['script']).read_text().count('--shard "$SLURM_ARRAY_TASK_ID/4"') == 1
    )
    assert _wait(rec['final_job']) == 'COMPLETED', _logs(directory)
    for task in range(4):
        assert _state(f'{rec["array_job"]}_{task}') in ('COMPLETED', 'GONE')
    assert len(list(directory.glob('array-*_*.log'))) == 4
    assert store_state(store, CID) == store_state(serial_store, CID)
    assert not (store / CID / 'archives').exists()
    assert (store / CID / 'catalog' / 'index.html').exists()
    truth = sorted(i.md5 for s in cohort.archive.iter_series() for i in s.instances)
    assert clone_and_get_all(store, CID, tmp_path) == truth


@needs_slurm
@pytest.mark.slow
def test_killed_task_resubmitted(
    cohort: LookalikeServer, serial_store: Path, tmp_path: Path
) -> None:
    """Task 3 (four of the eight patients) is killed mid-way; the
    collection step waits; the resubmit script runs task 3 again and a new
    collection step: the store ends complete, nothing lost."""
    store = tmp_path / 'store'
    cohort.faults.add('slow', 'getImage', times=4, delay=1.5)
    try:
        rec = _submit(cohort, store, 4)
        task = f'{rec["array_job"]}_3'
        directory = Path(rec['path'])
        deadline = time.monotonic() + 120
        # killed once it works on a patient of its own (shard 3 of 4 holds
        # COHORT-0001, -0004, -0007 and -0008; no other task touches them)
        lock = StoreLayout(store, COHORT).patient_lock('COHORT-0001')
        while not lock.exists() or _state(task) != 'RUNNING':
            assert time.monotonic() < deadline, _logs(directory)
            time.sleep(0.1)
        run_ok(['scancel', '--signal=KILL', '--full', task], tmp_path)
        assert _wait(task) in ('CANCELLED', 'FAILED'), _logs(directory)
    finally:
        cohort.faults.clear()
    for other in range(3):
        _wait(f'{rec["array_job"]}_{other}')
    # afterok can no longer be met: the collection step does not run
    time.sleep(1)
    assert _state(rec['final_job']) == 'PENDING'
    assert not (store / CID / 'repos' / 'collection').exists()
    out = run_ok(['bash', rec['resubmit_script'], '3'], tmp_path)
    final = (directory / 'final.id').read_text().strip()
    assert final != rec['final_job'], out
    assert _state(rec['final_job']) in ('CANCELLED', 'GONE')
    assert _wait(final) == 'COMPLETED', _logs(directory)
    assert store_state(store, CID) == store_state(serial_store, CID)
    leftovers = [p for p in (store / CID).rglob('*.part')]
    assert leftovers == []
    truth = sorted(i.md5 for s in cohort.archive.iter_series() for i in s.instances)
    assert clone_and_get_all(store, CID, tmp_path) == truth


@pytest.mark.slow
@needs_slurm
def test_container_jobs(cohort: LookalikeServer, tmp_path: Path) -> None:
    """With --slurm-container, the jobs run datalad in the image with the
    store bound; a node without a container runtime says so in the log."""
    store = tmp_path / 'store'
    image = tmp_path / 't.sif'  # only there: no node can run it
    image.write_bytes(b'')
    out = run_ok(
        tcia_add_argv(
            cohort, store, COHORT, '--slurm', '1', '--slurm-container', str(image)
        ),
        tmp_path,
    )
    rec = json.loads(out.splitlines()[0])
    script = Path(rec['script']).read_text()
    assert (
        f'exec "$TCIA_CONTAINER_RUNTIME" exec --bind {store} {image} datalad' in script
    )
    if shutil.which('apptainer') or shutil.which('singularity'):
        run(['scancel', rec['array_job'], rec['final_job']])
        pytest.skip('a container runtime is installed: no failing node to show')
    assert _wait(f'{rec["array_job"]}_0') == 'FAILED'
    log = next(Path(rec['path']).glob('array-*_0.log')).read_text()
    assert 'neither apptainer nor singularity is on PATH' in log
    run(['scancel', rec['final_job']])
    assert not (store / CID).exists()


@pytest.mark.slow
def test_slurm_without_sbatch_is_a_clear_error(
    cohort: LookalikeServer, tmp_path: Path
) -> None:
    store = tmp_path / 'store'
    cohort.reset()
    # a PATH with datalad, git and git-annex, but no sbatch (Debian puts it
    # into /usr/bin, beside git)
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    git = shutil.which('git')
    assert git
    (bindir / 'git').symlink_to(git)
    env = {**os.environ, 'PATH': f'{Path(sys.executable).parent}:{bindir}'}
    assert shutil.which('sbatch', path=env['PATH']) is None
    proc = subprocess.run(
        tcia_add_argv(cohort, store, COHORT, '--slurm', '4'),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    rec = json.loads(proc.stdout.splitlines()[0])
    assert rec['status'] == 'impossible'
    assert 'sbatch is not on PATH' in rec['message']
    assert 'nothing was submitted' in rec['message']
    assert not (store / 'slurm').exists()
    assert cohort.requests() == []
