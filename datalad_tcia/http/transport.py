"""HTTP requests with bounded retries, shared by the NBIA and DataCite
clients; each client raises its own exception types."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter

from datalad_tcia._version import __version__

from .exceptions import HttpRequestError
from .retry import RetryPolicy, parse_retry_after

lgr = logging.getLogger('datalad.tcia.http.transport')

USER_AGENT = f'datalad-tcia/{__version__} python-requests/{requests.__version__}'

# transport-level failures worth another attempt
TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class ErrorTypes:
    """The exception types a client raises.

    Attributes
    ----------
    connection: type
      No (complete) response on every allowed attempt.
    server: type
      5xx or 429 on every allowed attempt.
    client: callable
      ``(url, text, status) -> exception`` for any other 4xx (never
      retried); a client may tell 400s apart by their text.
    """

    connection: type[HttpRequestError]
    server: type[HttpRequestError]
    client: Callable[[str, str, int], HttpRequestError]


class Attempts:
    """Attempt count and start time shared by all retries of one call."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = 0
        self.started = clock()


class RetryingClient:
    """Base of the REST clients: a session, a retry policy, timeouts.

    Subclasses set :attr:`errors`, the exception types they raise.

    Parameters
    ----------
    retry: RetryPolicy, optional
      Retry discipline for connection errors, timeouts, 429 and 5xx.
    timeout: tuple of float
      Connect and read timeouts in seconds.
    session: requests.Session, optional
      Session to use (one is created otherwise).
    sleep: callable
      How to wait between attempts (tests pass a recorder).
    clock: callable
      The monotonic clock the retry budget is measured with (tests pass
      one that only :obj:`sleep` advances).
    auth: tuple of str, optional
      User name and password for HTTP basic authentication.
    token: str, optional
      Bearer token sent as ``Authorization`` (wins over ``auth``).
      ``requests`` drops it when a redirect leaves the host.
    """

    errors: ClassVar[ErrorTypes]

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (30.0, 120.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        auth: tuple[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16)
            session.mount('http://', adapter)
            session.mount('https://', adapter)
        session.headers['User-Agent'] = USER_AGENT
        if token:
            session.headers['Authorization'] = f'Bearer {token}'
        elif auth:
            session.auth = auth
        self.session = session

    def attempts(self) -> Attempts:
        """A fresh attempt count for one call, on this client's clock."""
        return Attempts(self._clock)

    def _send(
        self,
        method: str,
        url: str,
        shown: str,
        req_kwargs: dict[str, Any],
        stream: bool = False,
        attempts: Attempts | None = None,
    ) -> requests.Response:
        """Send a request, retrying transient failures.

        Returns a response with a status below 400.

        Raises
        ------
        HttpRequestError
          Of the types in :attr:`errors`: ``connection`` or ``server`` when
          every allowed attempt failed, ``client`` on a 4xx other than 429
          (never retried).
        """
        attempts = attempts or self.attempts()
        while True:
            attempts.count += 1
            attempt = attempts.count
            retry_after: float | None = None
            try:
                resp = self.session.request(
                    method,
                    url,
                    timeout=self.timeout,
                    stream=stream,
                    **req_kwargs,
                )
            except TRANSIENT as e:
                err = self.errors.connection(shown, str(e), None, attempt)
                cause: BaseException | None = e
            else:
                if resp.status_code < 400:
                    return resp
                text = _short_text(resp)
                resp.close()
                if resp.status_code == 429 or resp.status_code >= 500:
                    retry_after = parse_retry_after(resp.headers.get('Retry-After'))
                    err = self.errors.server(shown, text, resp.status_code, attempt)
                    cause = None
                else:
                    raise self.errors.client(shown, text, resp.status_code)
            if not self._may_retry(attempts, retry_after, err):
                raise err from cause

    def _may_retry(
        self,
        attempts: Attempts,
        retry_after: float | None,
        err: HttpRequestError,
    ) -> bool:
        """Sleep before the next attempt and return True, or return False."""
        policy = self.retry
        attempt = attempts.count
        if attempt >= policy.max_attempts:
            return False
        wait = policy.delay(attempt, retry_after)
        if self._clock() + wait - attempts.started > policy.budget:
            lgr.debug('retry budget exhausted after %d attempts: %s', attempt, err)
            return False
        lgr.debug('attempt %d failed (%s), retrying in %.2fs', attempt, err, wait)
        self._sleep(wait)
        return True


def _short_text(resp: requests.Response, limit: int = 500) -> str:
    try:
        text = resp.text
    except TRANSIENT:
        return ''
    return text.strip()[:limit]
