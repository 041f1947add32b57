"""``pipeline/clean_up.py``: the archives are deleted only once every
file has its sources and the collection deposit clones."""

from __future__ import annotations

from datalad_tcia.export import clone_url
from datalad_tcia.pipeline import RunSettings, delete_archives
from datalad_tcia.pipeline.clean_up import clone_problems
from datalad_tcia.store import StoreLayout, StoreLock

from .conftest import PHI, planned


def test_archives_deleted_once_verified(built: RunSettings) -> None:
    layout = StoreLayout(built.store, PHI)
    n = len(planned(built, PHI))
    assert len(layout.archive_files()) == n
    url = clone_url(built.base_url, layout.collection_export.relpath)
    assert clone_problems(url) == []
    with StoreLock(layout.lock):  # another run holds the collection
        held = delete_archives(layout, url)
    assert held.status == 'impossible' and held.message.startswith('archives kept')
    assert len(layout.archive_files()) == n
    out = delete_archives(layout, url)
    assert (out.status, out.deleted) == ('ok', n)
    assert layout.archive_files() == [] and not layout.archives.exists()
    assert delete_archives(layout, url).status == 'notneeded'


def test_archives_kept_when_the_deposit_does_not_clone(built: RunSettings) -> None:
    layout = StoreLayout(built.store, PHI)
    url = f'{built.base_url}/{layout.cid}/no-such.git'
    assert clone_problems(url)
    out = delete_archives(layout, url)
    assert out.status == 'error' and out.message.startswith('archives kept: ')
    assert len(layout.archive_files()) == len(planned(built, PHI))
