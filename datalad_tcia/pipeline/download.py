"""The series stage over many series: in parallel, under the patients'
locks, with progress bars."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from datalad.log import log_progress

from datalad_tcia.nbia import NbiaClient, SeriesInfo
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, unwritable

from .outcomes import Problem, SeriesOutcome
from .series import acquire_series

lgr = logging.getLogger('datalad.tcia.pipeline.download')


def acquire_all(
    client: NbiaClient,
    store: Path,
    series_list: Sequence[SeriesInfo],
    *,
    tags: Sequence[str],
    jobs: int = 1,
    force: bool = False,
) -> Iterator[SeriesOutcome | Problem]:
    """Acquire every series (see :func:`~.series.acquire_series`), ``jobs``
    at a time, each holding the lock of its patient.

    Other processes (``--shard``, cluster jobs) may work on the other
    patients of a collection at the same time; a series whose patient
    another process holds is a :class:`Problem` and is skipped. A
    collection whose directory cannot be written is one :class:`Problem`;
    its series are skipped.
    """
    if not series_list:
        return
    layouts = {
        name: StoreLayout(store, name)
        for name in sorted({s.collection or '' for s in series_list})
    }
    unwritable_ = set()
    for name, layout in layouts.items():
        try:
            layout.patient_lock('').parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            unwritable_.add(name)
            yield Problem(
                'series', 'impossible', unwritable(layout.root, e), path=layout.root
            )
    # a patient's series one after another: few patient locks at a time
    todo = sorted(
        (s for s in series_list if (s.collection or '') not in unwritable_),
        key=lambda s: (s.collection or '', s.patient_id or '', s.series_uid),
    )
    locks = PatientLocks()
    progress = _Progress(sum(s.file_size or 0 for s in todo))
    progress.start(len(todo))

    def acquire(s: SeriesInfo) -> SeriesOutcome | Problem:
        layout = layouts[s.collection or '']
        try:
            with locks.hold(layout.patient_lock(s.patient_id or '')):
                return acquire_series(
                    client,
                    layout,
                    s,
                    force=force,
                    tags=tags,
                    attempts=client.retry.max_attempts,
                    on_bytes=progress.bytes,
                )
        except StoreLocked as e:
            return Problem('series', 'impossible', str(e), path=layout.root)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(acquire, s) for s in todo]
            for future in as_completed(futures):
                progress.series_done()
                yield future.result()
    finally:
        progress.finish()


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
    """DataLad progress bars: series done, bytes received."""

    def __init__(self, total_bytes: int) -> None:
        self.pid = f'tcia-download-{id(self)}'
        self.bytes_pid = self.pid + '-bytes'
        self.total_bytes = total_bytes
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
            total=self.total_bytes,
            unit=' B',
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
        log_progress(lgr.info, self.bytes_pid, 'Received', noninteractive_level=5)
        log_progress(lgr.info, self.pid, 'Finished downloading', noninteractive_level=5)
