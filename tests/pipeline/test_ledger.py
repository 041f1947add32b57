"""``pipeline/ledger.py``: a patient built from its series records as they
are is done without reading them; a new or rewritten record, other
conditions, or a missing published repository make it built again."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import (
    PatientOutcome,
    RunSettings,
    acquire_all,
    build_datasets,
)
from datalad_tcia.pipeline.ledger import build_conditions, load_built
from datalad_tcia.store import StoreLayout

from .conftest import PHI, planned


def _garble(path: Path) -> None:
    """Make a record unreadable, keeping its size and modification time
    (its stamp): a run that reads it fails."""
    st = path.stat()
    path.write_bytes(b'x' * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _patients(out: list) -> dict[str, str]:
    return {o.patient_id: o.status for o in out if isinstance(o, PatientOutcome)}


def test_an_unchanged_patient_is_not_read(built: RunSettings) -> None:
    layout = StoreLayout(built.store, PHI)
    # gathered into one file by the collection step
    assert layout.built_index.is_file() and not list(layout.built.iterdir())
    records = load_built(layout)
    assert set(records) == {'Pseudo-PHI-001', 'Pseudo-PHI-002'}
    rec = records['Pseudo-PHI-001']
    assert rec.commit and rec.files and rec.summary.series == len(rec.stamps)
    stamps = layout.record_stamps()
    assert all(stamps[u] == st for u, st in rec.stamps.items())
    for uid in rec.stamps:
        _garble(layout.dicoms_metadata(uid))
        _garble(layout.archive_metadata(uid))
    out = list(build_datasets(built, PHI))
    assert {o.status for o in out} == {'notneeded'}, [o.message for o in out]
    assert _patients(out) == {
        'Pseudo-PHI-001': 'notneeded',
        'Pseudo-PHI-002': 'notneeded',
    }


def test_what_makes_a_patient_built_again(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)
    first = [s for s in series if s.patient_id == 'Pseudo-PHI-001']
    assert {o.status for o in acquire_all(settings, first[:1])} == {'ok'}
    out = list(build_datasets(settings, PHI))
    assert _patients(out) == {'Pseudo-PHI-001': 'ok'}
    # the rest of the collection: patient 1 has a new series (its first
    # series read again), patient 2 is new
    assert {o.status for o in acquire_all(settings, series)} <= {'ok', 'notneeded'}
    out = list(build_datasets(settings, PHI))
    assert _patients(out) == {'Pseudo-PHI-001': 'ok', 'Pseudo-PHI-002': 'ok'}
    layout = StoreLayout(settings.store, PHI)
    assert len(load_built(layout)['Pseudo-PHI-001'].stamps) == len(first)
    # other conditions: another layout
    out = list(build_datasets(replace(settings, template='{SeriesUID}/{member}'), PHI))
    assert set(_patients(out).values()) == {'ok'}
    conditions = load_built(layout)['Pseudo-PHI-002'].conditions
    assert conditions['template'] == '{SeriesUID}/{member}'
    assert (
        build_conditions('{SeriesUID}/{member}', {}, None)['git_files']
        != (conditions['git_files'])
    )
    # its published repository gone: built (and published) again
    bare = layout.patient_export('Pseudo-PHI-002').bare
    shutil.rmtree(bare)
    out = list(build_datasets(replace(settings, template='{SeriesUID}/{member}'), PHI))
    assert _patients(out) == {
        'Pseudo-PHI-001': 'notneeded',
        'Pseudo-PHI-002': 'ok',
    }
    assert (bare / 'info' / 'refs').exists()
