"""The top-level step: every published collection dataset of the store
registered in the store's top-level dataset (``<store>/tcia.git``), a
version named whenever one of them moved, and its export written.

It runs after the collection steps of a run (``tcia-add``,
``tcia-deposit-dataset``), under the top-level dataset's own lock, and
reads each collection from its published git repository only: a run that
finds every collection where the top-level dataset records it reads
nothing else and writes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from datalad_tcia.dataset import ensure_dataset, remove_stale_datasets
from datalad_tcia.dataset.collection import gitmodule_urls, update_superdataset
from datalad_tcia.dataset.top import (
    CollectionEntry,
    published_collection,
    published_head,
    top_files,
)
from datalad_tcia.dataset.versions import (
    changed_patients,
    gitlinks,
    next_version,
    tag_version,
    tagged_commit,
    version_tags,
)
from datalad_tcia.export import clone_url, export_dataset
from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    TopLayout,
    collection_dirs,
    temp_path_for,
)
from datalad_tcia.store.git import rev_parse

from .build_patient import BUILD_ERRORS, failure_message
from .outcomes import TopOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.build_top')

#: seconds to wait for the top-level dataset's lock (held by another
#: run's top-level step, which takes seconds)
TOP_LOCK_WAIT = 300.0


def build_top(store: Path, base_url: str) -> TopOutcome:
    """Register every collection dataset published in ``store`` in the
    top-level dataset, at the commit its published repository holds, and
    write the top-level dataset's export (``<store>/tcia.git``, and a
    ``datalad-annex::`` deposit beside it)."""
    top = TopLayout(store)
    url = clone_url(base_url, top.export.relpath)
    heads = {
        d.name: head
        for d in collection_dirs(store)
        if (head := published_head(StoreLayout(store, d.name)))
    }
    if not heads:
        return TopOutcome(
            'notneeded',
            'no collection dataset is published in the store yet',
            top.repo,
            url,
        )
    try:
        with StoreLock(top.lock, wait=TOP_LOCK_WAIT):
            return _update(top, base_url, heads, url)
    except StoreLocked as e:
        return TopOutcome('impossible', str(e), top.repo, url, exception=e)
    except BUILD_ERRORS as e:
        return TopOutcome(
            'error',
            failure_message('building the top-level dataset', e),
            top.repo,
            url,
            exception=e,
        )


def _update(
    top: TopLayout, base_url: str, heads: dict[str, str], url: str
) -> TopOutcome:
    path = top.repo
    for stale in remove_stale_datasets(top.stale_repos()):
        lgr.info('removed %s, left unfinished by an interrupted run', stale)
    ensure_dataset(
        path, 'TCIA: the collection datasets of this store', temp_path_for(path)
    )
    if _current(top, base_url, heads):
        pushed = export_dataset(path, top.export)
        return TopOutcome(
            pushed.status,
            'every collection is registered: ' + pushed.message,
            path,
            url,
            collections=len(heads),
        )
    entries = [
        entry
        for cid in sorted(heads)
        if (entry := published_collection(StoreLayout(top.store, cid), base_url))
    ]
    update_superdataset(
        path,
        [e.subdataset for e in entries],
        top_files(entries),
        f'Register {len(entries)} collection dataset(s)\n\nEach subdataset URL '
        f'points at its git repository in {base_url}/<collection-id>/',
    )
    version = _make_version(path, entries)
    pushed = export_dataset(path, top.export)
    message = pushed.message if pushed.status != 'ok' else 'top-level dataset exported'
    return TopOutcome(
        pushed.status if pushed.status != 'notneeded' else 'ok',
        message + (f'; version {version}' if version else ''),
        path,
        url,
        collections=len(entries),
        version=version,
    )


def _current(top: TopLayout, base_url: str, heads: dict[str, str]) -> bool:
    """Whether the top-level dataset records every collection at its
    published commit and URL, and its state is a version."""
    path = top.repo
    if gitlinks(path) != heads:
        return False
    urls = gitmodule_urls(path)
    if any(
        urls.get(cid)
        != clone_url(base_url, StoreLayout(top.store, cid).collection_export.relpath)
        for cid in heads
    ):
        return False
    tags = version_tags(path)
    return bool(tags) and tagged_commit(path, tags[-1]) == rev_parse(path, 'HEAD')


def _make_version(path: Path, entries: list[CollectionEntry]) -> str | None:
    """Tag the top-level dataset's state as a version, unless it is one;
    the message names each collection that moved and its version."""
    tags = version_tags(path)
    previous = tags[-1] if tags else None
    if previous and tagged_commit(path, previous) == rev_parse(path, 'HEAD'):
        return None
    before = gitlinks(path, f'refs/tags/{previous}') if previous else {}
    changed = changed_patients(before, gitlinks(path))
    name = next_version(tags, datetime.now(timezone.utc).date())
    versions = {e.collection_id: e.version for e in entries}
    lines = [
        f'TCIA: version {name}',
        '',
        f'{len(changed)} collection(s) changed since '
        + (f'version {previous}' if previous else 'the start')
        + ':',
    ]
    lines += [f'- {c}: {versions.get(c) or "no version"}' for c in sorted(changed)]
    tag_version(path, name, '\n'.join(lines) + '\n')
    lgr.info('version %s of the top-level dataset', name)
    return name
