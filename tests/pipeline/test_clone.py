"""``pipeline/clone.py``: the collection deposit cloned where the user
asked; a failed clone leaves nothing there."""

from __future__ import annotations

from pathlib import Path

from datalad_tcia.export import clone_url
from datalad_tcia.pipeline import RunSettings, clone_collection
from datalad_tcia.store import StoreLayout
from tests.helpers import run_ok

from .conftest import PHI


def test_clone_of_the_collection(built: RunSettings, tmp_path: Path) -> None:
    layout = StoreLayout(built.store, PHI)
    url = clone_url(built.base_url, layout.collection_export.relpath)
    target = tmp_path / 'mine'
    out = clone_collection(url, target)
    assert out.status == 'ok', out.message
    assert 'datalad get -n' in out.message
    head = run_ok(['git', 'rev-parse', 'HEAD'], target).strip()
    assert head == run_ok(['git', 'rev-parse', 'HEAD'], layout.collection_repo).strip()
    assert (target / '.gitmodules').read_text() == (
        layout.collection_repo / '.gitmodules'
    ).read_text()
    assert clone_collection(url, target).status == 'notneeded'


def test_a_failed_clone_leaves_nothing(built: RunSettings, tmp_path: Path) -> None:
    target = tmp_path / 'nothing'
    url = f'{built.base_url}/no-such-collection/collection.git'
    out = clone_collection(url, target)
    assert out.status == 'error'
    assert out.message.startswith(f'cloning {url} failed')
    assert 'run again' in out.message
    assert not target.exists()
