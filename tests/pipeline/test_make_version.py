"""``pipeline/make_version.py``: a new state of the collection dataset
named as a version (tag on it and on every patient's recorded commit);
the same state is not named twice."""

from __future__ import annotations

from datetime import date, datetime, timezone

from datalad_tcia.export import clone_url
from datalad_tcia.pipeline import RunSettings, delete_archives
from datalad_tcia.pipeline.make_version import (
    datasets_current,
    make_version,
    record_built,
)
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.git import git_line
from tests.helpers import run_ok

from .conftest import PHI


def test_a_version_once_per_state(built: RunSettings) -> None:
    layout = StoreLayout(built.store, PHI)
    repo = layout.collection_repo
    today = datetime.now(timezone.utc).date()
    first = run_ok(['git', 'tag', '--list', 'tcia-*'], repo).split()
    assert first == [f'tcia-{today.isoformat()}']
    # built states are already named: nothing to do
    assert make_version(layout) is None
    # the patients are tagged on the commits the collection records
    for line in run_ok(['git', 'ls-tree', 'HEAD'], repo).splitlines():
        meta, slug = line.split('\t')
        if meta.startswith('160000'):
            tagged = git_line(layout.repo(slug), 'rev-parse', f'{first[0]}^{{commit}}')
            assert tagged == meta.split()[2]
    # a new state of the superdataset: the day's second version
    run_ok(['git', 'commit', '--allow-empty', '-q', '-m', 'change'], repo)
    name = make_version(layout)
    assert name == f'tcia-{today.isoformat()}.2'
    message = git_line(repo, 'tag', '-l', '--format=%(contents:subject)', name)
    assert message == f'TCIA {PHI}: version {name}'
    assert date.fromisoformat(name[5:15]) == today


def test_datasets_current_follows_the_deposit(built: RunSettings) -> None:
    layout = StoreLayout(built.store, PHI)
    # archives wait for deletion: something is left to do
    assert not datasets_current(layout)
    url = clone_url(built.base_url, layout.collection_export.relpath)
    assert delete_archives(layout, url).status == 'ok'
    assert datasets_current(layout)
    # a new metadata record makes the datasets out of date ...
    some = next(iter(layout.metadata.glob('*_metadata_archive.json')))
    some.write_text(some.read_text().replace('"', '"', 1) + '\n')
    assert not datasets_current(layout)
    # ... until they are built from it
    record_built(layout, layout.metadata_fingerprint())
    assert datasets_current(layout)
