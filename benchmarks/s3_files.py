"""An S3 look-alike of a look-alike archive's files, for benchmarks at
collection scale: ListObjectsV2 (paged, MD5 ETags), GET and HEAD with
``Range``, path-style, counting the bytes it sends.

moto (the tests' S3 server) keeps every object in memory; a LIDC-IDRI-
shaped collection of 100 patients is 12.7 GB. Here the objects are the
archive's instances, whose pixel data is one shared block: nothing is
stored, bytes are sliced from the instance's parts as they are sent.
Object keys are IDC's (:func:`~tcia_lookalike.idc_index.instance_key`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from tcia_lookalike.data import Archive, Instance
from tcia_lookalike.idc_index import BUCKET, instance_key

_RANGE = re.compile(r'bytes=(\d+)-(\d*)')


class Objects:
    """The archive's files under their IDC keys, and what was sent."""

    def __init__(self, archive: Archive, bucket: str = BUCKET) -> None:
        self.bucket = bucket
        self.by_key: dict[str, Instance] = {}
        for series in archive.iter_idc_series():
            for inst in series.instances:
                self.by_key[instance_key(series, inst)] = inst
        self.keys = sorted(self.by_key)
        self.sent = 0
        self.requests = 0
        self.lock = threading.Lock()
        #: seconds added to every answer (a real link's round trip)
        self.delay = 0.0

    def count(self, n: int) -> None:
        with self.lock:
            self.sent += n

    def listing(self, prefix: str, token: str | None, max_keys: int) -> bytes:
        import bisect

        start = bisect.bisect_left(self.keys, token or prefix)
        page, nxt = [], None
        for key in self.keys[start:]:
            if not key.startswith(prefix):
                break
            if len(page) == max_keys:
                nxt = key
                break
            page.append(key)
        items = ''.join(
            f'<Contents><Key>{escape(k)}</Key><Size>{self.by_key[k].size}</Size>'
            f'<ETag>&quot;{self.by_key[k].md5}&quot;</ETag>'
            '<LastModified>2026-09-26T00:00:00.000Z</LastModified>'
            '<StorageClass>STANDARD</StorageClass></Contents>'
            for k in page
        )
        more = (
            f'<IsTruncated>true</IsTruncated><NextContinuationToken>{escape(nxt)}'
            '</NextContinuationToken>'
            if nxt
            else '<IsTruncated>false</IsTruncated>'
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f'<Name>{self.bucket}</Name><Prefix>{escape(prefix)}</Prefix>'
            f'<KeyCount>{len(page)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>'
            f'{more}{items}</ListBucketResult>'
        ).encode()


def _slices(inst: Instance, first: int, last: int) -> Iterator[bytes]:
    """Bytes ``first``..``last`` of an instance, part by part."""
    pos = 0
    for part in inst.parts:
        end = pos + len(part)
        if end > first and pos <= last:
            yield part[max(0, first - pos) : min(len(part), last + 1 - pos)]
        pos = end


def handler(objects: Objects) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # headers and body go out in separate writes: without this, Nagle
        # and delayed ACKs hold each keep-alive response for 40 ms
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)
                objects.count(len(body))

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            with objects.lock:
                objects.requests += 1
            url = urlsplit(self.path)
            if url.path == '/__stats':
                stats = {'bytes': objects.sent, 'requests': objects.requests}
                self._send(200, json.dumps(stats).encode(), 'application/json')
                return
            if objects.delay:
                time.sleep(objects.delay)
            bucket, _, key = unquote(url.path).lstrip('/').partition('/')
            if bucket != objects.bucket:
                self._send(404, b'<Error><Code>NoSuchBucket</Code></Error>', 'text/xml')
                return
            if not key:
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = objects.listing(
                    q.get('prefix', ''),
                    q.get('continuation-token'),
                    int(q.get('max-keys', '1000')),
                )
                self._send(200, body, 'application/xml')
                return
            inst = objects.by_key.get(key)
            if inst is None:
                self._send(404, b'<Error><Code>NoSuchKey</Code></Error>', 'text/xml')
                return
            first, last, status = 0, inst.size - 1, 200
            asked = _RANGE.fullmatch(self.headers.get('Range', ''))
            if asked:
                first = int(asked[1])
                last = min(inst.size - 1, int(asked[2]) if asked[2] else inst.size - 1)
                status = 206
            self.send_response(status)
            self.send_header('Content-Type', 'application/dicom')
            self.send_header('Content-Length', str(last - first + 1))
            self.send_header('ETag', f'"{inst.md5}"')
            self.send_header('Accept-Ranges', 'bytes')
            if status == 206:
                self.send_header('Content-Range', f'bytes {first}-{last}/{inst.size}')
            self.end_headers()
            if self.command == 'HEAD':
                return
            for chunk in _slices(inst, first, last):
                self.wfile.write(chunk)
                objects.count(len(chunk))

    return Handler


@contextmanager
def serve(archive: Archive) -> Iterator[tuple[str, Objects]]:
    """Serve ``archive``'s files on loopback; yields the endpoint and the
    counters."""
    objects = Objects(archive)
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler(objects))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}', objects
    finally:
        server.shutdown()
        server.server_close()
