"""``tcia-add --shard I/K``: shards of one collection worked at once, then
the collection step; the same result as one process doing everything."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from datalad_tcia.hpc import Shard
from datalad_tcia.lookalike import LookalikeServer
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
        with pytest.raises(ValueError, match='I'):
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


def test_job_argv_carries_the_options(tmp_path: Path) -> None:
    """Array tasks run the same selection with the same service options:
    planned from the IDC index, without IDC sources, archives kept."""
    from datalad_tcia.commands.hpc import job_argv

    argv = job_argv(
        tmp_path,
        {
            'collection': 'LIDC-IDRI',
            'manifest': 'cart.tcia',
            'index': 'idc',
            'no_idc': True,
            'keep_archives': True,
            'jobs': 2,
        },
    )
    assert argv[:4] == ['datalad', 'tcia-add', '--store', str(tmp_path)]
    text = ' '.join(argv)
    assert '--collection LIDC-IDRI' in text
    assert f'--manifest {Path("cart.tcia").absolute()}' in text
    assert '--index idc' in text
    assert '--no-idc' in text and '--keep-archives' in text and '-J 2' in text
    assert '--no-idc' not in job_argv(tmp_path, {'collection': 'X', 'no_idc': False})
