"""``datalad tcia-deposit-metadata``: archives on disk -> metadata deposit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureListOf, EnsureStr

from datalad_tcia.acquire import file_md5
from datalad_tcia.archive import (
    ArchiveError,
    ArchiveIndex,
    index_archive,
    verification_problems,
)
from datalad_tcia.metadata import (
    MetadataError,
    archive_record,
    check_archive_record,
    load_json,
    same_dicoms,
    write_series_metadata,
)
from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    collection_id,
    unwritable,
)

from .common import dicom_tags, store_path
from .params import force_param, output_format_param, store_param

lgr = logging.getLogger('datalad.tcia.commands.deposit_metadata')

ACTION = 'tcia_deposit_metadata'


@build_doc
class TciaDepositMetadata(ValidatedInterface):
    """Deposit per-file metadata for series archives already on disk

    Reads every member of each archive once and writes, per series,
    <store>/<collection-id>/metadata/<uid>_metadata_dicoms.json (path, size,
    MD5 and DICOM header values of every member; members that are not DICOM
    are recorded with "dicom": false) and <uid>_metadata_archive.json.

    Archives may be NBIA getImage ZIPs or tar archives (such as INM-ICF visit
    tarballs); an archive holding several series yields one deposit per
    series, by the SeriesInstanceUID in the DICOM headers. Archives from
    outside the store stay where they are; their path is recorded.

    Without ARCHIVE, the ZIPs in the store's archives/ directories are
    (re)deposited where their metadata is missing.

    Existing metadata is never overwritten silently: identical metadata is
    'notneeded', different metadata is refused unless --force is given.
    """

    _params_ = {
        'archives': Parameter(
            args=('archives',),
            metavar='ARCHIVE',
            nargs='*',
            doc="""ZIP or tar archives to deposit metadata for.""",
        ),
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection the archives belong to; needed for
            archives from outside the store.""",
        ),
        'force': force_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'archives': EnsureListOf(EnsureStr(min_len=1)),
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'force': EnsureBool(),
        },
    )

    _examples_ = [
        {
            'text': 'Deposit metadata for the archives in the default store',
            'code_py': 'tcia_deposit_metadata()',
            'code_cmd': 'datalad tcia-deposit-metadata',
        },
        {
            'text': 'Add an INM-ICF visit tarball to a collection in a store',
            'code_py': "tcia_deposit_metadata(['visit.tar'], collection='MyStudy', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-deposit-metadata --store /data/tcia '
            '--collection MyStudy visit.tar',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        archives: list[str] | None = None,
        *,
        store: str | None = None,
        collection: str | None = None,
        force: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        store_dir = store_path(store)
        common = {'action': ACTION, 'logger': lgr}
        if store_dir.exists() and not store_dir.is_dir():
            yield get_status_dict(
                status='impossible',
                path=str(store_dir),
                message=f'the store {store_dir} is not a directory',
                **common,
            )
            return
        jobs = list(_plan(store_dir, archives or [], collection))
        for item in jobs:
            if isinstance(item, dict):
                yield {**item, **common}
                continue
            path, coll = item
            layout = StoreLayout(store_dir, coll)
            try:
                with StoreLock(layout.lock):
                    yield from _deposit_archive(layout, path, force, common)
            except StoreLocked as e:
                yield get_status_dict(
                    status='impossible', path=str(path), message=str(e), **common
                )
            except OSError as e:
                yield get_status_dict(
                    status='impossible',
                    path=str(path),
                    message=unwritable(layout.root, e),
                    **common,
                )


def _plan(
    store: Path, archives: list[str], collection: str | None
) -> Iterator[tuple[Path, str] | dict[str, Any]]:
    """Yield (archive, collection) pairs, or a result dict for bad input."""
    if not archives:
        cids = (
            [collection_id(collection)]
            if collection
            else sorted(p.name for p in store.iterdir() if p.is_dir())
            if store.is_dir()
            else []
        )
        for cid in cids:
            for path in sorted((store / cid / 'archives').glob('*.zip')):
                name = collection or _known_collection(store / cid)
                if name is None:
                    yield _impossible(
                        path,
                        f'cannot tell the collection of {path}; give --collection',
                    )
                else:
                    yield path.absolute(), name
        return
    for arg in archives:
        path = Path(arg).expanduser().absolute()
        if not path.is_file():
            yield _impossible(path, f'no such archive file: {path}')
            continue
        name = collection
        if name is None and path.parent.name == 'archives':
            name = _known_collection(path.parent.parent)
        if name is None:
            yield _impossible(
                path, f'cannot tell the collection of {path}; give --collection'
            )
            continue
        yield path, name


def _impossible(path: Path, message: str) -> dict[str, Any]:
    return get_status_dict(status='impossible', path=str(path), message=message)


def _known_collection(root: Path) -> str | None:
    """The collection name recorded in a store directory's metadata."""
    for meta in sorted((root / 'metadata').glob('*_metadata_archive.json')):
        try:
            return str(check_archive_record(load_json(meta))['Collection'])
        except (MetadataError, KeyError, OSError):
            continue
    return None


def _previous(layout: StoreLayout, uid: str) -> dict[str, Any] | None:
    try:
        return check_archive_record(load_json(layout.archive_metadata(uid)), uid)
    except (FileNotFoundError, MetadataError):
        return None


def _deposit_archive(
    layout: StoreLayout, path: Path, force: bool, common: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    try:
        index = index_archive(path, tags=dicom_tags())
    except ArchiveError as e:
        yield get_status_dict(
            status='error',
            path=str(path),
            message=f'{e}; the archive is damaged, download it again',
            **common,
        )
        return
    groups = _by_series(index)
    if not groups:
        yield get_status_dict(
            status='impossible',
            path=str(path),
            message=f'{path.name} holds no DICOM file with a SeriesInstanceUID',
            **common,
        )
        return
    in_store = path.parent == layout.archives
    md5, size = file_md5(path)
    for uid, members in groups.items():
        prev = _previous(layout, uid)
        nbia = (prev or {}).get('nbia_series')
        expected = (nbia or {}).get('ImageCount') if in_store else None
        sub = ArchiveIndex(
            members=members,
            atype=index.atype,
            license_text=index.license_text,
            md5_manifest=index.md5_manifest if len(groups) == 1 else None,
            problems=index.problems,
        )
        problems = verification_problems(
            sub, int(expected) if expected is not None else None
        )
        dpath = layout.dicoms_metadata(uid)
        n_dicoms = sum(1 for m in members if m.get('dicom'))
        res = {
            'path': str(dpath),
            'type': 'file',
            'archive': str(path),
            'SeriesInstanceUID': uid,
            'files': n_dicoms,
            **common,
        }
        if problems:
            yield get_status_dict(
                status='error',
                message=f'{path.name} fails verification: {"; ".join(problems[:3])}',
                **res,
            )
            continue
        if dpath.exists() and not force:
            if same_dicoms(dpath, members) and prev is not None:
                yield get_status_dict(
                    status='notneeded', message='metadata already deposited', **res
                )
                continue
            if not same_dicoms(dpath, members):
                yield get_status_dict(
                    status='impossible',
                    message=f'different metadata for series {uid} is already '
                    'deposited; use --force to replace it',
                    **res,
                )
                continue
        first = next((m for m in members if m.get('dicom')), {})
        record = archive_record(
            collection=layout.collection,
            collection_id=layout.cid,
            series_uid=uid,
            patient_id=first.get('PatientID') or (prev or {}).get('PatientID'),
            study_uid=first.get('StudyInstanceUID')
            or (prev or {}).get('StudyInstanceUID'),
            image_count=int(expected) if expected is not None else n_dicoms,
            archive_size=size,
            archive_md5=md5,
            archive_type=index.atype,
            member_count=len(members),
            md5_verified=sub.md5_manifest is not None,
            archive_url=(prev or {}).get('archive_url') if in_store else None,
            api_url=(prev or {}).get('api_url') if in_store else None,
            archive_path=None if in_store else str(path),
            downloaded=(prev or {}).get('downloaded') if in_store else None,
            license_text=index.license_text,
            nbia_series=nbia if in_store else None,
        )
        layout.metadata.mkdir(parents=True, exist_ok=True)
        write_series_metadata(layout, uid, record, members)
        yield get_status_dict(
            status='ok',
            message=f'deposited metadata of {n_dicoms} DICOM file(s)',
            **res,
        )


def _by_series(index: ArchiveIndex) -> dict[str, list[dict[str, Any]]]:
    """Members per SeriesInstanceUID; other members go with every series."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in index.members:
        uid = m.get('SeriesInstanceUID')
        if m.get('dicom') and uid:
            groups.setdefault(str(uid), [])
    for m in index.members:
        uid = m.get('SeriesInstanceUID')
        if m.get('dicom') and uid:
            groups[str(uid)].append(m)
        else:
            # LICENSE, md5hashes.csv, non-DICOM files, DICOM without a
            # series: recorded with every series of the archive
            for members in groups.values():
                members.append(m)
    # keep archive order within each group
    order = {id(m): i for i, m in enumerate(index.members)}
    return {uid: sorted(ms, key=lambda m: order[id(m)]) for uid, ms in groups.items()}
