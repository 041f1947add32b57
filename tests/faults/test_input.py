"""Hostile and impossible input through ``tcia-add``: malformed manifests,
a store that is a file, a read-only store, a nearly full disk.

The store file systems are real: small ``tmpfs`` mounts (the suite runs as
root in CI). Without the right to mount, those scenarios are skipped; the
simulated full disk of ``tests/commands/test_download.py`` still runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from tests.helpers import snapshot

from .harness import (
    Row,
    partial_files,
    rerun,
    tcia_add,
    verify,
)

pytestmark = pytest.mark.slow

PHI = 'Pseudo-PHI-DICOM-Data'


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(['mount', *args], capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path``; skip the test where none can be had."""
    path.mkdir(parents=True, exist_ok=True)
    proc = _mount('-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path))
    if proc.returncode:
        pytest.skip(f'cannot mount a tmpfs here: {proc.stderr.strip()}')
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', str(path)], check=False)


MANIFEST_HEADER = (
    'downloadServerUrl=https://nbia.cancerimagingarchive.net/nbia-download/'
    'servlet/DownloadServlet\nincludeAnnotation=true\nnoOfrRetry=4\n'
    'databasketId=manifest-1.tcia\nmanifestVersion=3.0\nListOfSeriesToDownload=\n'
)


def test_malformed_manifests(
    tcia: LookalikeServer, tmp_path: Path, fast_retries
) -> None:
    """Each malformed manifest is refused with its file and line; nothing
    is downloaded or written; the corrected manifest completes."""
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    uids = [s.uid for p in coll.patients for st in p.studies for s in st.series]
    bad = {
        'bad-uid.tcia': (MANIFEST_HEADER + f'{uids[0]}\n1.2.x4\n', 'line 8'),
        'json.tcia': ('[{"SeriesInstanceUID": "1.2.3"}]\n', 'line 1'),
        'binary.tcia': (b'PK\x03\x04\xff\xfe\x00binary', 'not a text file'),
        'no-list.tcia': ('downloadServerUrl=x\nmanifestVersion=3.0\n', 'ListOfSeries'),
        'long-uid.tcia': (MANIFEST_HEADER + '1.2.' + '3' * 70 + '\n', 'at most 64'),
        'unknown-uid.tcia': (MANIFEST_HEADER + f'{uids[0]}\n1.2.3.4.5\n', '1.2.3.4.5'),
    }
    row = Row('input', 'malformed manifests (6 kinds)', len(bad))
    store = tmp_path / 'store'
    store.mkdir()
    (store / 'keep.txt').write_text('earlier work')
    before = snapshot(store)
    for name, (text, named) in bad.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        run = row.add(tcia_add(tcia, store, '--manifest', str(path), cwd=tmp_path))
        assert run.clear_error(), run.stdout + run.stderr
        assert named in run.stdout, run.stdout
        assert snapshot(store) == before
    assert tcia.requests('getImage') == []
    good = tmp_path / 'good.tcia'
    good.write_text(MANIFEST_HEADER + '\n'.join(uids) + '\n')
    run = row.add(tcia_add(tcia, store, '--manifest', str(good), cwd=tmp_path))
    assert run.complete(), run.stdout + run.stderr
    verify(row, tcia, store, PHI, tmp_path)


def test_store_is_a_file(tcia: LookalikeServer, tmp_path: Path, fast_retries) -> None:
    row = Row('input', '--store pointing at a file', 1)
    store = tmp_path / 'store'
    store.write_text('not a directory')
    run = row.add(tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path))
    assert run.clear_error(), run.stdout + run.stderr
    assert str(store) in run.failures[0]['message']
    assert store.read_text() == 'not a directory'
    assert tcia.requests('getImage') == []
    store.unlink()
    rerun(row, tcia, store, PHI, tmp_path)
    verify(row, tcia, store, PHI, tmp_path)


def test_read_only_store(tcia: LookalikeServer, tmp_path: Path, fast_retries) -> None:
    """A store that cannot be written (a read-only mount): a clear error,
    nothing changed; writable again, the run completes."""
    row = Row('input', 'a read-only store', 1)
    # git-annex keeps annex.diskreserve (100 MB) free: a smaller store is full
    with tmpfs(tmp_path / 'mnt', '256m') as mnt:
        store = mnt / 'store'
        store.mkdir()
        (store / 'keep.txt').write_text('earlier work')
        assert _mount('-o', 'remount,ro', str(mnt)).returncode == 0
        run = row.add(tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path))
        assert run.clear_error(), run.stdout + run.stderr
        assert 'cannot write to the store' in run.stdout
        assert tcia.requests('getImage') == []
        assert _mount('-o', 'remount,rw', str(mnt)).returncode == 0
        assert sorted(p.name for p in store.iterdir()) == ['keep.txt']
        rerun(row, tcia, store, PHI, tmp_path)
        verify(row, tcia, store, PHI, tmp_path)


@pytest.mark.parametrize('size', ['48k', '400k'])
def test_nearly_full_disk(
    tcia: LookalikeServer, tmp_path: Path, size: str, fast_retries
) -> None:
    """The store's file system fills up (48 KiB: during the downloads;
    400 KiB: while the datasets are built). Clear errors naming the full
    disk, nothing partial under a final name; with room, a re-run
    completes."""
    row = Row('input', f'nearly full disk ({size} tmpfs)', 1)
    with tmpfs(tmp_path / 'mnt', size) as mnt:
        store = mnt / 'store'
        run = row.add(tcia_add(tcia, store, '--collection', PHI, cwd=tmp_path))
        assert run.clear_error(), run.stdout + run.stderr
        for r in run.failures:
            if r.get('type') != 'summary':
                assert 'No space left on device' in r['message'], r['message']
            assert 'again' in r['message']
        assert partial_files(store) == []
        assert _mount('-o', 'remount,size=256m', str(mnt)).returncode == 0
        rerun(row, tcia, store, PHI, tmp_path)
        verify(row, tcia, store, PHI, tmp_path)
