"""``store/``: where everything of a collection lives, the lock that lets
processes share a store, and writes that never leave half a file under a
final name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    atomic_write_json,
    collection_dirs,
    collection_id,
)


def test_paths_of_a_collection(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path, 'RIDER Lung CT')
    assert layout.cid == collection_id('RIDER Lung CT') == 'rider_lung_ct'
    root = tmp_path / 'rider_lung_ct'
    assert layout.root == root
    assert layout.archive('1.2') == root / 'archives' / '1.2.zip'
    assert (
        layout.archive_metadata('1.2')
        == root / 'metadata' / '1.2_metadata_archive.json'
    )
    assert (
        layout.dicoms_metadata('1.2') == root / 'metadata' / '1.2_metadata_dicoms.json'
    )
    assert layout.analysis_record == root / 'metadata' / 'analysis_result.json'
    assert layout.collection_export.bare == root / 'collection.git'
    assert layout.patient_export('P-1').relpath == 'rider_lung_ct/datasets/P-1'
    # a PatientID is no file name: its lock is named by a hash
    lock = layout.patient_lock('../../etc/passwd')
    assert lock.parent == root / 'locks' and '/' not in lock.name.removesuffix('.lock')
    # the collection folders of a store, not its other entries
    for name in ('rider_lung_ct', 'tcia.git', '.tcia', 'catalog', 'slurm'):
        (tmp_path / name).mkdir()
    assert [p.name for p in collection_dirs(tmp_path)] == ['rider_lung_ct']


def test_deposited_series_are_those_with_a_record(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path, 'C')
    atomic_write_json(layout.archive_metadata('1.2.3'), {'SeriesInstanceUID': '1.2.3'})
    atomic_write_json(layout.analysis_record, {})
    (layout.metadata / '.1.2.4_metadata_archive.json.123-ab.part').write_text('{')
    assert layout.recorded_series() == ['1.2.3']


def test_a_lock_is_one_process_s_and_dies_with_it(tmp_path: Path) -> None:
    path = tmp_path / 'c' / '.datalad-tcia.lock'
    holder = subprocess.Popen(
        [sys.executable, '-c',
         'import sys, time; from pathlib import Path; '
         'from datalad_tcia.store import StoreLock; '
         'l = StoreLock(Path(sys.argv[1])); l.acquire(); print("held", flush=True); '
         'time.sleep(60)', str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == 'held'
        with pytest.raises(StoreLocked) as e:
            StoreLock(path).acquire()
        assert f'pid {holder.pid}' in str(e.value)
    finally:
        holder.kill()
        holder.wait()
    # killed: the kernel released it
    with StoreLock(path, wait=5):
        assert path.read_text() == str(os.getpid())


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / 'r.json'
    atomic_write_json(target, {'a': 1})
    with pytest.raises(TypeError):
        atomic_write_json(target, {'a': object()})
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ['r.json']
