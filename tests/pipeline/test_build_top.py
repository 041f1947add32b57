"""``pipeline/build_top.py``: the store's top-level dataset holds every
published collection dataset at its collection id, says what it holds,
names each new state a version, and changes nothing when nothing moved."""

from __future__ import annotations

import json

from datalad_tcia.dataset.top import LISTING, published_head
from datalad_tcia.dataset.versions import gitlinks
from datalad_tcia.export import export_dataset
from datalad_tcia.pipeline import RunSettings, build_top
from datalad_tcia.pipeline.make_version import make_version
from datalad_tcia.store import StoreLayout, TopLayout
from tests.helpers import run_ok

from .conftest import PHI, RT, acquire, build


def test_every_collection_in_one_dataset(acquired: RunSettings) -> None:
    store = acquired.store
    top = TopLayout(store)
    # no collection published yet: nothing to hold
    assert build_top(store, acquired.base_url).status == 'notneeded'
    assert not top.export.bare.exists()
    build(acquired, PHI)
    acquire(acquired, RT)
    build(acquired, RT)
    out = build_top(store, acquired.base_url)
    assert out.status == 'ok', out.message
    assert out.version and out.collections == 2  # noqa: PLR2004
    assert out.url == f'{acquired.base_url}/tcia.git'
    heads = {
        StoreLayout(store, c).cid: published_head(StoreLayout(store, c))
        for c in (PHI, RT)
    }
    assert gitlinks(top.repo) == heads
    modules = run_ok(
        ['git', 'config', '-f', '.gitmodules', '--get-regexp', 'url'], top.repo
    )
    assert f'{acquired.base_url}/pseudo_phi_dicom_data/collection.git' in modules
    listing = json.loads(run_ok(['git', 'show', f'HEAD:{LISTING}'], top.repo))
    phi = next(e for e in listing if e['collection'] == PHI)
    assert phi['doi'] == '10.7937/s17z-r072'
    assert phi['holdings']['patients'] == len(
        gitlinks(StoreLayout(store, PHI).collection_repo)
    )
    assert phi['holdings']['files'] > 0 and phi['license']
    readme = run_ok(['git', 'show', 'HEAD:README.md'], top.repo)
    assert 'pseudo_phi_dicom_data' in readme and 'lookalike_rt' in readme
    cff = run_ok(['git', 'show', 'HEAD:CITATION.cff'], top.repo)
    assert 'doi: "10.7937/s17z-r072"' in cff
    assert (top.export.bare / 'info' / 'refs').exists()
    assert top.export.refs.exists()
    # nothing moved: nothing read, nothing written
    refs = top.export.refs.stat().st_mtime_ns
    again = build_top(store, acquired.base_url)
    assert again.status == 'notneeded' and again.version is None
    assert top.export.refs.stat().st_mtime_ns == refs
    assert run_ok(['git', 'tag', '--list'], top.repo).split() == [out.version]


def test_a_moved_collection_is_a_new_version(built: RunSettings) -> None:
    store = built.store
    first = build_top(store, built.base_url)
    layout = StoreLayout(store, PHI)
    repo = layout.collection_repo
    # a new state of the collection, named and published (as a run does)
    run_ok(['git', 'commit', '--allow-empty', '-q', '-m', 'change'], repo)
    name = make_version(layout)
    assert export_dataset(repo, layout.collection_export).status == 'ok'
    # not yet registered: the top-level dataset still holds the old state
    top = TopLayout(store)
    assert gitlinks(top.repo)[layout.cid] != published_head(layout)
    out = build_top(store, built.base_url)
    assert out.status == 'ok' and out.version and out.version != first.version
    assert gitlinks(top.repo)[layout.cid] == published_head(layout)
    tags = ['git', 'tag', '-l', '--format=%(contents)', out.version]
    message = run_ok(tags, top.repo)
    assert f'- {layout.cid}: {name}' in message
    # a run killed after the commit, before the tag: the next run tags
    run_ok(['git', 'tag', '-d', out.version], top.repo)
    assert build_top(store, built.base_url).version == out.version
