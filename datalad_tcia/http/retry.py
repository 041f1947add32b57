"""Bounded retries with exponential backoff and jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed request.

    A request is tried at most ``max_attempts`` times. Between attempts the
    client waits ``initial_delay * 2**(attempt - 1)`` seconds, capped at
    ``max_delay``, of which a random part (``jitter``, a fraction) is dropped
    so that parallel clients do not retry in lock-step. A server's
    ``Retry-After`` wins over the computed delay. No wait may end later than
    ``budget`` seconds after the first attempt started: a retry that would
    is not made.

    Parameters
    ----------
    max_attempts: int
      Attempts in total, the first included (1 disables retries).
    initial_delay: float
      Seconds to wait after the first failure.
    max_delay: float
      Upper bound of a single computed wait.
    budget: float
      Seconds from the first attempt after which no new attempt starts.
    jitter: float
      Fraction (0..1) of each computed wait that is randomised.
    """

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0
    budget: float = 300.0
    jitter: float = 0.5

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Parameters
        ----------
        attempt: int
          The attempt that just failed.
        retry_after: float, optional
          The server's ``Retry-After``, in seconds.
        """
        if retry_after is not None:
            return max(0.0, retry_after)
        base = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        # random.random is fine here: jitter is not security-relevant
        return base * (1.0 - self.jitter * random.random())  # noqa: S311


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header: delta-seconds or an HTTP date.

    >>> parse_retry_after('3')
    3.0
    >>> parse_retry_after(None) is None
    True
    >>> parse_retry_after('soon') is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
