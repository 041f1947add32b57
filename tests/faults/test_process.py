"""Process faults: SIGKILL of a whole ``tcia-add`` run at every stage, and
two runs on one store at once.

After every kill: nothing under a final name is partial, the last good
deposit still clones, and a re-run completes without downloading again
what was done; finally a fresh clone gets every file right.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD

from .harness import (
    Row,
    Run,
    add_args,
    datalad,
    deposit_refs,
    export_clones,
    partial_files,
    record,
    rerun,
    tcia_add,
    verify,
)

pytestmark = pytest.mark.slow

PHI = 'Pseudo-PHI-DICOM-Data'
CID = collection_id(PHI)


def _series(srv: LookalikeServer) -> list[str]:
    coll = srv.archive.collection(PHI)
    assert coll is not None
    return [s.uid for p in coll.patients for st in p.studies for s in st.series]


def _finish(
    row: Row, srv: LookalikeServer, store: Path, tmp: Path, *, done_before: set[str]
) -> None:
    """Re-run without faults; it completes, downloads nothing done before,
    and a fresh clone gets every file."""
    rerun(row, srv, store, PHI, tmp)
    again = {r.series_uid for r in srv.requests('getImage')}
    assert not again & done_before, 'work finished before the kill was redone'
    verify(row, srv, store, PHI, tmp)


def _done_series(store: Path) -> set[str]:
    meta = store / CID / 'metadata'
    return (
        {p.name.split('_')[0] for p in meta.glob('*_metadata_archive.json')}
        if meta.exists()
        else set()
    )


def _after_kill(row: Row, run: Run, store: Path, point: str) -> None:
    assert run.killed, run.stdout + run.stderr
    assert f'killed at {point}' in run.stderr
    bad = partial_files(store)
    row.partial += len(bad)
    assert bad == []


def test_kill_during_download(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    row = Row('process', 'SIGKILL during a download', 1)
    store = tmp_path / 'store'
    uids = _series(tcia)
    # the first series arrives at once, the others trickle in
    for uid in uids[1:]:
        tcia.faults.add('slow', 'getImage', series_uid=uid, times=None, delay=1.0)
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('download', 2))
    )
    _after_kill(row, run, store, 'download')
    done = _done_series(store)
    assert done < set(uids), 'the kill came after every download'
    _finish(row, tcia, store, tmp_path, done_before=done)


@pytest.mark.parametrize('nth', [1, 3])
def test_kill_during_metadata_deposit(
    tcia: LookalikeServer, tmp_path: Path, nth: int, fast_retries
) -> None:
    row = Row('process', f'SIGKILL during metadata deposit (write {nth})', 1)
    store = tmp_path / 'store'
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('metadata', nth))
    )
    _after_kill(row, run, store, 'metadata')
    _finish(row, tcia, store, tmp_path, done_before=_done_series(store))


def test_kill_during_dataset_creation(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Killed after ``datalad create``, before the special remotes: the
    next run must not take the unfinished dataset for a finished one."""
    row = Row('process', 'SIGKILL during dataset creation', 1)
    store = tmp_path / 'store'
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('create', 1))
    )
    _after_kill(row, run, store, 'create')
    assert not [p for p in (store / CID / 'repos').iterdir() if p.name[0] != '.']
    _finish(row, tcia, store, tmp_path, done_before=_done_series(store))
    assert not list((store / CID / 'repos').glob('.*'))


@pytest.mark.parametrize('nth', [1, 2])
def test_kill_during_dataset_assembly(
    tcia: LookalikeServer, tmp_path: Path, nth: int, fast_retries
) -> None:
    row = Row('process', f'SIGKILL during dataset assembly (dataset {nth})', 1)
    store = tmp_path / 'store'
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('assembly', nth))
    )
    _after_kill(row, run, store, 'assembly')
    done = _done_series(store)
    assert len(done) == len(_series(tcia))
    _finish(row, tcia, store, tmp_path, done_before=done)


@pytest.mark.parametrize('point', ['push', 'publish'])
def test_kill_during_deposit_push(
    tcia: LookalikeServer, tmp_path: Path, point: str, fast_retries
) -> None:
    """An update of a deposit is killed; the last good deposit clones."""
    row = Row('process', f'SIGKILL during the deposit {point} of an update', 1)
    store = tmp_path / 'store'
    first = _series(tcia)[0]
    run = row.add(tcia_add(tcia, store, '--series', first, cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    patient = store / CID / 'datasets' / 'Pseudo-PHI-001'
    good = deposit_refs(patient)['refs/heads/main']
    assert export_clones(patient, tmp_path / 'probe') == good
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=(point, 1))
    )
    _after_kill(row, run, store, point)
    # the deposit is the last good one or the new one, and it clones
    head = export_clones(patient, tmp_path / 'probe')
    assert head is not None, 'the deposit no longer clones'
    new = subprocess.run(
        ['git', 'rev-parse', 'HEAD'],
        cwd=store / CID / 'repos' / 'Pseudo-PHI-001',
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert head in (good, new)
    assert export_clones(store / CID / 'collection', tmp_path / 'probe')
    _finish(row, tcia, store, tmp_path, done_before=_done_series(store))


def test_kill_between_commit_and_version(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """An update is killed after the collection dataset's new commit and
    before its version tag: the last version still clones; the next run
    names the new state as the next version."""
    row = Row('process', 'SIGKILL between an update and its version tag', 1)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--series', _series(tcia)[0], cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    superds = store / CID / 'repos' / 'collection'
    first = _git(superds, 'tag', '-l', 'tcia-*').split()
    assert len(first) == 1
    good = deposit_refs(store / CID / 'collection')['refs/heads/main']
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('version', 1))
    )
    _after_kill(row, run, store, 'version')
    assert _git(superds, 'tag', '-l', 'tcia-*').split() == first
    assert export_clones(store / CID / 'collection', tmp_path / 'probe') == good
    _finish(row, tcia, store, tmp_path, done_before=_done_series(store))
    tags = _git(superds, 'tag', '-l', 'tcia-*').split()
    assert tags == [*first, f'{first[0]}.2']
    assert _git(superds, 'rev-parse', f'{tags[-1]}^{{commit}}') == _git(
        superds, 'rev-parse', 'HEAD'
    )


def test_kill_while_the_top_level_dataset_is_written(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """A run is killed after the store's top-level dataset registered the
    collection's new state, before its version and deposit: the last
    top-level deposit still clones; the next run names and deposits the
    new state."""
    row = Row('process', 'SIGKILL while the top-level dataset is written', 1)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--series', _series(tcia)[0], cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    top = store / '.tcia' / 'repo'
    first = _git(top, 'tag', '-l', 'tcia-*').split()
    assert len(first) == 1
    good = deposit_refs(store / 'tcia')['refs/heads/main']
    run = row.add(
        tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path, kill=('top', 1))
    )
    _after_kill(row, run, store, 'top')
    assert _git(top, 'tag', '-l', 'tcia-*').split() == first
    assert export_clones(store / 'tcia', tmp_path / 'probe') == good
    _finish(row, tcia, store, tmp_path, done_before=_done_series(store))
    tags = _git(top, 'tag', '-l', 'tcia-*').split()
    assert tags == [*first, f'{first[0]}.2']
    head = _git(top, 'rev-parse', 'HEAD')
    assert _git(top, 'rev-parse', f'{tags[-1]}^{{commit}}') == head
    assert export_clones(store / 'tcia', tmp_path / 'probe') == head


def test_kill_during_a_revision(tmp_path: Path, fast_retries) -> None:
    """NBIA revised a series; the update is killed while downloading it:
    the deposit keeps the previous version, the last version clones, and
    the next run makes the new version."""
    row = Row('process', 'SIGKILL during the download of a revised series', 1)
    store = tmp_path / 'store'
    with LookalikeServer() as srv:
        run = row.add(tcia_add(srv, store, '--collection', PHI, cwd=tmp_path))
        assert run.complete(), run.stdout + run.stderr
        superds = store / CID / 'repos' / 'collection'
        first = _git(superds, 'tag', '-l', 'tcia-*').split()
        good = deposit_refs(store / CID / 'collection')['refs/heads/main']
        coll = srv.archive.collection(PHI)
        assert coll is not None
        uid = coll.patients[0].studies[0].series[0].uid
        srv.archive.revise(uid, change=1, remove=1)
        run = row.add(
            tcia_add(
                srv, store, '--collection', PHI, cwd=tmp_path, kill=('download', 1)
            )
        )
        _after_kill(row, run, store, 'download')
        assert not (store / CID / 'metadata' / 'superseded').exists()
        assert export_clones(store / CID / 'collection', tmp_path / 'probe') == good
        _finish(row, srv, store, tmp_path, done_before=_done_series(store) - {uid})
        assert _git(superds, 'tag', '-l', 'tcia-*').split() == [
            *first,
            f'{first[0]}.2',
        ]
        assert (store / CID / 'metadata' / 'superseded').is_dir()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ['git', *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_kill_during_header_acquisition(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Series from IDC (--index idc --source idc): killed while headers
    are read; nothing partial, and the re-run reads only the series not
    deposited before the kill."""
    import os

    from tcia_lookalike.idc import S3Lookalike
    from tcia_lookalike.idc_index import series_uuid, write_index

    row = Row('process', 'SIGKILL during header acquisition from IDC', 1)
    store = tmp_path / 'store'
    # not idc-open-data: moto's servers in one process share their buckets,
    # and the IDC tests' session server alters files there
    bucket = 'idc-open-data-two'
    index = write_index(
        tcia.archive, tmp_path / 'idx' / 'idc_index.parquet', bucket=bucket
    )
    with S3Lookalike() as s3:
        s3.fill(tcia.archive, bucket=bucket)
        env = dict(
            os.environ,
            DATALAD_TCIA_IDC__INDEX=str(index),
            DATALAD_TCIA_IDC__ENDPOINT=s3.endpoint,
        )
        args = ('--collection', PHI, '--index', 'idc', '--source', 'idc', '-J', '2')
        run = row.add(
            tcia_add(tcia, store, *args, cwd=tmp_path, kill=('header', 6), env=env)
        )
        _after_kill(row, run, store, 'header')
        done = _done_series(store)
        assert done < set(_series(tcia)), 'the kill came after every series'
        s3.reset()
        again = row.add(tcia_add(tcia, store, *args, cwd=tmp_path, env=env))
        assert again.complete(), again.stdout + again.stderr
        read = {r.path.split('/')[2] for r in s3.log if r.path.count('/') >= 3}
        series = {s.uid: s for s in tcia.archive.iter_series()}
        assert not read & {series_uuid(series[uid]) for uid in done}
        assert not [r for r in tcia.requests() if r.endpoint not in ('dois',)]
        verify(row, tcia, store, PHI, tmp_path)


def test_two_runs_at_once(tcia: LookalikeServer, tmp_path: Path, fast_retries) -> None:
    """Two ``tcia-add`` on one store: each completes or refuses clearly;
    the store stays consistent; a later run completes."""
    row = Row('process', 'two tcia-add runs on one store at once', 1)
    store = tmp_path / 'store'
    tcia.faults.add('slow', 'getImage', times=2, delay=0.2)
    procs = [
        subprocess.Popen(
            [DATALAD, *add_args(tcia, store, '--collection', PHI)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        runs.append(row.add(Run.parse(proc.returncode, out, err)))
    assert set(row.runs) <= {'complete', 'error'}, [r.stdout for r in runs]
    for run in runs:
        if not run.complete():
            assert any(
                'another datalad-tcia process' in str(r.get('message'))
                for r in run.failures
            ), run.stdout
    assert 'complete' in row.runs or all(
        'another datalad-tcia process' in r.stdout for r in runs
    )
    row.partial += len(partial_files(store))
    assert row.partial == 0
    _finish(row, tcia, store, tmp_path, done_before=set())


def test_kill_during_deposit_of_local_archives(tmp_path: Path) -> None:
    """``tcia-deposit-metadata`` of a tarball on disk, killed while writing
    metadata: the re-run deposits exactly what an uninterrupted run does."""
    from tests.helpers import visit_tar

    row = Row('process', 'SIGKILL during tcia-deposit-metadata of a tarball', 1)
    tar = tmp_path / 'visit.tar'
    members = visit_tar(tar)
    args = ['-f', 'json', 'tcia-deposit-metadata', '--collection', 'ICF-Study']

    def deposit(store: Path, kill: tuple[str, int] | None = None) -> Run:
        return row.add(
            datalad([*args, '--store', str(store), str(tar)], cwd=tmp_path, kill=kill)
        )

    reference = tmp_path / 'reference'
    assert deposit(reference).returncode == 0
    row.runs.pop()  # the reference run is not part of the scenario
    store = tmp_path / 'store'
    _after_kill(row, deposit(store, ('metadata', 2)), store, 'metadata')
    run = deposit(store)
    assert run.complete(), run.stdout + run.stderr

    def records(root: Path) -> dict[str, object]:
        out: dict[str, object] = {}
        for path in sorted((root / 'icf_study' / 'metadata').glob('*.json')):
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                data.pop('downloaded', None)
            out[path.name] = data
        return out

    got, want = records(store), records(reference)
    assert got.keys() == want.keys()
    deposited = {
        r['path']
        for name, recs in got.items()
        if name.endswith('_dicoms.json')
        for r in recs  # type: ignore[attr-defined]
        if r['dicom']
    }
    row.lost = len(set(members) - deposited)
    assert row.lost == 0
    assert got == want
    row.partial = len(partial_files(store))
    assert row.partial == 0
    record(row)
