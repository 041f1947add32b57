"""Content identity: the one MD5-and-size hasher that every byte stream
going into the store passes through (downloads, archive members, IDC
objects, archive files on disk)."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: bytes read at a time from a file
CHUNK = 4 * 1024 * 1024


class ContentHash:
    """The MD5 (hex) and size of bytes as they stream by.

    >>> h = ContentHash(b'ab')
    >>> h.update(b'c')
    >>> h.hexdigest(), h.size
    ('900150983cd24fb0d6963f7d28e17f72', 3)
    """

    def __init__(self, data: bytes = b'') -> None:
        self._md5 = hashlib.md5(data)  # noqa: S324 - content identity
        self.size = len(data)

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._md5.hexdigest()


def file_md5(path: Path) -> tuple[str, int]:
    """MD5 (hex) and size of a file, read in chunks."""
    digest = ContentHash()
    with path.open('rb') as fp:
        while chunk := fp.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), digest.size
