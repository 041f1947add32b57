"""Switchable faults of the look-alike server.

A test switches a fault on with :meth:`FaultPlan.add`; the server applies
the first matching fault to each request and counts it down. Kinds:

``status``
  Answer ``status`` (default 500) with NBIA's error text; for 429 and 503 a
  ``Retry-After`` of ``retry_after`` seconds is sent when given.
``reset``
  Close the connection without an answer (TCP reset).
``stall``
  Wait ``delay`` seconds before answering (client timeouts must fire).
``slow``
  Answer normally but wait ``delay`` seconds before every chunk.
``empty``
  HTTP 200 with an empty body.
``nonjson``
  HTTP 200 with an HTML page where JSON is expected.
``truncate``
  ``getImage``: stop after ``after_bytes`` bytes (default: before the ZIP's
  central directory) and drop the connection; with ``clean=True`` end the
  HTTP stream properly instead, leaving a short, unreadable ZIP.
``corrupt``
  ``getImage``: garble the ZIP's central directory.
``drop_member``
  ``getImage``: end the ZIP after one DICOM member too few, the way NBIA
  does when a file is missing on its side (no ``md5hashes.csv`` either,
  unless ``keep_md5=True``).
``extra_member``
  ``getImage``: add members ``members`` (a list of ``(name, bytes)``) after
  the DICOM files, e.g. names like ``../x``.
``bad_md5``
  ``getImage``: a wrong hash for the first DICOM member in
  ``md5hashes.csv``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {
        'status',
        'reset',
        'stall',
        'slow',
        'empty',
        'nonjson',
        'truncate',
        'corrupt',
        'drop_member',
        'extra_member',
        'bad_md5',
    }
)


@dataclass
class Fault:
    """One fault rule.

    Parameters
    ----------
    kind: str
      One of :data:`KINDS`.
    endpoint: str, optional
      Endpoint name (``getImage``, ``getSeries``, ``dois``...); any if
      ``None``.
    series_uid: str, optional
      Only requests for this SeriesInstanceUID.
    times: int, optional
      How many requests it hits; ``None`` for all.
    options: dict
      Kind-specific settings (``status``, ``retry_after``, ``delay``,
      ``after_bytes``, ``clean``, ``keep_md5``, ``members``).
    """

    kind: str
    endpoint: str | None = None
    series_uid: str | None = None
    times: int | None = 1
    options: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f'unknown fault kind {self.kind!r}, choose from {sorted(KINDS)}'
            raise ValueError(msg)

    def matches(self, endpoint: str, series_uid: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        return self.series_uid is None or self.series_uid == series_uid

    def get(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


class FaultPlan:
    """Thread-safe list of fault rules; the first match wins."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        endpoint: str | None = None,
        *,
        series_uid: str | None = None,
        times: int | None = 1,
        **options: Any,
    ) -> Fault:
        """Switch a fault on and return its rule (``rule.hits`` counts use)."""
        rule = Fault(kind, endpoint, series_uid, times, dict(options))
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Switch all faults off."""
        with self._lock:
            self._rules.clear()

    def take(self, endpoint: str, series_uid: str | None) -> Fault | None:
        """Return (and count) the fault to apply to a request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(endpoint, series_uid):
                    rule.hits += 1
                    return rule
        return None
