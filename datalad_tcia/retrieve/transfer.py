"""Many files at once: HTTP downloads across datasets, each verified
against its key, made present as git-annex would.

One asyncio event loop (aiohttp, one connection pool per run) keeps
``jobs`` requests in flight, as s5cmd keeps its workers busy; memory is
bounded by the number in flight (a body is held in memory up to 1 MiB,
larger ones spill to the temporary object file as they arrive) and by the
queue of keys waiting (twice ``jobs``). Hashing, writing and making an
object present run on a few worker threads, so that the event loop only
moves bytes; a small body (under 256 KiB) is stored on the loop itself,
where handing it to a thread would cost more than storing it. The keys
of a dataset are handed from the planning thread to the loop at once.
A key's URLs are tried in order (IDC's object, then NBIA's
``getSingleImage``);
a failed request is retried (connection errors, 5xx, 429) before the next
URL is tried; bytes that do not match the key are never kept. What no URL
delivers is reported back, for ``git annex get`` to try (and to explain).

aiohttp was chosen by measurement (``docs/source/using.rst``): on the S3
look-alike it moved files as fast as s5cmd with 16 to 256 connections,
where httpx reached half that.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from datalad_tcia._version import __version__
from datalad_tcia.formats.annex_content import annex_dirs
from datalad_tcia.http.retry import RetryPolicy, parse_retry_after

from .progress import Progress
from .sink import ContentMismatch, ContentSink
from .wanted import DatasetContent, WantedKey

lgr = logging.getLogger('datalad.tcia.retrieve.transfer')

#: requests in flight by default: enough for a link that answers in tens
#: of milliseconds (IDC from a cluster) and no slower on loopback
DEFAULT_JOBS = 128
#: bytes of a response kept in memory before they are written (a DICOM
#: file of a CT or MR is written once, whole)
SPILL = 1 << 20
#: threads that hash, write and store what arrived
STORE_THREADS = 4
#: bodies smaller than this are stored on the event loop's thread
INLINE = 1 << 18
TRANSFER_USER_AGENT = f'datalad-tcia/{__version__} aiohttp/{aiohttp.__version__}'
#: statuses worth another attempt of the same URL
_TRANSIENT = {429, 500, 502, 503, 504}


@dataclass
class KeyResult:
    """What became of one key.

    Attributes
    ----------
    content: DatasetContent
      The dataset it belongs to.
    wanted: WantedKey
      The key.
    url: str or None
      The URL its content came from (``None``: not fetched).
    errors: list of str
      What went wrong on the way, one line per URL tried.
    """

    content: DatasetContent
    wanted: WantedKey
    url: str | None
    errors: list[str]

    @property
    def ok(self) -> bool:
        """Whether the key's content is now present."""
        return self.url is not None


@dataclass(frozen=True)
class TransferSettings:
    """How a run fetches.

    Attributes
    ----------
    jobs: int
      Requests in flight.
    retry: RetryPolicy
      Attempts per URL (connection errors, 5xx, 429).
    connect_timeout, read_timeout: float
      Seconds to connect, and between two chunks of a response.
    """

    jobs: int = DEFAULT_JOBS
    retry: RetryPolicy = RetryPolicy(max_attempts=3, initial_delay=0.5, budget=60.0)
    connect_timeout: float = 30.0
    read_timeout: float = 60.0


def fetch_keys(
    batches: Iterable[DatasetContent],
    settings: TransferSettings,
    progress: Progress,
) -> list[KeyResult]:
    """Fetch the wanted keys of every dataset ``batches`` yields (the
    iterator is consumed in a thread of its own, so planning the next
    datasets overlaps the downloads of the first). Returns every key's
    result, in the order they finished."""
    return asyncio.run(_Run(settings, progress).run(batches))


class _Run:
    def __init__(self, settings: TransferSettings, progress: Progress) -> None:
        self.settings = settings
        self.progress = progress
        self.results: list[KeyResult] = []
        self.pool = ThreadPoolExecutor(STORE_THREADS)
        # fcntl locks do not exclude threads of one process
        # (one per repository; only the loop's thread adds to it)
        self._journals: dict[Path, threading.Lock] = {}

    async def run(self, batches: Iterable[DatasetContent]) -> list[KeyResult]:
        # datasets come from the feeder thread, one hand-over each; their
        # keys wait in a queue of the loop's own, at most ``2 * jobs``
        datasets: asyncio.Queue[DatasetContent | None] = asyncio.Queue(maxsize=1)
        keys: asyncio.Queue[tuple[DatasetContent, WantedKey] | None] = asyncio.Queue(
            maxsize=2 * self.settings.jobs
        )
        loop = asyncio.get_running_loop()
        feeder = threading.Thread(
            target=self._feed, args=(batches, datasets, loop), daemon=True
        )
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self.settings.connect_timeout,
            sock_read=self.settings.read_timeout,
        )
        connector = aiohttp.TCPConnector(limit=self.settings.jobs, limit_per_host=0)
        async with aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={'User-Agent': TRANSFER_USER_AGENT},
            auto_decompress=False,
        ) as session:
            self.session = session
            feeder.start()
            workers = [
                asyncio.create_task(self._worker(keys))
                for _ in range(self.settings.jobs)
            ]
            await asyncio.gather(self._unpack(datasets, keys), *workers)
        feeder.join()
        self.pool.shutdown()
        if self._feed_error is not None:
            raise self._feed_error
        return self.results

    _feed_error: BaseException | None = None

    def _feed(
        self,
        batches: Iterable[DatasetContent],
        datasets: asyncio.Queue,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        def put(item: DatasetContent | None) -> None:
            asyncio.run_coroutine_threadsafe(datasets.put(item), loop).result()

        try:
            for content in batches:
                if content.wanted:
                    annex_dirs(content.gitdir)
                    put(content)
        except BaseException as e:  # noqa: BLE001 - re-raised by run()
            self._feed_error = e
        finally:
            put(None)

    async def _unpack(self, datasets: asyncio.Queue, keys: asyncio.Queue) -> None:
        """Queue the keys of each dataset the feeder hands over; then one
        end mark per worker."""
        while (content := await datasets.get()) is not None:
            for wanted in content.wanted:
                await keys.put((content, wanted))
        for _ in range(self.settings.jobs):
            await keys.put(None)

    async def _worker(self, keys: asyncio.Queue) -> None:
        while (item := await keys.get()) is not None:
            content, wanted = item
            result = await self._fetch(content, wanted)
            self.results.append(result)
            self.progress.done(result)

    async def _fetch(self, content: DatasetContent, wanted: WantedKey) -> KeyResult:
        errors: list[str] = []
        for url in wanted.urls:
            try:
                await self._download(url, content, wanted)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                errors.append(f'{url}: {_describe(e)}')
                continue
            except ContentMismatch as e:
                errors.append(f'{url}: {e}')
                continue
            except OSError as e:
                errors.append(f'storing {wanted.key} failed: {e}')
                return KeyResult(content, wanted, None, errors)
            except Exception as e:  # noqa: BLE001 - one key's, for git-annex to retry
                errors.append(f'{url}: {_describe(e)}')
                continue
            return KeyResult(content, wanted, url, errors)
        if not wanted.urls:
            errors.append('no URL known for it in this dataset')
        return KeyResult(content, wanted, None, errors)

    async def _download(
        self, url: str, content: DatasetContent, wanted: WantedKey
    ) -> None:
        """``url``'s content made present, retried, and checked."""
        policy = self.settings.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._attempt(url, content, wanted)
            except _Retryable as e:
                wait = policy.delay(attempt, e.retry_after)
                spent = time.monotonic() - started
                if attempt >= policy.max_attempts or spent + wait > policy.budget:
                    raise aiohttp.ClientResponseError(
                        e.request_info, (), status=e.status, message=e.message
                    ) from e
                await asyncio.sleep(wait)
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                if attempt >= policy.max_attempts:
                    raise
                await asyncio.sleep(policy.delay(attempt))
            else:
                return

    async def _attempt(
        self, url: str, content: DatasetContent, wanted: WantedKey
    ) -> None:
        """One GET of ``url``: the body is kept in memory up to
        :data:`SPILL` bytes at a time; a :class:`ContentSink` hashes it,
        writes it to the temporary object file and, once whole and matching
        the key, makes it present (on a worker thread, or on the loop for a
        body under :data:`INLINE` bytes)."""
        loop = asyncio.get_running_loop()
        journal = self._journals.setdefault(content.gitdir, threading.Lock())
        sink = ContentSink(content, wanted, journal)
        try:
            async with self.session.get(url) as resp:
                if resp.status in _TRANSIENT:
                    raise _Retryable(resp)
                if resp.status != 200:  # noqa: PLR2004
                    raise aiohttp.ClientResponseError(
                        resp.request_info,
                        (),
                        status=resp.status,
                        message=resp.reason or '',
                    )
                await self._stream(resp, sink, loop)
            if sink.fh is None and sink.buffered < INLINE:
                sink.store()
            else:
                await loop.run_in_executor(self.pool, sink.store)
        except BaseException:
            sink.discard()
            raise

    async def _stream(
        self,
        resp: aiohttp.ClientResponse,
        sink: ContentSink,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """A body of unknown or large size, written as it arrives."""
        async for chunk in resp.content.iter_any():
            sink.add(chunk)
            self.progress.received(len(chunk))
            if sink.received > sink.wanted.size:
                break
            if sink.buffered >= SPILL:
                await loop.run_in_executor(self.pool, sink.flush)


class _Retryable(Exception):  # noqa: N818 - internal signal, not an error type
    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        super().__init__(resp.status)
        self.request_info = resp.request_info
        self.status = resp.status
        self.message = resp.reason or ''
        self.retry_after = parse_retry_after(resp.headers.get('Retry-After'))


def _describe(e: BaseException) -> str:
    if isinstance(e, aiohttp.ClientResponseError):
        return f'HTTP {e.status} {e.message}'.strip()
    if isinstance(e, asyncio.TimeoutError):
        return 'timed out'
    return f'{type(e).__name__}: {e}'
