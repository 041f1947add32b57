"""The metadata records of archives already on disk (store archives, or
ZIP/tar archives from elsewhere such as INM-ICF visit tarballs)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from datalad_tcia.archive import (
    ArchiveError,
    ArchiveIndex,
    index_archive,
    verification_problems,
)
from datalad_tcia.metadata import (
    MemberRecord,
    MetadataError,
    SeriesRecord,
    read_series_record,
    same_dicoms,
)
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    collection_dirs,
    unwritable,
)

from .acquire_nbia import archive_info, record_archive
from .outcomes import MetadataOutcome, Problem

lgr = logging.getLogger('datalad.tcia.pipeline.index_archives')


def index_archives(
    store: Path,
    archives: Sequence[str],
    collection: str | None,
    *,
    tags: Sequence[str],
    force: bool = False,
) -> Iterator[MetadataOutcome | Problem]:
    """Record the metadata of ``archives`` (all store archives if none),
    one series record per series found in them."""
    if store.exists() and not store.is_dir():
        yield Problem(
            'metadata',
            'impossible',
            f'the store {store} is not a directory',
            path=store,
        )
        return
    for item in list(_plan(store, archives, collection)):
        if isinstance(item, Problem):
            yield item
            continue
        path, name = item
        layout = StoreLayout(store, name)
        try:
            with StoreLock(layout.lock):
                yield from _record_file(layout, path, tags, force)
        except StoreLocked as e:
            yield Problem('metadata', 'impossible', str(e), path=path)
        except OSError as e:
            yield Problem(
                'metadata', 'impossible', unwritable(layout.root, e), path=path
            )


def _plan(
    store: Path, archives: Sequence[str], collection: str | None
) -> Iterator[tuple[Path, str] | Problem]:
    """(archive, collection) pairs, or a Problem for bad input."""
    if not archives:
        roots = (
            [StoreLayout(store, collection).root]
            if collection
            else collection_dirs(store)
        )
        for root in roots:
            name = collection or _known_collection(store, root.name)
            for path in StoreLayout(store, name or root.name).archive_files():
                if name is None:
                    yield _unknown_collection(path)
                else:
                    yield path.absolute(), name
        return
    for arg in archives:
        path = Path(arg).expanduser().absolute()
        if not path.is_file():
            yield Problem(
                'metadata', 'impossible', f'no such archive file: {path}', path=path
            )
            continue
        name = collection
        if name is None and path.parent.name == 'archives':
            name = _known_collection(path.parent.parent.parent, path.parent.parent.name)
        if name is None:
            yield _unknown_collection(path)
            continue
        yield path, name


def _unknown_collection(path: Path) -> Problem:
    return Problem(
        'metadata',
        'impossible',
        f'cannot tell the collection of {path}; give --collection',
        path=path,
    )


def _known_collection(store: Path, cid: str) -> str | None:
    """The collection name recorded in a store directory's metadata."""
    layout = StoreLayout(store, cid)
    for uid in layout.recorded_series():
        try:
            return read_series_record(layout, uid).collection
        except (MetadataError, KeyError, OSError):
            continue
    return None


def _previous(layout: StoreLayout, uid: str) -> SeriesRecord | None:
    try:
        return read_series_record(layout, uid)
    except (FileNotFoundError, MetadataError):
        return None


def _record_file(
    layout: StoreLayout, path: Path, tags: Sequence[str], force: bool
) -> Iterator[MetadataOutcome | Problem]:
    try:
        # the archive's own MD5 is taken while its members are read
        index = index_archive(path, tags=tags, digest=True)
    except ArchiveError as e:
        yield Problem(
            'metadata',
            'error',
            f'{e}; the archive is damaged, download it again',
            path=path,
        )
        return
    groups = _by_series(index)
    if not groups:
        yield Problem(
            'metadata',
            'impossible',
            f'{path.name} holds no DICOM file with a SeriesInstanceUID',
            path=path,
        )
        return
    found = _Archive(path, index, path.parent == layout.archives, len(groups) == 1)
    for uid, members in groups.items():
        yield _record_one(layout, found, uid, members, force)


@dataclass(frozen=True)
class _Archive:
    """An archive indexed: where it is (``in_store``: the store's own
    download), and whether it holds ``one`` series."""

    path: Path
    index: ArchiveIndex
    in_store: bool
    one: bool


def _record_one(
    layout: StoreLayout,
    found: _Archive,
    uid: str,
    members: list[MemberRecord],
    force: bool,
) -> MetadataOutcome:
    """The records of the series ``uid`` of an archive (unless they are
    recorded already, or differ and not ``force``)."""
    path, index = found.path, found.index
    prev = _previous(layout, uid)
    # NBIA's record of a store archive's series (and its count, read with
    # its quirks by SeriesInfo) is kept
    kept = prev if prev is not None and found.in_store else None
    upstream = kept.series if kept is not None else None
    expected = upstream.image_count if upstream is not None else None
    sub = ArchiveIndex(
        members=members,
        atype=index.atype,
        license_text=index.license_text,
        md5_manifest=index.md5_manifest if found.one else None,
        problems=index.problems,
    )
    problems = verification_problems(sub, expected)
    dpath = layout.dicoms_metadata(uid)
    n_dicoms = sum(1 for m in members if m.dicom)

    def outcome(status: str, message: str) -> MetadataOutcome:
        return MetadataOutcome(status, message, dpath, path, uid, n_dicoms)

    if problems:
        return outcome(
            'error', f'{path.name} fails verification: {"; ".join(problems[:3])}'
        )
    if dpath.exists() and not force:
        same = same_dicoms(dpath, members)
        if same and prev:
            return outcome('notneeded', 'metadata already recorded')
        if not same:
            return outcome(
                'impossible',
                f'different metadata for series {uid} is already recorded; '
                'use --force to replace it',
            )
    first = next((m.tags for m in members if m.dicom), {})
    series = upstream or SeriesInfo(
        uid,
        _text(first.get('StudyInstanceUID')) or (prev.study_uid if prev else None),
        _text(first.get('PatientID')) or (prev.patient_id if prev else None),
        layout.collection,
    )
    record = SeriesRecord(
        collection=layout.collection,
        collection_id=layout.cid,
        series=series,
        source='nbia' if kept and kept.archive_url else 'file',
        image_count=expected if expected is not None else n_dicoms,
        api_url=kept.api_url if kept else None,
        archive=archive_info(
            sub,
            index.size or 0,
            index.md5 or '',
            url=kept.archive_url if kept else None,
            path=None if found.in_store else str(path),
        ),
    )
    if kept is not None and kept.downloaded:
        record = replace(record, downloaded=kept.downloaded)
    record_archive(layout, record, sub)
    return outcome('ok', f'recorded the metadata of {n_dicoms} DICOM file(s)')


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _by_series(index: ArchiveIndex) -> dict[str, list[MemberRecord]]:
    """Members per SeriesInstanceUID; other members go with every series."""
    groups: dict[str, list[MemberRecord]] = {}
    for m in index.members:
        uid = m.tags.get('SeriesInstanceUID')
        if m.dicom and uid:
            groups.setdefault(str(uid), [])
    for m in index.members:
        uid = m.tags.get('SeriesInstanceUID')
        if m.dicom and uid:
            groups[str(uid)].append(m)
        else:
            # LICENSE, md5hashes.csv, non-DICOM files, DICOM without a
            # series: recorded with every series of the archive
            for members in groups.values():
                members.append(m)
    # keep archive order within each group
    order = {id(m): i for i, m in enumerate(index.members)}
    return {uid: sorted(ms, key=lambda m: order[id(m)]) for uid, ms in groups.items()}
