"""The synthetic collection of ``bench_consumer.py``: a metadata records
shaped like a real collection whose files have IDC URLs, and the servers
of their objects (the S3 look-alike, or a static server that makes each
object's bytes from its name)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_collection import Shape
from bench_collection import write_records as bench_write_records
from tcia_lookalike.idc import S3Lookalike

API = 'http://127.0.0.1:9/nbia-api/services/v4'
COLLECTION = 'BENCH-Consumer'
BUCKET = 'idc-open-data'
#: LIDC-IDRI's mean file size (130 GB in 244,527 files)
FILE_SIZE = 531_000
BLOCK = hashlib.sha256(b'datalad-tcia').digest() * (FILE_SIZE // 32 + 1)


def content(name: str, size: int) -> bytes:
    """The bytes of object ``name``: a common block, then its name."""
    tail = name.encode()
    return BLOCK[: size - len(tail)] + tail


class Quiet(http.server.SimpleHTTPRequestHandler):
    """A static file server that keeps connections open (HTTP/1.1)."""

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args: object) -> None:
        pass


class Objects(http.server.BaseHTTPRequestHandler):
    """IDC's bucket, path-style: ``/<bucket>/<series>/<instance>-<size>.dcm``."""

    protocol_version = 'HTTP/1.1'
    served = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        name = self.path.rsplit('/', 1)[-1]
        try:
            size = _size_of(name)
        except (IndexError, ValueError):
            self.send_error(404)
            return
        data = content(self.path, size)
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Content-Type', 'application/dicom')
        self.end_headers()
        self.wfile.write(data)
        type(self).served += 1

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(handler: type | partial) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_records(store: Path, shape: Shape, n: int, objects: str) -> list[str]:
    """The metadata records of the first ``n`` patients of ``shape``
    (``bench_collection``'s writer), every file with its IDC URL on
    ``objects`` and the size and MD5 of the object there; returns every
    IDC URL."""
    urls = []

    def facts(series_uid: str, f: int) -> dict[str, Any]:
        size = FILE_SIZE + f % 1000
        path = f'/{BUCKET}/{series_uid}/{f + 1}-{size}.dcm'
        urls.append(objects + path)
        return {
            'size': size,
            'md5': hashlib.md5(content(path, size)).hexdigest(),
            'idc_url': objects + path,
        }

    for _ in bench_write_records(
        store, shape, n, collection=COLLECTION, api=API, file_facts=facts
    ):
        pass
    return urls


def fill_s3(s3: S3Lookalike, urls: list[str]) -> None:
    """Upload the object of every URL (path ``/<bucket>/<key>``)."""
    buckets = {urlsplit(u).path.split('/')[1] for u in urls}
    for bucket in buckets:
        s3.create_bucket(bucket)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda u: s3.put(
                    *urlsplit(u).path[1:].split('/', 1),
                    content(urlsplit(u).path, _size_of(u)),
                ),
                urls,
            )
        )


def _size_of(url: str) -> int:
    return int(url.rsplit('-', 1)[1].split('.', maxsplit=1)[0])
