"""What a run of many downloads shows: counts as keys finish and bytes
arrive (:class:`Progress`, fed by the transfer's event loop), and
DataLad's progress bars of files and bytes (:class:`ProgressBars`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from datalad.log import log_progress

if TYPE_CHECKING:
    from .transfer import KeyResult

lgr = logging.getLogger('datalad.tcia.retrieve.progress')

#: seconds between two updates of the progress bars
PROGRESS_EVERY = 0.2


class Progress:
    """Counts what arrived, for a progress bar: called from the loop's
    thread with every finished key (``done``) and every chunk's bytes."""

    def __init__(
        self,
        on_bytes: Callable[[int], None] | None = None,
        on_key: Callable[[KeyResult], None] | None = None,
    ) -> None:
        self.bytes = 0
        self.keys = 0
        self._on_bytes = on_bytes
        self._on_key = on_key

    def received(self, n: int) -> None:
        self.bytes += n
        if self._on_bytes is not None:
            self._on_bytes(n)

    def done(self, result: KeyResult) -> None:
        self.keys += 1
        if self._on_key is not None:
            self._on_key(result)


class ProgressBars:
    """DataLad progress bars of a get: files and bytes, updated at most
    every :data:`PROGRESS_EVERY` seconds (a call per chunk would cost more
    than the chunk)."""

    def __init__(self, total_bytes: int, total_files: int) -> None:
        self.pid = f'tcia-get-{id(self)}'
        self.total_bytes = total_bytes
        self.total_files = total_files
        self._lock = threading.Lock()
        self._files = 0
        self._bytes = 0
        self._shown = 0.0

    def start(self) -> None:
        log_progress(
            lgr.info,
            self.pid + '-files',
            'Getting %d files',
            self.total_files,
            label='Files',
            total=self.total_files or None,
            unit=' files',
            noninteractive_level=5,
        )
        log_progress(
            lgr.info,
            self.pid + '-bytes',
            'Receiving',
            label='Bytes',
            total=self.total_bytes or None,
            unit=' B',
            noninteractive_level=5,
        )

    def file(self) -> None:
        self._files += 1
        self._show()

    def bytes(self, n: int) -> None:
        self._bytes += n
        self._show()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shown < PROGRESS_EVERY:
            return
        with self._lock:
            self._shown = now
            files, self._files = self._files, 0
            nbytes, self._bytes = self._bytes, 0
            for suffix, n in (('-files', files), ('-bytes', nbytes)):
                if n:
                    log_progress(
                        lgr.info,
                        self.pid + suffix,
                        '',
                        update=n,
                        increment=True,
                        noninteractive_level=5,
                    )

    def finish(self) -> None:
        self._show(force=True)
        log_progress(lgr.info, self.pid + '-bytes', 'Received', noninteractive_level=5)
        log_progress(lgr.info, self.pid + '-files', 'Got', noninteractive_level=5)
