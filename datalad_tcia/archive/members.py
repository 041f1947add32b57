"""Index an archive in one pass: per member size, MD5 and DICOM header.

Every member is read exactly once; its bytes feed the MD5 and, for
candidate DICOM files, the header parser. Memory stays bounded: members up
to :data:`IN_MEMORY_LIMIT` are held in memory for parsing, larger ones are
spooled to a temporary file.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import stat
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from datalad_next.iter_collections import FileSystemItemType, iter_tar, iter_zip

from datalad_tcia.store.hashing import ContentHash, file_md5

from .dicomtags import DEFAULT_TAGS, read_header
from .md5manifest import LICENSE, MD5_MANIFEST
from .record import SPECIAL_MEMBERS, MemberRecord

lgr = logging.getLogger('datalad.tcia.archive.members')

#: members up to this size are read whole; larger ones are streamed through
#: the MD5 with only their first :data:`HEAD_BYTES` kept for the header
IN_MEMORY_LIMIT = 4 * 1024 * 1024
HEAD_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


class ArchiveError(Exception):
    """An archive cannot be read or fails verification."""


def unsafe_member_name(name: str) -> str | None:
    """Why a member name is unsafe to extract, or ``None`` if it is safe.

    >>> unsafe_member_name('1-01.dcm') is None
    True
    >>> unsafe_member_name('../x'), unsafe_member_name('/etc/x')
    ('it escapes the archive (..)', 'it is an absolute path')
    """
    if not name:
        return 'it is empty'
    if _CONTROL.search(name):
        return 'it contains control characters'
    if name.startswith(('/', '\\')) or re.match(r'^[A-Za-z]:', name):
        return 'it is an absolute path'
    if '..' in re.split(r'[\\/]', name):
        return 'it escapes the archive (..)'
    return None


@dataclass
class ArchiveIndex:
    """What :func:`index_archive` found.

    Attributes
    ----------
    members: list of MemberRecord
      One record per file member (SPEC 3.2): path, size, MD5, whether it
      is DICOM and, for DICOM files, ``SOPInstanceUID`` and tags.
    atype: str
      ``zip`` or ``tar``.
    license_text: str, optional
      Content of the ``LICENSE`` member.
    md5_manifest: str, optional
      Content of ``md5hashes.csv``.
    problems: list of str
      Unsafe or duplicate member names, non-file members.
    md5, size: str and int, optional
      The archive file's own MD5 and size, when asked for
      (``index_archive(..., digest=True)``).
    """

    members: list[MemberRecord] = field(default_factory=list)
    atype: str = 'zip'
    license_text: str | None = None
    md5_manifest: str | None = None
    problems: list[str] = field(default_factory=list)
    md5: str | None = None
    size: int | None = None

    @property
    def image_members(self) -> list[MemberRecord]:
        """Members other than ``LICENSE`` and ``md5hashes.csv``."""
        return [m for m in self.members if m.is_image]


def archive_type(path: Path) -> str:
    """``zip`` or ``tar`` by content (not by name)."""
    if zipfile.is_zipfile(path):
        return 'zip'
    if tarfile.is_tarfile(path):
        return 'tar'
    msg = f'{path} is neither a ZIP nor a tar archive'
    raise ArchiveError(msg)


def index_archive(
    path: Path,
    *,
    tags: Sequence[str] = DEFAULT_TAGS,
    atype: str | None = None,
    workers: int | None = None,
    digest: bool = False,
) -> ArchiveIndex:
    """Read every member of a ZIP or tar archive once.

    Parameters
    ----------
    path: Path
      The archive.
    tags: sequence of str
      DICOM keywords to record per DICOM file.
    atype: str, optional
      ``zip`` or ``tar``; detected from the content if not given.
    workers: int, optional
      Processes that index slices of a large ZIP in parallel (parsing DICOM
      headers is CPU-bound); default: the CPUs available. Tar archives are
      read sequentially.
    digest: bool
      Also hash the archive file itself (``md5``, ``size``), by a thread
      that reads it alongside the members, so that its bytes come from
      the disk once (not in a second pass after the indexing).

    Raises
    ------
    ArchiveError
      If the archive cannot be opened or read (corrupt, truncated, CRC
      error).
    """
    if not digest:
        return _index(path, tags, atype, workers)
    with ThreadPoolExecutor(1, thread_name_prefix='tcia-archive-md5') as pool:
        whole = pool.submit(file_md5, path)
        try:
            index = _index(path, tags, atype, workers)
        except BaseException:
            whole.cancel()
            raise
        try:
            index.md5, index.size = whole.result()
        except OSError as e:
            msg = f'cannot read archive {path.name}: {e}'
            raise ArchiveError(msg) from e
    return index


def _index(
    path: Path, tags: Sequence[str], atype: str | None, workers: int | None
) -> ArchiveIndex:
    atype = atype or archive_type(path)
    workers = available_cpus() if workers is None else workers
    if atype == 'zip' and workers > 1 and not _POOL_BROKEN:
        try:
            parallel = _index_zip_parallel(path, tags, workers)
        except BrokenProcessPool as e:
            # e.g. a __main__ that worker processes cannot re-import
            # (python -c, stdin); index in-process from now on
            lgr.debug('worker processes unavailable (%s), indexing in-process', e)
            _mark_pool_broken()
            parallel = None
        if parallel is not None:
            return parallel
    index = ArchiveIndex(atype=atype)
    seen: set[str] = set()
    try:
        for name, kind, size, fp in _iter_members(path, atype):
            if not _admit(name, kind, index.problems):
                continue
            _check_name(name, seen, index.problems)
            record = _index_member(name, size, fp, tags, index)
            index.members.append(record)
    except (
        zipfile.BadZipFile,
        tarfile.TarError,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
    ) as e:
        msg = f'cannot read {atype} archive {path.name}: {e}'
        raise ArchiveError(msg) from e
    return index


def _admit(name: str, kind: str, problems: list[str]) -> bool:
    """Whether a member is indexed: files are; directories are skipped;
    anything else (a symlink, a device) is noted in ``problems``. The one
    check of a member's kind, whichever indexing path runs."""
    if kind == 'file':
        return True
    if kind != 'directory':
        problems.append(f'member {name!r} is a {kind}, not a file')
    return False


def _zip_kind(info: zipfile.ZipInfo) -> str:
    """A ZIP member's kind, as datalad-next's ``iter_zip`` names it."""
    if info.is_dir():
        return 'directory'
    if stat.S_ISLNK(info.external_attr >> 16):
        return 'symlink'
    return 'file'


def _check_name(name: str, seen: set[str], problems: list[str]) -> None:
    """Note an unsafe or repeated member name in ``problems``."""
    reason = unsafe_member_name(name)
    if reason:
        problems.append(f'unsafe member name {name!r}: {reason}')
    if name in seen:
        problems.append(f'duplicate member name {name!r}')
    seen.add(name)


def _iter_members(
    path: Path, atype: str
) -> Iterator[tuple[str, str, int, IO[bytes] | None]]:
    if atype == 'zip':
        # datalad-next's iter_zip calls every non-directory a file; a ZIP's
        # symlinks are known by their Unix mode, as in the parallel path
        with zipfile.ZipFile(path) as zf:
            kinds = [_zip_kind(info) for info in zf.infolist()]
        items = iter_zip(path, fp=True)
    else:
        kinds = []
        items = iter_tar(path, fp=True)
    for n, item in enumerate(items):
        kind = (
            item.type.value
            if isinstance(item.type, FileSystemItemType)
            else str(item.type)
        )
        if n < len(kinds) and kind == 'file':
            kind = kinds[n]
        yield item.name, kind, int(item.size or 0), getattr(item, 'fp', None)


def _index_member(
    name: str,
    size: int,
    fp: IO[bytes] | None,
    tags: Sequence[str],
    index: ArchiveIndex,
) -> MemberRecord:
    digest = ContentHash()
    header: dict[str, Any] | None = None
    if fp is None:  # pragma: no cover - iterators give fp for files
        msg = f'no content for member {name!r}'
        raise ArchiveError(msg)
    if size <= IN_MEMORY_LIMIT:
        data = fp.read()
        digest.update(data)
        if name == LICENSE:
            index.license_text = data.decode('utf-8', 'replace')
        elif name == MD5_MANIFEST:
            index.md5_manifest = data.decode('utf-8', 'replace')
        else:
            header = read_header(data, tags)
    else:
        head = bytearray()
        while chunk := fp.read(_CHUNK):
            digest.update(chunk)
            if len(head) < HEAD_BYTES:
                head.extend(chunk[: HEAD_BYTES - len(head)])
        if name not in SPECIAL_MEMBERS:
            # mostly the header lies in the head; if not, pydicom reads it
            # from the (seekable) member again, stopping before the pixels
            header = read_header(fp, tags, head=bytes(head))
    return MemberRecord(
        path=name,
        size=digest.size,
        md5=digest.hexdigest(),
        dicom=header is not None,
        tags=header or {},
    )


# -- parallel indexing of large ZIP archives ---------------------------------

#: below this many members a ZIP is indexed in-process
PARALLEL_MIN_MEMBERS = 64

_POOL: ProcessPoolExecutor | None = None
_POOL_BROKEN = False
_POOL_LOCK = threading.Lock()


def _mark_pool_broken() -> None:
    global _POOL, _POOL_BROKEN  # noqa: PLW0603
    with _POOL_LOCK:
        _POOL_BROKEN = True
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _pool() -> ProcessPoolExecutor:
    """A process pool shared by all callers, created on first use.

    Workers come from a fork server (not ``fork``: the calling process may
    run threads, and forking those is unsafe), with this module preloaded,
    so starting them is cheap and they live for the session.
    """
    global _POOL  # noqa: PLW0603 - one pool per process, by design
    with _POOL_LOCK:
        if _POOL is None:
            ctx = multiprocessing.get_context('forkserver')
            ctx.set_forkserver_preload(['datalad_tcia.archive.members'])
            _POOL = ProcessPoolExecutor(max_workers=available_cpus(), mp_context=ctx)
        return _POOL


def _index_zip_parallel(
    path: Path, tags: Sequence[str], workers: int
) -> ArchiveIndex | None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        msg = f'cannot read zip archive {path.name}: {e}'
        raise ArchiveError(msg) from e
    count = len(infos)
    mean_size = sum(i.file_size for i in infos) / max(1, count)
    if count < PARALLEL_MIN_MEMBERS or mean_size > IN_MEMORY_LIMIT:
        # few or large members: I/O, not header parsing, is the cost
        return None
    # a few slices per worker balance uneven member sizes
    nslices = min(count, workers * 4)
    bounds = [count * i // nslices for i in range(nslices + 1)]
    pool = _pool()
    futures = [
        pool.submit(_index_zip_slice, str(path), bounds[i], bounds[i + 1], tuple(tags))
        for i in range(nslices)
    ]
    index = ArchiveIndex(atype='zip')
    seen: set[str] = set()
    for future in futures:
        part = future.result()
        for record in part.members:
            _check_name(record.path, seen, index.problems)
            index.members.append(record)
        index.problems.extend(part.problems)
        index.license_text = index.license_text or part.license_text
        index.md5_manifest = index.md5_manifest or part.md5_manifest
    return index


def _index_zip_slice(
    path: str, start: int, stop: int, tags: tuple[str, ...]
) -> ArchiveIndex:
    """Index members ``start:stop`` of a ZIP (runs in a worker process)."""
    part = ArchiveIndex(atype='zip')
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist()[start:stop]:
                if not _admit(info.filename, _zip_kind(info), part.problems):
                    continue
                with zf.open(info) as fp:
                    record = _index_member(
                        info.filename, info.file_size, fp, tags, part
                    )
                part.members.append(record)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        msg = f'cannot read zip archive {Path(path).name}: {e}'
        raise ArchiveError(msg) from e
    return part
