"""A TCIA look-alike: NBIA v4 REST and DataCite on a loopback HTTP server.

It is a real server (git-annex fetches from separate processes, so an
in-process mock could not serve it). Paths mirror the real services:

- ``<url>/nbia-api/services/v4/<endpoint>`` (also ``/nbia-api/v4/...``)
- ``<url>/dois/<doi>`` (DataCite JSON:API)

Use it as a context manager::

    with LookalikeServer() as srv:
        client = NbiaClient(srv.api_url)
        srv.faults.add('status', 'getImage', status=500)
        ...
        srv.requests('getImage')  # what reached the server
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from .data import Archive
from .datacite import NOT_FOUND, datacite_records
from .faults import Fault, FaultPlan
from .holdings import build_default_archive
from .nbia_api import ERROR_500, Quirks, Reply, handle
from .zipstream import ChunkSink, Truncated, write_series_zip

lgr = logging.getLogger('datalad.tcia.lookalike')

API_PATHS = ('/nbia-api/services/v4/', '/nbia-api/v4/')


@dataclass
class LoggedRequest:
    """One request as the server saw it."""

    method: str
    endpoint: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    user_agent: str | None
    authorization: str | None = None
    fault: str | None = None
    status: int | None = None
    bytes_sent: int = 0
    time: float = field(default_factory=time.time)

    @property
    def series_uid(self) -> str | None:
        return self.query.get('SeriesInstanceUID') or self.form.get('SeriesInstanceUID')


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    lookalike: LookalikeServer

    def handle_error(self, request: object, client_address: object) -> None:
        # a client that hangs up mid-answer is normal here (timeouts,
        # faults); keep it out of stderr, but keep it for inspection
        exc = sys.exc_info()[1]
        lgr.debug('error answering %s: %r', client_address, exc)
        if exc is not None:
            self.lookalike.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        lgr.debug('%s %s', self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch('GET')

    def do_POST(self) -> None:
        self._dispatch('POST')

    def do_HEAD(self) -> None:
        # answered like GET, without a body (as Jersey does)
        self._dispatch('GET')

    # -- dispatch -------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        srv = self.server.lookalike
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if method == 'POST':
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length).decode('utf-8', 'replace')
            form = parse_qs(body, keep_blank_values=True)
        endpoint, arg = _route(parts.path)
        entry = LoggedRequest(
            method=self.command,
            endpoint=endpoint,
            path=self.path,
            query={k: v[0] for k, v in query.items()},
            form={k: v[0] for k, v in form.items()},
            user_agent=self.headers.get('User-Agent'),
            authorization=self.headers.get('Authorization'),
        )
        srv._log(entry)
        fault = srv.faults.take(endpoint, entry.series_uid)
        entry.fault = fault.kind if fault else None
        try:
            self._answer(srv, method, endpoint, arg, query, form, fault, entry)
        except (BrokenPipeError, ConnectionResetError):
            # the client went away; nothing to answer
            self.close_connection = True

    def _answer(
        self,
        srv: LookalikeServer,
        method: str,
        endpoint: str,
        arg: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        fault: Fault | None,
        entry: LoggedRequest,
    ) -> None:
        kind = fault.kind if fault else None
        if fault is not None and kind == 'stall':
            srv._stopping.wait(float(fault.get('delay', 30.0)))
        if kind == 'reset':
            self._reset()
            return
        if fault is not None and kind == 'status':
            status = int(fault.get('status', 500))
            headers = {}
            if fault.get('retry_after') is not None:
                headers['Retry-After'] = str(fault.get('retry_after'))
            text = ERROR_500 if status >= 500 else 'Too Many Requests'
            reply = Reply(status, text.encode(), 'text/plain', headers)
        elif kind == 'empty':
            reply = Reply(200, b'', None)
        elif kind == 'nonjson':
            reply = Reply(
                200,
                b'<html><head><title>502 Bad Gateway</title></head>'
                b'<body><center><h1>502 Bad Gateway</h1></center></body></html>',
                'text/html',
            )
        elif endpoint == 'dois':
            reply = srv._datacite(arg)
        elif endpoint and method in ('GET', 'POST'):
            reply = handle(srv.archive, endpoint, method, query, form, srv.quirks)
        else:
            reply = Reply(404, b'Not Found', 'text/plain')
        entry.status = reply.status
        if reply.stream is not None:
            self._stream(srv, reply, fault, entry)
        else:
            if kind == 'slow':
                srv._stopping.wait(float(fault.get('delay', 1.0)) if fault else 0)
            self._send(reply)
            entry.bytes_sent = len(reply.body)

    # -- responses ------------------------------------------------------------
    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header('Content-Type', reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(reply.body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(reply.body)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST instead of a FIN
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)
        )
        self.close_connection = True

    def _stream(
        self,
        srv: LookalikeServer,
        reply: Reply,
        fault: Fault | None,
        entry: LoggedRequest,
    ) -> None:
        if reply.stream is None:  # pragma: no cover - caller checks
            return
        self.send_response(200)
        if reply.content_type:
            self.send_header('Content-Type', reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        # built on the fly: no Content-Length
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        if self.command == 'HEAD':
            return

        def send(chunk: bytes) -> None:
            self.wfile.write(b'%X\r\n%s\r\n' % (len(chunk), chunk))

        pause = None
        if fault is not None and fault.kind == 'slow':
            delay = float(fault.get('delay', 1.0))

            def pause() -> None:
                srv._stopping.wait(delay)

        limit = None
        if fault is not None and fault.kind == 'truncate':
            limit = fault.get('after_bytes')
        sink = ChunkSink(send, limit=limit, pause=pause)
        try:
            with warnings.catch_warnings():
                # duplicate member names are a fault we inject on purpose
                warnings.simplefilter('ignore')
                write_series_zip(
                    reply.stream,
                    sink,
                    when=srv._archive_time(),
                    fault=fault,
                    **reply.stream_options,
                )
        except Truncated:
            entry.bytes_sent = sink.sent
            if fault is not None and fault.get('clean'):
                self.wfile.write(b'0\r\n\r\n')
            else:
                # end without the terminating chunk: the client sees a
                # broken transfer
                self.close_connection = True
            return
        self.wfile.write(b'0\r\n\r\n')
        entry.bytes_sent = sink.sent


def _route(path: str) -> tuple[str, str]:
    """Return (endpoint, argument) for a request path."""
    for prefix in API_PATHS:
        if path.startswith(prefix):
            return path[len(prefix) :].strip('/'), ''
    if path.startswith('/dois/'):
        return 'dois', unquote(path[len('/dois/') :])
    return '', ''


class LookalikeServer:
    """NBIA v4 and DataCite look-alike on ``127.0.0.1`` (a free port).

    Parameters
    ----------
    archive: Archive, optional
      What to serve; :func:`build_default_archive` if not given.
    host: str
      Address to bind.
    port: int
      Port; 0 picks a free one.
    quirks: Quirks
      Optional deviations (e.g. numbers rendered as strings).
    """

    def __init__(
        self,
        archive: Archive | None = None,
        *,
        host: str = '127.0.0.1',
        port: int = 0,
        quirks: Quirks | None = None,
    ) -> None:
        self.archive = archive or build_default_archive()
        self.quirks = quirks or Quirks()
        self.faults = FaultPlan()
        self._host = host
        self._port = port
        self._log_entries: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._zip_counter = 0
        #: exceptions raised while answering (for tests to inspect)
        self.errors: list[BaseException] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> LookalikeServer:
        """Bind and serve in a daemon thread."""
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.lookalike = self
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, name='tcia-lookalike', daemon=True
        )
        self._thread.start()
        lgr.debug('look-alike serving at %s', self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LookalikeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            msg = 'server is not running'
            raise RuntimeError(msg)
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:40123``."""
        return f'http://{self._host}:{self.port}'

    @property
    def api_url(self) -> str:
        """NBIA v4 base URL."""
        return f'{self.url}/nbia-api/services/v4'

    @property
    def datacite_url(self) -> str:
        """DataCite REST base URL."""
        return self.url

    # -- inspection -----------------------------------------------------------
    def requests(
        self, endpoint: str | None = None, series_uid: str | None = None
    ) -> list[LoggedRequest]:
        """Logged requests, optionally only those of one endpoint/series."""
        with self._lock:
            entries = list(self._log_entries)
        return [
            e
            for e in entries
            if (endpoint is None or e.endpoint == endpoint)
            and (series_uid is None or e.series_uid == series_uid)
        ]

    def reset(self) -> None:
        """Switch faults off and clear the request log."""
        self.faults.clear()
        with self._lock:
            self._log_entries.clear()

    # -- internals ------------------------------------------------------------
    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log_entries.append(entry)

    def _archive_time(self) -> datetime:
        # NBIA stamps entries with the current time; step two seconds (the
        # ZIP time resolution) per archive so that no two are identical
        with self._lock:
            self._zip_counter += 1
            n = self._zip_counter
        return datetime.now().replace(microsecond=0) + timedelta(seconds=2 * n)

    def _datacite(self, doi: str) -> Reply:
        records = datacite_records(self.archive)
        doc = records.get(doi.strip('/').lower())
        if doc is None:
            return Reply(
                404, json.dumps(NOT_FOUND).encode(), 'application/vnd.api+json'
            )
        return Reply(200, json.dumps(doc).encode(), 'application/vnd.api+json')
