"""``datalad tcia-download``: selection -> verified archives + metadata."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.log import log_progress
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool
from datalad_next.exceptions import CapturedException

from datalad_tcia.acquire import Outcome, acquire_series
from datalad_tcia.nbia import NbiaClient, NbiaError, SeriesInfo
from datalad_tcia.selection import Selection, resolve_selection
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, unwritable

from .common import dicom_tags, nbia_client, store_path
from .params import (
    api_url_param,
    force_param,
    jobs_param,
    make_selection,
    output_format_param,
    selection_constraints,
    selection_params,
    store_param,
)

lgr = logging.getLogger('datalad.tcia.commands.download')

ACTION = 'tcia_download'


@build_doc
class TciaDownload(ValidatedInterface):
    """Download TCIA series archives into a store, verified, with metadata

    For a selection (collection, patient, study, series, manifest, and
    filters), each series archive is downloaded from NBIA's getImage
    (with NewFileNames=Yes and IncludeMD5=Yes) to
    <store>/<collection-id>/archives/<SeriesInstanceUID>.zip. An archive is
    kept only if it opens, holds as many DICOM files as NBIA's ImageCount,
    every file matches its MD5 in md5hashes.csv, and no member name escapes
    the archive; otherwise the download is retried a few times. Beside each
    archive, metadata/<uid>_metadata_archive.json and
    metadata/<uid>_metadata_dicoms.json record the archive and every file in
    it (size, MD5, DICOM header values).

    Series already deposited and verified are skipped without a download.
    A series that fails is reported and the others go on; running the
    command again resumes.
    """

    _params_ = {
        **selection_params,
        'store': store_param,
        'api_url': api_url_param,
        'jobs': jobs_param,
        'force': force_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {**selection_constraints, 'force': EnsureBool()},
    )

    _examples_ = [
        {
            'text': 'Download a collection into ./tcia-store, two series at a time',
            'code_py': "tcia_download(collection='Pseudo-PHI-DICOM-Data', jobs=2)",
            'code_cmd': 'datalad tcia-download --collection Pseudo-PHI-DICOM-Data -J 2',
        },
        {
            'text': 'Download the series of a manifest into a given store',
            'code_py': "tcia_download(manifest='cart.tcia', store='/data/tcia')",
            'code_cmd': 'datalad tcia-download --manifest cart.tcia --store /data/tcia',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        collection: str | None = None,
        patient: str | None = None,
        study: str | None = None,
        series: list[str] | None = None,
        manifest: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        store: str | None = None,
        api_url: str | None = None,
        jobs: int = 1,
        force: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        selection = make_selection(
            collection,
            patient,
            study,
            series,
            manifest,
            modality,
            body_part,
            manufacturer,
        )
        yield from download_selection(
            nbia_client(api_url), store_path(store), selection, jobs, force
        )


def download_selection(
    client: NbiaClient,
    store_dir: Path,
    selection: Selection,
    jobs: int = 1,
    force: bool = False,
    resolved_out: list[SeriesInfo] | None = None,
) -> Iterator[dict[str, Any]]:
    """Download and deposit the series of ``selection``; yield results.

    The resolved series are appended to ``resolved_out``, if given.
    """
    common = {'action': ACTION, 'logger': lgr}
    if selection.is_empty:
        yield get_status_dict(
            status='impossible',
            message='nothing selected: give --collection, --patient, --study, '
            '--series or --manifest',
            **common,
        )
        return
    problem = _unusable_store(store_dir)
    if problem:
        yield get_status_dict(
            status='impossible', path=str(store_dir), message=problem, **common
        )
        return
    try:
        resolved = resolve_selection(client, selection, jobs=jobs)
    except NbiaError as e:
        yield get_status_dict(
            status='error',
            message=f'cannot query NBIA: {e}. Nothing was downloaded; check '
            f'the API URL ({client.base_url}) and run again',
            exception=CapturedException(e),
            **common,
        )
        return
    if resolved.problems:
        # bad input changes nothing: report every bad part, download none
        for p in resolved.problems:
            yield get_status_dict(
                status='impossible',
                type=p.kind,
                input=p.value,
                message=f'{p.message}. Nothing was downloaded',
                **common,
            )
        return
    if resolved_out is not None:
        resolved_out.extend(resolved.series)
    yield from _download_all(client, store_dir, resolved.series, jobs, force, common)


def _unusable_store(store: Path) -> str | None:
    if store.exists() and not store.is_dir():
        return f'the store {store} is not a directory; give --store a directory'
    return None


def _download_all(
    client: Any,
    store: Path,
    series_list: list[SeriesInfo],
    jobs: int,
    force: bool,
    common: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    layouts = {
        name: StoreLayout(store, name)
        for name in sorted({s.collection or '' for s in series_list})
    }
    tags = dicom_tags()
    attempts = client.retry.max_attempts
    pid = f'tcia-download-{id(series_list)}'
    bytes_pid = pid + '-bytes'
    lock = threading.Lock()
    total_bytes = sum(s.file_size or 0 for s in series_list)

    def on_bytes(n: int) -> None:
        with lock:
            log_progress(
                lgr.info,
                bytes_pid,
                '',
                update=n,
                increment=True,
                noninteractive_level=5,
            )

    with ExitStack() as stack:
        locked: set[str] = set()
        for name, layout in layouts.items():
            try:
                stack.enter_context(StoreLock(layout.lock))
            except StoreLocked as e:
                locked.add(name)
                yield get_status_dict(
                    status='impossible',
                    path=str(layout.root),
                    message=str(e),
                    **common,
                )
            except OSError as e:
                locked.add(name)
                yield get_status_dict(
                    status='impossible',
                    path=str(layout.root),
                    message=unwritable(layout.root, e),
                    **common,
                )
        todo = [s for s in series_list if (s.collection or '') not in locked]
        log_progress(
            lgr.info,
            pid,
            'Downloading %d series',
            len(todo),
            noninteractive_level=5,
            label='Series',
            total=len(todo),
            unit=' series',
        )
        log_progress(
            lgr.info,
            bytes_pid,
            'Receiving',
            label='Bytes',
            noninteractive_level=5,
            total=total_bytes,
            unit=' B',
        )
        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = [
                    pool.submit(
                        acquire_series,
                        client,
                        layouts[s.collection or ''],
                        s,
                        force=force,
                        tags=tags,
                        attempts=attempts,
                        on_bytes=on_bytes,
                    )
                    for s in todo
                ]
                for future in as_completed(futures):
                    outcome = future.result()
                    log_progress(
                        lgr.info,
                        pid,
                        'done',
                        update=1,
                        increment=True,
                        noninteractive_level=5,
                    )
                    yield _result(outcome, common)
        finally:
            log_progress(lgr.info, bytes_pid, 'Received', noninteractive_level=5)
            log_progress(lgr.info, pid, 'Finished downloading', noninteractive_level=5)


def _result(outcome: Outcome, common: dict[str, Any]) -> dict[str, Any]:
    s = outcome.series
    res = get_status_dict(
        status=outcome.status,
        message=outcome.message,
        type='file',
        Collection=s.collection,
        PatientID=s.patient_id,
        StudyInstanceUID=s.study_uid,
        SeriesInstanceUID=s.series_uid,
        ImageCount=s.image_count,
        attempts=outcome.attempts,
        **common,
    )
    if outcome.metadata is not None:
        res['path'] = str(outcome.metadata)
    if outcome.archive is not None:
        res['archive'] = str(outcome.archive)
        res['archive_md5'] = outcome.archive_md5
        res['archive_size'] = outcome.archive_size
    if outcome.problems:
        res['problems'] = outcome.problems
    return res
