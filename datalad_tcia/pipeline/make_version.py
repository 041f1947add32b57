"""The version step of the collection: after the superdataset recorded
the patients' new commits, name the state as a version.

A version is made when the superdataset's ``HEAD`` is not the commit of
its newest version tag (so a run killed after the commit and before the
tag tags on the next run). Every patient dataset gets the same tag on the
commit the superdataset records (each under its patient's lock, its
export written again), then the superdataset itself.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from datalad.utils import bytes2human

from datalad_tcia.dataset.groups import patient_commits
from datalad_tcia.dataset.provenance import PROVENANCE
from datalad_tcia.dataset.versions import (
    FileChanges,
    changed_patients,
    file_changes,
    next_version,
    subjects,
    tag_version,
    tagged_commit,
    version_tags,
)
from datalad_tcia.export import clone_url, export_dataset
from datalad_tcia.metadata import load_grouping, load_slugs
from datalad_tcia.store import StoreLayout, StoreLock
from datalad_tcia.store.git import cat_blobs, git, git_line, git_succeeds, rev_parse

from .outcomes import CollectionOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.make_version')

#: seconds to wait for a patient's lock when tagging it
PATIENT_LOCK_WAIT = 120.0


def make_version(layout: StoreLayout, jobs: int = 1) -> str | None:
    """Tag the collection dataset's new state as a version, and every
    patient dataset on the commit it records (``jobs`` at once); the new
    version's name, or ``None`` if ``HEAD`` already is a version.

    Call while holding the collection's lock, before its export is
    written.
    """
    path = layout.collection_repo
    tags = version_tags(path)
    head = rev_parse(path, 'HEAD')
    previous = tags[-1] if tags else None
    if previous and tagged_commit(path, previous) == head:
        return None
    # the patients' commits, through the group datasets if there are any
    digits = load_grouping(layout)
    tag = f'refs/tags/{previous}'
    before = patient_commits(layout, digits, tag) if previous else {}
    now = patient_commits(layout, digits)
    changed = changed_patients(before, now)
    name = next_version(tags, datetime.now(timezone.utc).date(), _source_suffix(path))
    lines = [f'TCIA {layout.collection}: version {name}', '']
    lines += _provenance_changes(path, previous)
    lines.append(
        f'{len(changed)} patient dataset(s) changed since '
        + (f'version {previous}' if previous else 'the start')
        + (':' if changed else '')
    )
    by_slug = {slug: pid for pid, slug in load_slugs(layout).items()}
    total = FileChanges()
    for slug, commit in sorted(changed.items()):
        repo = layout.repo(slug)
        done = subjects(repo, before.get(slug), commit)
        total += file_changes(repo, before.get(slug), commit)
        lines.append(f'- {slug}: {"; ".join(done) or "unchanged"}')
    # every patient dataset carries the version on the commit recorded
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(
            pool.map(
                lambda item: _tag_patient(
                    layout, by_slug.get(item[0], item[0]), item[0], name, item[1]
                ),
                sorted(now.items()),
            )
        )
    lines[2:2] = [
        f'Files: {total.added} added, {total.changed} changed, {total.removed} '
        f'removed; {bytes2human(total.new_bytes)} of new content',
    ]
    tag_version(path, name, '\n'.join(lines) + '\n')
    lgr.info('version %s of %s', name, layout.collection)
    return name


def _tag_patient(
    layout: StoreLayout, patient_id: str, slug: str, name: str, commit: str
) -> None:
    repo = layout.repo(slug)
    with StoreLock(layout.patient_lock(patient_id), wait=PATIENT_LOCK_WAIT):
        if not git_succeeds(
            repo, 'rev-parse', '--verify', '--quiet', f'refs/tags/{name}'
        ):
            tag_version(
                repo,
                name,
                f'TCIA {layout.collection} patient {patient_id}: version {name}\n',
                commit,
            )
        export_dataset(repo, layout.patient_export(slug))


def _source_suffix(path: Path) -> str:
    """``idc-v25`` when the provenance record says the collection's files
    were acquired from IDC release 25, else nothing."""
    blob = cat_blobs(path, [f'HEAD:{PROVENANCE}']).get(f'HEAD:{PROVENANCE}')
    try:
        record = json.loads(blob or b'{}')
    except ValueError:
        return ''
    release = record.get('idc_data_version') if isinstance(record, dict) else None
    return f'idc-{release}' if release else ''


def _provenance_changes(path: Path, previous: str | None) -> list[str]:
    """Lines on what the provenance record says changed (the DataCite
    version, the NBIA API) since ``previous``."""
    specs = [f'HEAD:{PROVENANCE}']
    if previous:
        specs.append(f'refs/tags/{previous}:{PROVENANCE}')
    blobs = cat_blobs(path, specs)
    try:
        now = json.loads(blobs.get(specs[0], b'{}'))
        before = json.loads(blobs.get(specs[-1], b'{}')) if previous else {}
    except ValueError:
        return []
    lines = []
    for key, label in (
        ('datacite_version', 'DataCite version'),
        ('nbia_api', 'NBIA API'),
        ('idc_data_version', 'IDC release'),
    ):
        if now.get(key) and now.get(key) != before.get(key):
            lines.append(f'{label}: {before.get(key) or "none"} -> {now[key]}')
        elif now.get(key) and key == 'datacite_version':
            lines.append(f'{label}: {now[key]}')
    return lines


#: the metadata fingerprint the collection dataset was last built from
BUILT_KEY = 'datalad-tcia.built-from'


def record_built(layout: StoreLayout, fingerprint: str) -> None:
    """Note that the datasets reflect the metadata records as it was when
    ``fingerprint`` was taken."""
    git(layout.collection_repo, 'config', BUILT_KEY, fingerprint)


def datasets_current(layout: StoreLayout) -> bool:
    """Whether the collection's datasets were built from its metadata
    records as they are now, with nothing left to do (a version named, no
    archive waiting for deletion): then an update that downloaded nothing
    has nothing to do."""
    path = layout.collection_repo
    if not (path / '.git').exists() or layout.archive_files():
        return False
    if not (layout.collection_export.bare / 'info' / 'refs').exists():
        # a store of an earlier version: its datasets get plain git
        # repositories (and the remotes of this version) on this run
        return False
    built = git_succeeds(path, 'config', BUILT_KEY) and git_line(
        path, 'config', BUILT_KEY
    )
    if built != layout.metadata_fingerprint():
        return False
    tags = version_tags(path)
    return bool(tags) and tagged_commit(path, tags[-1]) == rev_parse(path, 'HEAD')


def unchanged(layout: StoreLayout, base_url: str) -> CollectionOutcome:
    """The record of a collection an update found unchanged."""
    tags = version_tags(layout.collection_repo)
    return CollectionOutcome(
        'notneeded',
        f'nothing changed upstream: the datasets are version {tags[-1]}',
        layout.collection,
        layout.collection_repo,
        clone_url(base_url, layout.collection_export.relpath),
        version=None,
    )
