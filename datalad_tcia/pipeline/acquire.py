"""The series stage over many series: each from IDC or NBIA, in
parallel, under the patients' locks, with progress bars."""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from datalad.log import log_progress

from datalad_tcia.idc import IdcSeries, from_idc
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, unwritable

from .acquire_idc import IdcAcquisition, acquire_from_idc
from .acquire_nbia import acquire_from_nbia
from .outcomes import Problem, SeriesOutcome
from .settings import RunSettings

lgr = logging.getLogger('datalad.tcia.pipeline.acquire')


def route(
    settings: RunSettings, series_list: Sequence[SeriesInfo]
) -> dict[str, IdcSeries]:
    """The series to acquire from IDC, and where IDC keeps them.

    ``--source nbia`` (or no IDC this run): none. ``--source idc``: every
    series the IDC index lists (the others fail). ``--source auto``: a
    series planned from the IDC index, or one whose instance count NBIA
    reports is the index's; the others come from NBIA.
    """
    if settings.source == 'nbia' or settings.idc is None:
        return {}
    found = settings.idc.locate([s.series_uid for s in series_list])
    if settings.source == 'idc':
        return found
    return {
        s.series_uid: loc
        for s in series_list
        if (loc := found.get(s.series_uid)) is not None
        and (
            from_idc(s) or s.image_count is None or s.image_count == loc.instance_count
        )
    }


def acquire_all(
    settings: RunSettings, series_list: Sequence[SeriesInfo]
) -> Iterator[SeriesOutcome | Problem]:
    """Acquire every series (from IDC or NBIA, see :func:`route`),
    ``settings.jobs`` requests at a time, each series holding the lock of
    its patient.

    Other processes (``--shard``, cluster jobs) may work on the other
    patients of a collection at the same time; a series whose patient
    another process holds is a :class:`Problem` and is skipped. A
    collection whose directory cannot be written is one :class:`Problem`;
    its series are skipped.
    """
    if not series_list:
        return
    layouts = yield from _writable(settings.store, series_list)
    # a patient's series one after another: few patient locks at a time
    todo = sorted(
        (s for s in series_list if (s.published_in or '') in layouts),
        key=lambda s: (s.published_in or '', s.patient_id or '', s.series_uid),
    )
    from_bucket = route(settings, todo)
    if settings.source == 'idc':
        yield from _not_in_index(settings, todo, from_bucket)
        todo = [s for s in todo if s.series_uid in from_bucket]
    progress = _Progress(
        sum(s.file_size or 0 for s in todo if s.series_uid not in from_bucket),
        sum(s.image_count or 0 for s in todo if s.series_uid in from_bucket),
    )
    progress.start(len(todo))
    requests = ThreadPoolExecutor(
        max_workers=max(1, settings.jobs), thread_name_prefix='tcia-idc'
    )
    acquire = _SeriesAcquirer(settings, layouts, from_bucket, requests, progress)
    try:
        # series wait on their requests: as many series as requests, at most
        with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
            futures = [pool.submit(acquire, s) for s in todo]
            for future in as_completed(futures):
                progress.series_done()
                yield future.result()
    finally:
        requests.shutdown(cancel_futures=True)
        progress.finish()


def _writable(
    store: Path, series_list: Sequence[SeriesInfo]
) -> Generator[Problem, None, dict[str, StoreLayout]]:
    """The layouts of the series' collections (and analysis results) that
    can be written; a :class:`Problem` for each that cannot."""
    layouts = {}
    for name in sorted({s.published_in or '' for s in series_list}):
        layout = StoreLayout(store, name)
        try:
            layout.patient_lock('').parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            yield Problem(
                'series', 'impossible', unwritable(layout.root, e), path=layout.root
            )
        else:
            layouts[name] = layout
    return layouts


def _not_in_index(
    settings: RunSettings,
    todo: Sequence[SeriesInfo],
    from_bucket: Mapping[str, IdcSeries],
) -> Iterator[SeriesOutcome]:
    """With ``--source idc``: an error for each series the index lacks."""
    version = settings.idc.index.version if settings.idc else 'none'
    for s in todo:
        if s.series_uid not in from_bucket:
            yield SeriesOutcome(
                'error',
                f'the IDC index ({version}) does not list series '
                f'{s.series_uid}: take it from NBIA (--source auto or nbia)',
                s,
                source='idc',
            )


class _SeriesAcquirer:
    """One series under its patient's lock: from IDC's bucket where
    :func:`route` sends it (from NBIA if that fails, unless ``--source
    idc``), else from NBIA."""

    def __init__(
        self,
        settings: RunSettings,
        layouts: Mapping[str, StoreLayout],
        from_bucket: Mapping[str, IdcSeries],
        requests: ThreadPoolExecutor,
        progress: _Progress,
    ) -> None:
        self.settings = settings
        self.layouts = layouts
        self.from_bucket = from_bucket
        self.progress = progress
        self.locks = PatientLocks()
        idc = settings.idc
        self.bucket = (
            IdcAcquisition(
                idc.s3,
                idc.index.version,
                settings.nbia.base_url,
                requests,
                settings.tags,
                first=idc.first_range,
                on_bytes=progress.bytes,
                on_file=progress.file_done,
            )
            if idc is not None
            else None
        )

    def __call__(self, s: SeriesInfo) -> SeriesOutcome | Problem:
        layout = self.layouts[s.published_in or '']
        try:
            with self.locks.hold(layout.patient_lock(s.patient_id or '')):
                return self._acquire(layout, s)
        except StoreLocked as e:
            return Problem('series', 'impossible', str(e), path=layout.root)

    def _acquire(self, layout: StoreLayout, s: SeriesInfo) -> SeriesOutcome:
        settings, client = self.settings, self.settings.nbia
        loc = self.from_bucket.get(s.series_uid)
        failed = None
        if loc is not None and self.bucket is not None:
            out = acquire_from_idc(self.bucket, layout, s, loc, force=settings.force)
            if out.status != 'error' or settings.source == 'idc':
                return out
            failed = out.message
            lgr.warning('%s; downloading it from NBIA instead', failed)
        out = acquire_from_nbia(
            client,
            layout,
            s,
            force=settings.force,
            tags=settings.tags,
            attempts=client.retry.max_attempts,
            on_bytes=self.progress.bytes,
        )
        if failed and out.status == 'error':
            out.message = f'{failed}; and from NBIA: {out.message}'
        elif failed:
            out.message = f'{out.message}, from NBIA (IDC failed: {failed})'
        return out


class PatientLocks:
    """Patient locks shared by the threads of one process: taken when the
    first of a patient's series starts, released when the last ends."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held: dict[Path, tuple[StoreLock, int]] = {}

    @contextmanager
    def hold(self, path: Path) -> Iterator[None]:
        """Hold the lock at ``path`` (raises :class:`StoreLocked`)."""
        with self._mutex:
            lock, count = self._held.get(path, (None, 0))
            if lock is None:
                lock = StoreLock(path)
                lock.acquire()
            self._held[path] = (lock, count + 1)
        try:
            yield
        finally:
            with self._mutex:
                lock, count = self._held[path]
                if count == 1:
                    del self._held[path]
                    lock.release()
                else:
                    self._held[path] = (lock, count - 1)


class _Progress:
    """DataLad progress bars: series done, bytes received, and files read
    from IDC."""

    def __init__(self, total_bytes: int, total_files: int = 0) -> None:
        self.pid = f'tcia-download-{id(self)}'
        self.bytes_pid = self.pid + '-bytes'
        self.files_pid = self.pid + '-files'
        self.total_bytes = total_bytes
        self.total_files = total_files
        self._lock = threading.Lock()

    def start(self, n: int) -> None:
        log_progress(
            lgr.info,
            self.pid,
            'Downloading %d series',
            n,
            noninteractive_level=5,
            label='Series',
            total=n,
            unit=' series',
        )
        log_progress(
            lgr.info,
            self.bytes_pid,
            'Receiving',
            label='Bytes',
            noninteractive_level=5,
            total=self.total_bytes or None,
            unit=' B',
        )
        if self.total_files:
            log_progress(
                lgr.info,
                self.files_pid,
                'Reading headers from IDC',
                label='Files',
                noninteractive_level=5,
                total=self.total_files,
                unit=' files',
            )

    def file_done(self) -> None:
        with self._lock:
            log_progress(
                lgr.info,
                self.files_pid,
                '',
                update=1,
                increment=True,
                noninteractive_level=5,
            )

    def bytes(self, n: int) -> None:
        with self._lock:
            log_progress(
                lgr.info,
                self.bytes_pid,
                '',
                update=n,
                increment=True,
                noninteractive_level=5,
            )

    def series_done(self) -> None:
        log_progress(
            lgr.info,
            self.pid,
            'done',
            update=1,
            increment=True,
            noninteractive_level=5,
        )

    def finish(self) -> None:
        if self.total_files:
            log_progress(lgr.info, self.files_pid, 'Read', noninteractive_level=5)
        log_progress(lgr.info, self.bytes_pid, 'Received', noninteractive_level=5)
        log_progress(lgr.info, self.pid, 'Finished downloading', noninteractive_level=5)
