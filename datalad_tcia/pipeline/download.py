"""The series stage over many series: in parallel, under the collections'
locks, with progress bars."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
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
    at a time, holding the lock of each collection involved.

    A collection whose lock another process holds, or whose directory
    cannot be written, is one :class:`Problem`; its series are skipped.
    """
    if not series_list:
        return
    layouts = {
        name: StoreLayout(store, name)
        for name in sorted({s.collection or '' for s in series_list})
    }
    progress = _Progress(sum(s.file_size or 0 for s in series_list))
    with ExitStack() as stack:
        locked: set[str] = set()
        for name, layout in layouts.items():
            try:
                stack.enter_context(StoreLock(layout.lock))
            except StoreLocked as e:
                locked.add(name)
                yield Problem('series', 'impossible', str(e), path=layout.root)
            except OSError as e:
                locked.add(name)
                yield Problem(
                    'series', 'impossible', unwritable(layout.root, e), path=layout.root
                )
        todo = [s for s in series_list if (s.collection or '') not in locked]
        progress.start(len(todo))
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
                        attempts=client.retry.max_attempts,
                        on_bytes=progress.bytes,
                    )
                    for s in todo
                ]
                for future in as_completed(futures):
                    progress.series_done()
                    yield future.result()
        finally:
            progress.finish()


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
