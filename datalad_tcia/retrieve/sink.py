"""One download's bytes on their way to the object file: hashed as they
come, written to git-annex's temporary object, checked against the key
and made present (:mod:`datalad_tcia.formats.annex_content`)."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import BinaryIO

from datalad_tcia.formats.annex_content import (
    place_object,
    record_present,
    temporary_object,
)

from .wanted import DatasetContent, WantedKey


class ContentMismatch(ValueError):
    """A download that does not match its key."""


class ContentSink:
    """One download's bytes on their way to the object file.

    :meth:`add` runs on the transfer's event loop; :meth:`flush` and
    :meth:`store` on a worker thread (on the loop itself for a small
    body). ``journal`` keeps the threads of one process from writing the
    repository's journal at once (git-annex's fcntl lock does not).
    """

    def __init__(
        self, content: DatasetContent, wanted: WantedKey, journal: threading.Lock
    ) -> None:
        self.content = content
        self.wanted = wanted
        self.journal = journal
        self.tmp = temporary_object(content.gitdir, wanted.key)
        self.digest = hashlib.new(wanted.algorithm)
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.received = 0
        self.fh: BinaryIO | None = None

    def add(self, chunk: bytes) -> None:
        """Keep ``chunk`` until the next :meth:`flush`."""
        self.chunks.append(chunk)
        self.buffered += len(chunk)
        self.received += len(chunk)

    def flush(self) -> None:
        """Hash and write what is buffered (in a worker thread)."""
        if self.fh is None:
            self.fh = open(self.tmp, 'wb')  # noqa: PTH123, SIM115 - closed by store
        chunks, self.chunks, self.buffered = self.chunks, [], 0
        for chunk in chunks:
            self.digest.update(chunk)
            self.fh.write(chunk)

    def store(self) -> None:
        """Check the whole content against the key and make it present
        (in a worker thread)."""
        self.flush()
        assert self.fh is not None  # noqa: S101 - flush opened it
        self.fh.close()
        wanted = self.wanted
        if self.received != wanted.size or self.digest.hexdigest() != wanted.digest:
            what = (
                f'{self.received} bytes, {wanted.size} expected'
                if self.received != wanted.size
                else f'{wanted.algorithm} {self.digest.hexdigest()}, '
                f'{wanted.digest} expected'
            )
            msg = f'content does not match {wanted.key} ({what})'
            raise ContentMismatch(msg)
        place_object(self.content.gitdir, wanted.key, self.tmp)
        assert self.content.uuid is not None  # noqa: S101 - DatasetContent's rule
        with self.journal:
            record_present(
                self.content.gitdir,
                self.content.uuid,
                {wanted.key: wanted.location_log},
                int(time.time()),
            )

    def discard(self) -> None:
        """Leave nothing of a failed download."""
        if self.fh is not None:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)
