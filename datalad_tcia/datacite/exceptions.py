"""Typed errors of the DataCite client."""

from __future__ import annotations

from datalad_tcia.http import HttpRequestError


class DataCiteError(HttpRequestError):
    """A DataCite request failed, or its answer is unusable (URL, message,
    HTTP status and attempts as in
    :class:`~datalad_tcia.http.HttpRequestError`)."""


class DataCiteConnectionError(DataCiteError):
    """No (complete) response on every allowed attempt."""


class DataCiteServerError(DataCiteError):
    """DataCite failed (5xx or 429) on every allowed attempt."""


class DataCiteClientError(DataCiteError):
    """A 4xx answer other than 429 (not retried; 404 is an unknown DOI)."""


class DataCiteProtocolError(DataCiteError):
    """The answer is not a JSON:API document."""
