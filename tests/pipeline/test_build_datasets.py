"""``pipeline/build_datasets.py``: every patient of a collection built
(each under its own lock), then the collection superdataset; a patient
another process holds is skipped, and the collection waits for it."""

from __future__ import annotations

from dataclasses import replace

from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import (
    CollectionOutcome,
    PatientOutcome,
    RunSettings,
    build_datasets,
)
from datalad_tcia.store import StoreLayout, StoreLock
from tests.helpers import run_ok

from .conftest import PHI


def test_patients_then_the_collection(
    tcia: LookalikeServer, acquired: RunSettings
) -> None:
    out = list(build_datasets(replace(acquired, jobs=2), PHI))
    patients = [o for o in out if isinstance(o, PatientOutcome)]
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    assert sorted(o.patient_id for o in patients) == sorted(
        p.patient_id for p in coll.patients
    )
    assert {o.status for o in patients} == {'ok'}
    assert isinstance(out[-1], CollectionOutcome) and out[-1].status == 'ok'
    assert out[-1].version and out[-1].version.startswith('tcia-')
    layout = StoreLayout(acquired.store, PHI)
    paths = run_ok(
        ['git', 'config', '-f', '.gitmodules', '--get-regexp', r'\.path$'],
        layout.collection_repo,
    ).split()[1::2]
    assert sorted(paths) == sorted(o.slug for o in patients)
    again = list(build_datasets(acquired, PHI))
    assert {o.status for o in again} == {'notneeded'}


def test_a_patient_held_elsewhere_keeps_the_collection_unbuilt(
    acquired: RunSettings,
) -> None:
    layout = StoreLayout(acquired.store, PHI)
    pids = sorted({s.patient_id for s in _series(acquired)})
    with StoreLock(layout.patient_lock(pids[0])):
        out = list(build_datasets(acquired, PHI))
    by_id = {o.patient_id: o for o in out if isinstance(o, PatientOutcome)}
    assert by_id[pids[0]].status == 'impossible'
    assert {by_id[p].status for p in pids[1:]} == {'ok'}
    # the superdataset is deposited with the patients there are, and says so
    coll = [o for o in out if isinstance(o, CollectionOutcome)]
    assert [o.status for o in coll] == ['ok']
    assert 'without the patients that failed' in coll[0].message
    gitmodules = StoreLayout(acquired.store, PHI).collection_repo / '.gitmodules'
    assert (
        len(
            run_ok(
                ['git', 'config', '-f', str(gitmodules), '--get-regexp', 'path'],
                acquired.store,
            ).splitlines()
        )
        == len(pids) - 1
    )
    # the next run builds the one left out, and a new version has everyone
    done = list(build_datasets(acquired, PHI))
    by_id = {o.patient_id: o.status for o in done if isinstance(o, PatientOutcome)}
    assert by_id[pids[0]] == 'ok'
    last = [o for o in done if isinstance(o, CollectionOutcome)]
    assert [o.status for o in last] == ['ok']
    assert last[0].version and last[0].version != coll[0].version
    assert 'failed' not in last[0].message


def test_nothing_recorded_is_a_clear_problem(settings: RunSettings) -> None:
    out = list(build_datasets(settings, PHI))
    assert [(o.stage, o.status) for o in out] == [('patient', 'impossible')]
    assert 'run "datalad tcia-download" first' in out[0].message


def _series(settings: RunSettings) -> list:
    from .conftest import planned

    return planned(settings, PHI)
