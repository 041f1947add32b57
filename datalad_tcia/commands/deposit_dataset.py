"""``datalad tcia-deposit-dataset``: metadata deposit -> datasets + deposits."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.runner.exception import CommandError
from datalad.support.exceptions import IncompleteResultsError
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureInt, EnsureRange, EnsureStr
from datalad_next.exceptions import CapturedException

from datalad_tcia.dataset import (
    DEFAULT_LAYOUT,
    LAYOUT_CONFIG,
    GitError,
    PatientEntry,
    PlanError,
    SeriesDeposit,
    assign_slugs,
    ensure_dataset,
    ensure_superdataset,
    git,
    load_slugs,
    plan_patient,
    read_collection,
    remove_stale_datasets,
    update_dataset,
    update_superdataset,
)
from datalad_tcia.export import clone_url, push_deposit
from datalad_tcia.store import (
    StoreLayout,
    StoreLock,
    StoreLocked,
    atomic_write_json,
    unwritable,
)

from .common import store_path, store_url_problem
from .params import (
    force_param,
    jobs_param,
    output_format_param,
    store_param,
    store_url_param,
)

lgr = logging.getLogger('datalad.tcia.commands.deposit_dataset')

ACTION = 'tcia_deposit_dataset'


@build_doc
class TciaDepositDataset(ValidatedInterface):
    """Build DataLad datasets of a collection and deposit them in the store

    From the metadata deposit of a collection (no network, no archive
    needed), one DataLad dataset per patient is built, laid out with NBIA's
    descriptive directory names. Every DICOM file is an annexed file without
    content whose MD5E key comes from the deposit, with TCIA as its source:
    the member of the series archive (archivist), the archive itself
    (getImage, under a key that survives NBIA re-building the ZIP), and the
    single file (getSingleImage), all claimed by datalad-next's uncurl
    remote so that URLs can be rewritten when TCIA moves. DICOM header
    values become git-annex metadata (for 'git annex view').

    A collection superdataset has the patients as subdatasets. All datasets
    are deposited as clone-able datalad-annex:: exports in
    <store>/<collection-id>/datasets/<patient>_XDLRA--* and
    <store>/<collection-id>/collection_XDLRA--*; the results give their
    clone URLs. Working copies live in <store>/<collection-id>/repos/.

    Running again with unchanged metadata changes nothing; new series become
    one new commit per affected dataset; files whose content changed become
    a new version.
    """

    _params_ = {
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection (name or collection id) in the store.""",
        ),
        'store_url': store_url_param,
        'layout': Parameter(
            args=('--layout',),
            metavar='TEMPLATE',
            doc=f"""path template of files in a patient dataset; fields:
            StudyDate, StudyDescription, StudyUID5, StudyUID, SeriesNumber,
            SeriesDescription, SeriesUID5, SeriesUID, Modality, member.
            Default: {DEFAULT_LAYOUT.replace('{', '{{').replace('}', '}}')}""",
        ),
        'jobs': jobs_param,
        'force': force_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'store_url': EnsureStr(min_len=1),
            'layout': EnsureStr(min_len=1),
            'jobs': EnsureInt() & EnsureRange(min=1),
            'force': EnsureBool(),
        },
    )

    _examples_ = [
        {
            'text': 'Build and deposit the datasets of a downloaded collection',
            'code_py': "tcia_deposit_dataset(collection='Pseudo-PHI-DICOM-Data', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-deposit-dataset --store /data/tcia '
            '--collection Pseudo-PHI-DICOM-Data',
        },
        {
            'text': 'Deposits that a web server publishes as https://example.org/tcia',
            'code_py': "tcia_deposit_dataset(collection='Pseudo-PHI-DICOM-Data', "
            "store='/srv/tcia', store_url='https://example.org/tcia')",
            'code_cmd': 'datalad tcia-deposit-dataset --store /srv/tcia '
            '--store-url https://example.org/tcia --collection Pseudo-PHI-DICOM-Data',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        store: str | None = None,
        collection: str | None = None,
        store_url: str | None = None,
        layout: str | None = None,
        jobs: int = 1,
        force: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        yield from deposit_datasets(
            store_path(store), collection, store_url, layout, jobs, force
        )


def deposit_datasets(
    store_dir: Path,
    collection: str | None,
    store_url: str | None = None,
    layout: str | None = None,
    jobs: int = 1,
    force: bool = False,
) -> Iterator[dict[str, Any]]:
    """Build and deposit the datasets of ``collection``; yield results."""
    common = {'action': ACTION, 'logger': lgr}
    problem = store_url_problem(store_url)
    if problem:
        yield get_status_dict(status='impossible', message=problem, **common)
        return
    if not collection:
        yield get_status_dict(
            status='impossible', message='give --collection', **common
        )
        return
    deposits, name, problems = read_collection(store_dir, collection)
    for problem in problems:
        yield get_status_dict(status='error', message=problem, **common)
    if not deposits:
        yield get_status_dict(
            status='impossible',
            path=str(store_dir),
            message=f'no metadata of collection {collection!r} in the store '
            f'{store_dir}; run "datalad tcia-download" first',
            **common,
        )
        return
    slay = StoreLayout(store_dir, name)
    base_url = (store_url or store_dir.as_uri()).rstrip('/')
    try:
        with StoreLock(slay.lock):
            yield from _build_all(
                slay,
                deposits,
                base_url,
                layout or DEFAULT_LAYOUT,
                jobs,
                force,
                common,
            )
    except StoreLocked as e:
        yield get_status_dict(
            status='impossible', path=str(slay.root), message=str(e), **common
        )
    except OSError as e:
        yield get_status_dict(
            status='impossible',
            path=str(slay.root),
            message=unwritable(slay.root, e),
            **common,
        )


#: what building or depositing a dataset can raise besides a bad plan
BUILD_ERRORS = (GitError, CommandError, IncompleteResultsError, OSError)


def failure_message(what: str, e: Exception) -> str:
    """What failed, why, and what to do about it."""
    text = str(e)
    if isinstance(e, OSError) and e.filename:
        text = f'{e.strerror or e} ({e.filename})'
    if getattr(e, 'errno', None) == errno.ENOSPC or any(
        sign in text for sign in ('No space left on device', 'OutOfSpaceError')
    ):
        advice = (
            'the store is full (git-annex also keeps annex.diskreserve, '
            '100 MB by default, free): make room and run again'
        )
    else:
        advice = 'run again; the datasets and deposits done so far are kept'
    return f'{what}: {text}; {advice}'


def _build_all(
    slay: StoreLayout,
    deposits: dict[str, list[SeriesDeposit]],
    base_url: str,
    layout: str,
    jobs: int,
    force: bool,
    common: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    for stale in remove_stale_datasets(slay.root / 'repos'):
        lgr.info('removed %s, left unfinished by an interrupted run', stale)
    old_slugs = load_slugs(slay.metadata)
    slugs = assign_slugs(deposits, old_slugs)
    if slugs != old_slugs:
        # the mapping is part of the deposit: deposit URLs depend on it
        atomic_write_json(slay.metadata / 'patients.json', slugs)
    repos = slay.root / 'repos'
    license_text = next(
        (
            str(d.archive['license_text'])
            for ds in deposits.values()
            for d in ds
            if d.archive.get('license_text')
        ),
        None,
    )
    git_files = {'LICENSE': license_text.encode()} if license_text else {}

    def one(pid: str) -> tuple[dict[str, Any], PatientEntry | None]:
        return _build_patient(
            slay,
            pid,
            slugs[pid],
            deposits[pid],
            base_url,
            layout,
            git_files,
            force,
            common,
        )

    entries: list[PatientEntry] = []
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for res, entry in pool.map(one, sorted(deposits)):
            yield res
            if entry is None:
                failed = True
            else:
                entries.append(entry)
    if not entries:
        return
    # the superdataset
    path = repos / 'collection'
    url = clone_url(base_url, f'{slay.cid}/collection')
    res = get_status_dict(
        type='dataset',
        path=str(path),
        Collection=slay.collection,
        url=url,
        **common,
    )
    try:
        ensure_superdataset(path, f'TCIA collection {slay.collection}')
        commit = update_superdataset(
            path,
            entries,
            git_files,
            f'Register {len(entries)} patient dataset(s) of TCIA collection '
            f'{slay.collection}\n\nEach subdataset URL points at its deposit in '
            f'{base_url}/{slay.cid}/datasets/',
        )
        pushed = push_deposit(path, slay.root / 'collection', force=force)
    except BUILD_ERRORS as e:
        yield {
            **res,
            'status': 'error',
            'message': failure_message('building the collection dataset', e),
            'exception': CapturedException(e),
        }
        return
    status = pushed.status if pushed.status != 'notneeded' or commit else 'notneeded'
    if failed and status == 'ok':
        message = 'deposited, without the patients that failed'
    else:
        message = pushed.message if status != 'ok' else 'collection dataset deposited'
    yield {**res, 'status': status, 'message': message}


def _build_patient(
    slay: StoreLayout,
    pid: str,
    slug: str,
    deposits: list[SeriesDeposit],
    base_url: str,
    layout: str,
    git_files: dict[str, bytes],
    force: bool,
    common: dict[str, Any],
) -> tuple[dict[str, Any], PatientEntry | None]:
    path = slay.root / 'repos' / slug
    url = clone_url(base_url, f'{slay.cid}/datasets/{slug}')
    res = get_status_dict(
        type='dataset',
        path=str(path),
        PatientID=pid,
        patient_slug=slug,
        url=url,
        **common,
    )
    try:
        files, sources = plan_patient(deposits, layout, slay.collection)
        ds = ensure_dataset(path, f'TCIA {slay.collection} patient {pid}')
        # the catalog lays files out the same way
        git(path, 'config', LAYOUT_CONFIG, layout)
        api = next((str(d.archive.get('api_url')) for d in deposits), 'NBIA')
        update = update_dataset(
            path,
            files,
            sources,
            git_files,
            _message(slay.collection, pid, deposits, files, api),
        )
        pushed = push_deposit(path, slay.root / 'datasets' / slug, force=force)
        commit = git(path, 'rev-parse', 'HEAD').decode().strip()
    except (PlanError, *BUILD_ERRORS) as e:
        return {
            **res,
            'status': 'error',
            'message': failure_message(f'patient {pid}', e),
            'exception': CapturedException(e),
        }, None
    if pushed.status == 'impossible':
        return {**res, 'status': 'impossible', 'message': pushed.message}, None
    changed = update.added + update.changed
    status = 'ok' if changed or pushed.status == 'ok' else 'notneeded'
    message = (
        f'{update.added} file(s) added, {update.changed} changed; deposited'
        if changed
        else pushed.message
    )
    entry = PatientEntry(slug, url, str(ds.id), commit)
    return {
        **res,
        'status': status,
        'message': message,
        'files': len(files),
        'commit': commit,
    }, entry


def _message(
    collection: str,
    pid: str,
    deposits: list[SeriesDeposit],
    files: list[Any],
    api: str,
) -> str:
    lines = [
        f'Register {len(files)} DICOM file(s) of TCIA {collection} patient {pid}',
        '',
        f'Sources: {api} (getImage archive members, getSingleImage)',
        '',
        'Series:',
    ]
    for d in sorted(deposits, key=lambda d: str(d.archive['SeriesInstanceUID'])):
        nbia = d.archive.get('nbia_series') or {}
        lines.append(
            f'- {d.archive["SeriesInstanceUID"]} {nbia.get("Modality", "")} '
            f'#{nbia.get("SeriesNumber", "?")} {nbia.get("SeriesDescription", "")}'
            f' ({d.archive.get("ImageCount")} files)'
        )
    return '\n'.join(lines) + '\n'
