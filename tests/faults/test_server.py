"""Server faults through ``tcia-add``: what the look-alike can do wrong.

Each scenario injects faults into the look-alike, runs ``tcia-add`` of a
collection, and checks the outcome: a run that absorbs the faults by
retrying ends complete; one that cannot ends with clear error records,
and the next run (faults off) completes. Every scenario ends with a fresh
clone that gets every file with the server's MD5.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.zipstream import member_names

from .harness import (
    Row,
    partial_files,
    rerun,
    tcia_add,
    verify,
)

pytestmark = pytest.mark.slow

RT = 'LOOKALIKE-RT'
PHI = 'Pseudo-PHI-DICOM-Data'


def _uids(srv: LookalikeServer) -> list[str]:
    coll = srv.archive.collection(RT)
    assert coll is not None
    return [s.uid for p in coll.patients for st in p.studies for s in st.series]


def test_transient_faults_are_retried(
    tcia: LookalikeServer, tmp_path: Path, datalad_cfg, fast_retries
) -> None:
    """500, 429 + Retry-After, reset, truncated stream, unreadable ZIP,
    stall (the timeout fires), non-JSON and empty-then-retried bodies: one
    run absorbs them all."""
    datalad_cfg.set('datalad.tcia.timeout', '2', scope='global')
    uids = _uids(tcia)
    rules = [
        tcia.faults.add('status', 'getImage', series_uid=uids[0], status=500),
        tcia.faults.add(
            'status', 'getImage', series_uid=uids[1], status=429, retry_after=1
        ),
        tcia.faults.add('reset', 'getImage', series_uid=uids[2]),
        tcia.faults.add('truncate', 'getImage', series_uid=uids[3]),
        tcia.faults.add('truncate', 'getImage', series_uid=uids[4], clean=True),
        tcia.faults.add('stall', 'getImage', series_uid=uids[0], delay=6),
        tcia.faults.add('nonjson', 'getSeries'),
        tcia.faults.add('reset', 'getSeries'),
    ]
    row = Row('server', 'transient: 500, 429, reset, truncated, stall, non-JSON', 8)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--collection', RT, cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    assert all(r.hits == 1 for r in rules), [(r.kind, r.hits) for r in rules]
    verify(row, tcia, store, RT, tmp_path)


def test_bad_archives_are_retried(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Corrupt ZIP, a member missing, a member extra, a wrong MD5 in
    md5hashes.csv: each archive is refused and fetched again."""
    uids = _uids(tcia)
    rules = [
        tcia.faults.add('corrupt', 'getImage', series_uid=uids[0]),
        tcia.faults.add('drop_member', 'getImage', series_uid=uids[1]),
        tcia.faults.add('drop_member', 'getImage', series_uid=uids[2], keep_md5=True),
        tcia.faults.add('extra_member', 'getImage', series_uid=uids[3]),
        tcia.faults.add('bad_md5', 'getImage', series_uid=uids[4]),
    ]
    row = Row('server', 'bad archives: corrupt, missing/extra member, wrong MD5', 5)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--collection', RT, cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    assert all(r.hits == 1 for r in rules)
    for uid in uids:
        assert len(tcia.requests('getImage', series_uid=uid)) == 2
    verify(row, tcia, store, RT, tmp_path)


def test_storm_longer_than_the_retry_budget(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """500 on every getImage: bounded retries, clear errors, nothing kept,
    no dataset for what is missing; the next run completes."""
    tcia.faults.add('status', 'getImage', times=None, status=500)
    row = Row('server', '500 storm longer than the retry budget', 1)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--collection', RT, cwd=tmp_path))
    assert run.clear_error(), run.stdout + run.stderr
    errors = [r for r in run.failures if r['action'] == 'tcia_download']
    assert len(errors) == len(_uids(tcia))
    for r in errors:
        assert 'HTTP 500' in r['message']
        assert 'run the command again' in r['message']
    # bounded: max-attempts (4) per series, then a series-level retry at most
    assert len(tcia.requests('getImage')) <= 8 * len(_uids(tcia))
    assert partial_files(store) == []
    rerun(row, tcia, store, RT, tmp_path)
    verify(row, tcia, store, RT, tmp_path)


def test_hostile_members_are_refused(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Members named ``../x``, ``/etc/x`` or twice: the archive is refused,
    nothing is written outside the store; the next run completes."""
    coll = tcia.archive.collection(RT)
    assert coll is not None
    series = [s for p in coll.patients for st in p.studies for s in st.series]
    first = member_names(
        sorted(series[2].instances, key=lambda i: i.instance_number), True
    )[0]
    for s, name in zip(series, ['../x', '/etc/x', first], strict=False):
        tcia.faults.add(
            'extra_member',
            'getImage',
            series_uid=s.uid,
            times=None,
            members=[(name, b'hostile')],
        )
    row = Row('server', 'ZIP members ../x, /etc/x, duplicated', 3)
    store = tmp_path / 'store'
    run = row.add(tcia_add(tcia, store, '--collection', RT, cwd=tmp_path))
    assert run.clear_error(), run.stdout + run.stderr
    messages = ' '.join(str(r['message']) for r in run.failures)
    assert "'../x'" in messages
    assert "'/etc/x'" in messages
    assert not (tmp_path / 'x').exists()
    assert not (store / 'x').exists()
    assert not Path('/etc/x').exists()
    rerun(row, tcia, store, RT, tmp_path)
    verify(row, tcia, store, RT, tmp_path)


def test_empty_answer_and_datacite_down(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """An empty body where JSON is expected (NBIA's "no rows") names the
    collection as unknown; DataCite down leaves the catalog without its
    record and says to run again; the next run completes both."""
    row = Row('server', 'empty body for getSeries; DataCite down', 2)
    store = tmp_path / 'store'
    tcia.faults.add('empty', 'getSeries', times=None)
    run = row.add(tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path))
    assert run.clear_error(), run.stdout + run.stderr
    assert PHI in run.failures[0]['message']
    assert not store.exists()  # bad input changes nothing
    tcia.reset()
    tcia.faults.add('status', 'dois', times=None, status=500)
    run = tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path)
    catalog = next(r for r in run.results if r['action'] == 'tcia_catalog')
    # DataCite is not needed for the data: the run succeeds, and says what
    # is missing and what to do (counted as a clear error)
    assert run.returncode == 0
    assert 'DataCite could not be reached' in catalog['message']
    assert 'again' in catalog['message']
    row.runs.append('error')
    again = rerun(row, tcia, store, PHI, tmp_path)
    catalog = next(r for r in again.results if r['action'] == 'tcia_catalog')
    assert 'DataCite' not in catalog['message']
    assert tcia.requests('dois')
    verify(row, tcia, store, PHI, tmp_path)
