"""IDC's buckets in the look-alike: S3 buckets named like IDC's, holding
the look-alike's files under their IDC keys (see :mod:`.idc_index`, which
writes the index).

The buckets are served by ``moto`` in server mode (an S3-compatible
server from PyPI: ListObjectsV2, GET with ``Range``, HEAD, MD5 ETags for
single-part uploads) on loopback, behind a thin layer that counts the
bytes sent (for the tests and benchmarks of what a ``get`` costs) and can
fail the listings (for the warning path). moto is a test dependency: it
is imported when a server starts.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

import requests

from .data import Archive
from .idc_index import BUCKET, instance_key

_RANGE = re.compile(r'bytes=(\d+)-(\d+)')
#: bytes per write when the link is paced
_PACE_CHUNK = 1 << 16


@dataclass
class S3Request:
    """One request the S3 look-alike answered."""

    method: str
    path: str
    query: str
    status: int
    bytes_sent: int = 0
    #: the ``Range`` header asked for, if any
    range: str | None = None


@dataclass
class S3Lookalike:
    """moto's S3 on loopback, counting what it sends.

    Attributes
    ----------
    fail_listings: int or None
      Answer every bucket listing with this HTTP status (e.g. 503, 403).
    fail_objects: int or None
      Answer every object GET with this HTTP status (IDC's files down).
    cut_ranges: int or None
      Answer a ``Range`` request with at most this many bytes (a valid
      ``206`` for a shorter range than asked, as a server may send).
    fail_keys: dict
      Object keys (``<series uuid>/<instance uuid>.dcm``) answering with
      the given HTTP status (one file of IDC's failing).
    latency: float
      Seconds every answer waits before its status line: a far server
      (IDC answers in tens of milliseconds), at no CPU cost.
    bandwidth: float or None
      Bytes per second that all bodies together may take (a shared link,
      e.g. 125e6 for 1 Gbit/s).
    """

    fail_listings: int | None = None
    fail_objects: int | None = None
    cut_ranges: int | None = None
    fail_keys: dict[str, int] = field(default_factory=dict)
    latency: float = 0.0
    bandwidth: float | None = None
    log: list[S3Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._link_free = 0.0

    def start(self) -> S3Lookalike:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any) -> None:
                pass

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            '127.0.0.1', 0, self._wrap(app), threaded=True, request_handler=Quiet
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> S3Lookalike:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f'http://{host}:{port}'

    def bytes_sent(self, method: str = 'GET') -> int:
        """Bytes of the bodies sent for ``method`` requests."""
        with self._lock:
            return sum(r.bytes_sent for r in self.log if r.method == method)

    def reset(self) -> None:
        """Clear the log and the faults."""
        with self._lock:
            self.log.clear()
        self.fail_listings = None
        self.fail_objects = None
        self.cut_ranges = None
        self.fail_keys = {}
        self.latency = 0.0
        self.bandwidth = None

    def _pace(self, n: int) -> None:
        """Wait until ``n`` more bytes fit the shared link."""
        if not self.bandwidth:
            return
        with self._lock:
            start = max(time.monotonic(), self._link_free)
            self._link_free = start + n / self.bandwidth
        wait = self._link_free - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def counting(
            environ: dict[str, Any], start_response: Callable
        ) -> Iterator[bytes]:
            method = environ['REQUEST_METHOD']
            query = environ.get('QUERY_STRING', '')
            path = environ.get('PATH_INFO', '')
            entry = S3Request(method, path, query, 0, range=environ.get('HTTP_RANGE'))
            with self._lock:
                self.log.append(entry)
            if self.latency:
                time.sleep(self.latency)
            listing = 'list-type=2' in query and path.strip('/').count('/') == 0
            failing = self.fail_listings if listing else self.fail_objects
            if not listing:
                key = path.strip('/').partition('/')[2]
                failing = self.fail_keys.get(key, failing)
            if failing and method == 'GET':
                entry.status = failing
                start_response(f'{failing} Failing', [('Content-Length', '0')])
                return iter([b''])
            asked = _RANGE.fullmatch(environ.get('HTTP_RANGE', ''))
            if self.cut_ranges and asked:
                first, last = int(asked[1]), int(asked[2])
                last = min(last, first + self.cut_ranges - 1)
                environ = {**environ, 'HTTP_RANGE': f'bytes={first}-{last}'}

            def start(status: str, headers: list, exc_info: Any = None) -> Any:
                entry.status = int(status.split(maxsplit=1)[0])
                return start_response(status, headers, exc_info)

            def body() -> Iterator[bytes]:
                result = app(environ, start)
                try:
                    for data in result:
                        if not self.bandwidth:
                            entry.bytes_sent += len(data)
                            yield data
                            continue
                        for pos in range(0, len(data), _PACE_CHUNK):
                            chunk = data[pos : pos + _PACE_CHUNK]
                            self._pace(len(chunk))
                            entry.bytes_sent += len(chunk)
                            yield chunk
                finally:
                    close = getattr(result, 'close', None)
                    if close is not None:
                        close()

            return body()

        return counting

    # -- content ---------------------------------------------------------------
    def create_bucket(self, bucket: str = BUCKET) -> None:
        resp = requests.put(
            f'{self.endpoint}/{bucket}',
            headers={'x-amz-acl': 'public-read'},
            timeout=30,
        )
        if resp.status_code == 409:  # there already (S3: BucketAlreadyOwnedByYou)
            return
        resp.raise_for_status()

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Upload in one part (public-read); returns the ETag."""
        resp = requests.put(
            f'{self.endpoint}/{bucket}/{key}',
            data=data,
            headers={'x-amz-acl': 'public-read'},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.headers['ETag'].strip('"')

    def put_multipart(self, bucket: str, key: str, data: bytes) -> str:
        """Upload as a one-part multipart upload: the ETag is no MD5."""
        url = f'{self.endpoint}/{bucket}/{key}'
        resp = requests.post(
            url + '?uploads', headers={'x-amz-acl': 'public-read'}, timeout=30
        )
        resp.raise_for_status()
        root = ET.fromstring(resp.content)  # noqa: S314 (our own server)
        upload = next(e.text for e in root.iter() if e.tag.endswith('UploadId'))
        part = requests.put(
            url, params={'partNumber': '1', 'uploadId': upload}, data=data, timeout=60
        )
        part.raise_for_status()
        body = (
            '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
            f'<ETag>{part.headers["ETag"]}</ETag></Part></CompleteMultipartUpload>'
        )
        done = requests.post(url, params={'uploadId': upload}, data=body, timeout=30)
        done.raise_for_status()
        head = requests.head(url, timeout=30)
        return head.headers['ETag'].strip('"')

    def fill(
        self,
        archive: Archive,
        *,
        bucket: str = BUCKET,
        skip: Iterable[str] = (),
        changed: Iterable[str] = (),
        multipart: Iterable[str] = (),
        version: int = 1,
        only: Iterable[str] | None = None,
    ) -> int:
        """Upload every file of ``archive`` under its IDC key (series in
        ``skip`` not at all, and with ``only`` only those; files whose
        SOPInstanceUID is in ``changed`` with other bytes, as if IDC had
        corrected them; those in ``multipart`` as multipart uploads), as
        ``version`` of each series. Returns the files uploaded."""
        self.create_bucket(bucket)
        skipped, altered, parts = set(skip), set(changed), set(multipart)
        chosen = set(only) if only is not None else None
        count = 0
        for series in archive.iter_idc_series():
            if series.uid in skipped or (
                chosen is not None and series.uid not in chosen
            ):
                continue
            for inst in series.instances:
                data = inst.data
                if inst.sop_uid in altered:
                    data = data + b'\0'
                key = instance_key(series, inst, version)
                if inst.sop_uid in parts:
                    self.put_multipart(bucket, key, data)
                else:
                    self.put(bucket, key, data)
                count += 1
        return count
