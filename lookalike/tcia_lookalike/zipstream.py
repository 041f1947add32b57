"""Stream a series as NBIA's ``getImage`` builds it: a ZIP made on the fly.

Like NBIA (``java.util.zip.ZipOutputStream`` inside a JAX-RS
``StreamingOutput``), the archive is written while it is sent, so there is
no ``Content-Length``; entries get the current time and DEFLATE, so two
downloads of one series differ in bytes while every member is identical.
Member order: ``LICENSE``, the DICOM files, then ``md5hashes.csv`` when
``IncludeMD5=Yes`` was asked for.
"""

from __future__ import annotations

import random
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import IO, cast

from .data import Instance, Series
from .faults import Fault

_CHUNK = 64 * 1024


class Truncated(Exception):
    """Raised inside the writer when a fault cuts the stream short."""


class ChunkSink:
    """A write-only file object that hands fixed-size chunks to ``send``.

    Faults hook in here: ``limit`` cuts the stream after that many bytes,
    ``garble`` scrambles everything written from then on, ``delay`` calls
    ``pause`` before each chunk.
    """

    def __init__(
        self,
        send: Callable[[bytes], None],
        *,
        limit: int | None = None,
        pause: Callable[[], None] | None = None,
    ) -> None:
        self._send = send
        self._buf = bytearray()
        self.limit = limit
        self.pause = pause
        self.garble = False
        self.sent = 0

    def write(self, data: bytes) -> int:
        data = bytes(data)
        if self.garble:
            data = bytes(b ^ 0xA5 for b in data)
        self._buf.extend(data)
        if self.limit is not None and self.sent + len(self._buf) >= self.limit:
            keep = self.limit - self.sent
            del self._buf[keep:]
            self.flush()
            raise Truncated(self.limit)
        while len(self._buf) >= _CHUNK:
            self._emit(bytes(self._buf[:_CHUNK]))
            del self._buf[:_CHUNK]
        return len(data)

    def flush(self) -> None:
        if self._buf:
            self._emit(bytes(self._buf))
            self._buf.clear()

    def _emit(self, chunk: bytes) -> None:
        if self.pause is not None:
            self.pause()
        self._send(chunk)
        self.sent += len(chunk)


def member_names(instances: Sequence[Instance], new_file_names: bool) -> list[str]:
    """NBIA's member names: ``00000001.dcm`` or, with NewFileNames,
    ``<acq>-<inst>.dcm`` padded to the digits of the number of distinct
    acquisition and instance numbers."""
    if not new_file_names:
        return [f'{n:08d}.dcm' for n in range(1, len(instances) + 1)]
    acq_width = len(str(len({i.acquisition_number for i in instances})))
    inst_width = len(str(len({i.instance_number for i in instances})))
    return [
        f'{i.acquisition_number:0{acq_width}d}-{i.instance_number:0{inst_width}d}.dcm'
        for i in instances
    ]


def write_series_zip(
    series: Series,
    sink: ChunkSink,
    *,
    new_file_names: bool,
    include_md5: bool,
    when: datetime,
    fault: Fault | None = None,
) -> None:
    """Write the ``getImage`` archive of ``series`` into ``sink``.

    Raises
    ------
    Truncated
      When a ``truncate`` fault cut the stream.
    """
    kind = fault.kind if fault else None
    instances = sorted(series.instances, key=lambda i: i.instance_number)
    names = member_names(instances, new_file_names)
    members = list(zip(names, instances, strict=True))
    write_md5 = include_md5
    if kind == 'drop_member' and members:
        members = members[:-1]
        write_md5 = include_md5 and bool(fault and fault.get('keep_md5'))
    date_time = when.timetuple()[:6]

    # ZipFile writes data descriptors to a stream it cannot seek
    zf = zipfile.ZipFile(cast('IO[bytes]', sink), 'w', compression=zipfile.ZIP_DEFLATED)
    _add(zf, 'LICENSE', (series.collection.license_text().encode(),), date_time)
    for name, inst in members:
        _add(zf, name, inst.parts, date_time, series.compresslevel)
    if kind == 'extra_member' and fault is not None:
        for name, data in fault.get('members', [('extra.dcm', b'extra')]):
            _add(zf, name, (data,), date_time)
    if write_md5:
        rows = [(name, inst.md5) for name, inst in zip(names, instances, strict=True)]
        if kind == 'bad_md5' and rows:
            rows[0] = (rows[0][0], 'f' * 32)
        # NBIA writes the rows in Java HashMap order, i.e. unsorted
        random.shuffle(rows)
        csv = 'Filename,MD5Hash\n' + ''.join(f'{n},{h}\n' for n, h in rows)
        _add(zf, 'md5hashes.csv', (csv.encode(),), date_time)
    if kind == 'truncate' and fault is not None and fault.get('after_bytes') is None:
        # cut right before the central directory
        sink.flush()
        raise Truncated(sink.sent)
    if kind == 'corrupt':
        sink.flush()
        sink.garble = True
    zf.close()
    sink.flush()


def _add(
    zf: zipfile.ZipFile,
    name: str,
    parts: tuple[bytes, ...],
    date_time: tuple[int, ...],
    level: int | None = None,
) -> None:
    info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    if level is not None:
        # the per-entry level (Python 3.13 renamed the attribute)
        if hasattr(info, 'compress_level'):
            info.compress_level = level
        else:
            info._compresslevel = level  # type: ignore[attr-defined]
    size = sum(len(p) for p in parts)
    with zf.open(info, 'w', force_zip64=size > 2**31) as fp:
        for part in parts:
            fp.write(part)
