"""``http/``: the retry discipline both clients share, against a loopback
server that fails on purpose."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from datalad_tcia.http import RetryPolicy, parse_retry_after, redact, split_credentials
from datalad_tcia.nbia import NbiaClient, NbiaServerError


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=5.0, jitter=0.5)
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        waits = [policy.delay(attempt) for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits), (attempt, waits[:3])
    # a server's Retry-After wins, never negative
    assert policy.delay(1, retry_after=7.5) == 7.5
    assert policy.delay(1, retry_after=-3) == 0.0
    assert RetryPolicy(jitter=0.0).delay(2) == 2.0


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after(' 12 ') == 12.0
    soon = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 < (parse_retry_after(format_datetime(soon, usegmt=True)) or 0) <= 30
    past = datetime.now(timezone.utc) - timedelta(days=1)
    assert parse_retry_after(format_datetime(past, usegmt=True)) == 0.0


def test_credentials_never_leave_in_a_url() -> None:
    url, auth = split_credentials('https://u:p%40ss@example.org/nbia-api')
    assert url == 'https://example.org/nbia-api'
    assert auth == ('u', 'p@ss')
    assert 'p%40ss' not in redact('https://u:p%40ss@example.org/x')


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 with Retry-After ``fails`` times, then an empty list."""

    fails = 0
    seen = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen += 1
        if type(self).seen <= type(self).fails:
            self.send_response(503)
            self.send_header('Retry-After', '0')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        body = b'[]'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def flaky() -> Iterator[type[_Flaky]]:
    handler = type('Flaky', (_Flaky,), {'fails': 0, 'seen': 0})
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    handler.url = f'http://127.0.0.1:{srv.server_address[1]}/nbia-api/services/v4'  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        srv.shutdown()
        srv.server_close()


def test_transient_failures_are_retried_within_bounds(flaky: type[_Flaky]) -> None:
    waits: list[float] = []
    flaky.fails = 2
    client = NbiaClient(
        flaky.url,  # type: ignore[attr-defined]
        retry=RetryPolicy(max_attempts=3, initial_delay=0.01),
        sleep=waits.append,
    )
    assert client.get_collection_values() == []
    assert flaky.seen == 3 and waits == [0.0, 0.0]  # Retry-After: 0
    # more failures than attempts: one clear error, no endless loop
    flaky.fails, flaky.seen = 10, 0
    with pytest.raises(NbiaServerError) as e:
        client.get_collection_values()
    assert flaky.seen == 3
    assert '503' in str(e.value)
