"""A per-collection lock, so that two runs never write one store at once."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType


def unwritable(path: Path, e: OSError) -> str:
    """A message for a store directory that cannot be written."""
    return (
        f'cannot write to the store at {path}: {e.strerror or e}; give --store '
        'a writable directory (or make room) and run again'
    )


class StoreLocked(Exception):
    """Another process holds the lock."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(path, holder)
        self.path = path
        self.holder = holder

    def __str__(self) -> str:
        return (
            f'another datalad-tcia process ({self.holder}) is working on '
            f'{self.path.parent}; wait for it to finish and run again'
        )


class StoreLock:
    """An exclusive ``flock`` on a lock file.

    The kernel releases it when the process dies, so a killed run never
    leaves a stale lock behind. With ``wait`` (seconds), a lock another
    process holds is waited for that long (for locks that are held
    briefly, such as the collection's); otherwise it is refused at once.
    """

    def __init__(self, path: Path, wait: float = 0) -> None:
        self.path = path
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises
        ------
        StoreLocked
          If another process holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                holder = os.pread(fd, 100, 0).decode(errors='replace').strip() or '?'
                os.close(fd)
                raise StoreLocked(self.path, f'pid {holder}') from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
