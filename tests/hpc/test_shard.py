"""``tcia-add --shard I/K``: shards of one collection worked at once, then
the collection step; the same result as one process doing everything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.hpc import Shard
from datalad_tcia.store import collection_id
from tests.helpers import (
    clone_and_get_all,
    run_ok,
    store_state,
    tcia_add_argv,
)

COHORT = 'LOOKALIKE-COHORT'  # see conftest.py


def test_shard_parse_and_split() -> None:
    assert Shard.parse(' 3/4 ') == Shard(3, 4)
    for bad in ('4/4', '1', 'a/b', '-1/2', '0/0'):
        with pytest.raises(ValueError, match=r'is no shard|need 0 <= I < K'):
            Shard.parse(bad)
    patients = [f'P{i}' for i in range(400)]
    shards = [Shard(i, 4) for i in range(4)]
    owners = [[s.index for s in shards if s.holds('C', p)] for p in patients]
    # every patient in exactly one shard, shards of similar size
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(o == [i] for o in owners) for i in range(4)]
    assert min(sizes) > 60, sizes
    # the split is a contract with existing stores: a shard must find the
    # patients it did before, on any machine, with any later version
    assert [i for i in range(7) if Shard(i, 7).holds('C', 'P1')] == [2]
    cohort = [f'COHORT-{n:04d}' for n in range(1, 9)]
    assert [
        next(i for i in range(4) if Shard(i, 4).holds(COHORT, p)) for p in cohort
    ] == [3, 0, 1, 3, 0, 0, 3, 3]


@pytest.mark.slow
def test_four_shards_at_once_then_collection_step(
    cohort: LookalikeServer, serial_store: Path, tmp_path: Path
) -> None:
    serial = serial_store
    sharded = tmp_path / 'sharded'
    procs = [
        subprocess.Popen(
            tcia_add_argv(cohort, sharded, COHORT, '--shard', f'{i}/4'),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
    cid = collection_id(COHORT)
    # the shards built every patient and left the collection step alone
    repos = sharded / cid / 'repos'
    assert len([r for r in repos.iterdir() if r.name.startswith('COHORT-')]) == 8
    assert not (repos / 'collection').exists()
    assert (sharded / cid / 'archives').is_dir()
    # the plain run finds the patients done and does the collection step
    out = run_ok(tcia_add_argv(cohort, sharded, COHORT), tmp_path)
    assert '"status": "ok"' in out
    assert '1 file(s) added' not in out and '4 file(s) added' not in out
    assert not (sharded / cid / 'archives').exists()
    assert (sharded / cid / 'catalog' / 'index.html').exists()
    assert store_state(sharded, cid) == store_state(serial, cid)
    # a fresh clone (another user) gets every file
    truth = sorted(i.md5 for s in cohort.archive.iter_series() for i in s.instances)
    assert clone_and_get_all(sharded, cid, tmp_path) == truth


def test_job_argv_carries_every_option(tmp_path: Path) -> None:
    """Array tasks run the same call: the job line is generated from
    tcia-add's own parameter table, so every option set comes back when
    the line is parsed with that table (and the submitting ones do not)."""
    import argparse

    from datalad.interface.common_opts import eval_params

    from datalad_tcia.commands.add import TciaAdd
    from datalad_tcia.commands.slurm_options import NOT_INHERITED, job_argv

    params = {k: v for k, v in TciaAdd._params_.items() if k not in eval_params}
    values = {
        'collection': 'LIDC-IDRI',
        'patient': 'LIDC-IDRI-0001',
        'study': '1.2.3',
        'series': ['1.2.3.4', '1.2.3.5'],
        'manifest': 'cart.tcia',
        'modality': 'CT',
        'body_part': 'CHEST',
        'manufacturer': 'GE',
        'all_collections': True,
        'where': "PatientSex = 'F' AND Modality = 'CT'",
        'analysis_result': 'dicom_lidc_idri_nodules',
        'with_analysis_results': True,
        'store_url': 'https://example.org/store',
        'api_url': 'nlst',
        'datacite_url': 'http://127.0.0.1:1',
        'keep_archives': True,
        'jobs': 3,
        'index': 'idc',
        'source': 'idc',
        'no_idc': False,
        'update': True,
        'shard': '0/2',
        'slurm': 2,
        'sbatch_args': ['--time=1:00:00'],
        'path': 'somewhere',
    }
    # a new option must be added here (or to NOT_INHERITED) to pass
    assert set(params) - NOT_INHERITED - {'store'} <= set(values)
    argv = job_argv('tcia-add', params, values, tmp_path)
    assert argv[:2] == ['datalad', 'tcia-add']
    parser = argparse.ArgumentParser()
    for name, param in params.items():
        if name not in NOT_INHERITED:
            parser.add_argument(
                *param.cmd_args,
                dest=name,
                **{
                    k: v
                    for k, v in param.cmd_kwargs.items()
                    if k not in ('doc', 'dest')
                },
            )
    back = vars(parser.parse_args(argv[2:]))
    assert back['store'] == str(tmp_path.absolute())
    assert back['manifest'] == str(Path('cart.tcia').absolute())
    for name, value in values.items():
        if name in NOT_INHERITED or name in ('manifest',):
            continue
        expected = [str(v) for v in value] if isinstance(value, list) else value
        if not isinstance(value, bool | list):
            expected = str(value)
        assert back[name] == expected, name
    assert '--shard' not in argv and '--slurm' not in argv


def test_update_slurm_jobs_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tcia-add --update --slurm K`` submits jobs that update: each task
    runs --update with its shard, the collection step --update too."""
    from datalad.api import tcia_add

    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'sbatch').write_text(
        f'#!/bin/sh\necho "$@" >> {tmp_path}/sbatch.log\necho 4242\n'
    )
    (bindir / 'sbatch').chmod(0o755)
    monkeypatch.setenv('PATH', f'{bindir}:{os.environ["PATH"]}')
    store = tmp_path / 'store'
    res = tcia_add(
        store=str(store),
        update=True,
        slurm=3,
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert [r['status'] for r in res] == ['ok'], res
    jobdir = next((store / 'slurm').iterdir())
    array = (jobdir / 'array.sh').read_text()
    final = (jobdir / 'collection.sh').read_text()
    assert ' --update' in array and '--shard "$SLURM_ARRAY_TASK_ID/3"' in array
    assert ' --update' in final and '--shard' not in final
    assert (tmp_path / 'sbatch.log').read_text().count('--array=0-2') == 1
