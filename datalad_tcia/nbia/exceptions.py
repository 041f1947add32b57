"""Typed errors of the NBIA REST client.

Every error raised by :class:`~datalad_tcia.nbia.client.NbiaClient` is an
:class:`NbiaError`. Errors about a specific HTTP exchange carry the URL and,
where one was received, the HTTP status code, so that command-level code can
turn them into result records that say what failed where.
"""

from __future__ import annotations

from datalad_tcia.http import HttpRequestError


class NbiaError(Exception):
    """Base class of all NBIA client errors."""


class ManifestError(NbiaError):
    """A ``.tcia`` manifest cannot be read.

    Parameters
    ----------
    path: str
      The manifest file.
    message: str
      What is wrong.
    line: int, optional
      1-based line number of the offending line.
    """

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(path, message, line)

    @property
    def path(self) -> str:
        return str(self.args[0])

    @property
    def message(self) -> str:
        return str(self.args[1])

    @property
    def line(self) -> int | None:
        line = self.args[2]
        return int(line) if line is not None else None

    def __str__(self) -> str:
        where = f'{self.path}, line {self.line}' if self.line else self.path
        return f'{where}: {self.message}'


class NbiaRequestError(NbiaError, HttpRequestError):
    """A request to the NBIA API failed (URL, message, HTTP status and
    attempts as in :class:`~datalad_tcia.http.HttpRequestError`)."""


class NbiaBadRequest(NbiaRequestError):
    """The server rejected the request (HTTP 400).

    NBIA v4 answers 400 for unknown or mis-cased query parameters and for
    missing required parameters. Retrying does not help.
    """


class NbiaAccessDenied(NbiaBadRequest):
    """NBIA refused a series: it does not exist or is not public.

    NBIA cannot tell the two apart: ``getImage`` on an unknown series answers
    400 with "The user has not been granted the access to image with given
    SeriesInstanceUID".
    """


class NbiaClientError(NbiaRequestError):
    """Any other 4xx answer (not retried)."""


class NbiaServerError(NbiaRequestError):
    """The server failed (5xx or 429) on every allowed attempt."""


class NbiaConnectionError(NbiaRequestError):
    """No (complete) response: connection refused or reset, timeout, or a
    truncated stream, on every allowed attempt."""


class NbiaProtocolError(NbiaRequestError):
    """The response is not what the API promises, e.g. non-JSON where JSON is
    expected."""


def client_error(url: str, text: str, status: int) -> NbiaRequestError:
    """The error of a 4xx answer other than 429.

    NBIA answers 400 both for a bad parameter and for a series that is
    unknown or not public; the text tells them apart.
    """
    if status == 400:
        if 'not been granted the access' in text or 'not in public domain' in text:
            return NbiaAccessDenied(url, text, status)
        return NbiaBadRequest(url, text, status)
    return NbiaClientError(url, text, status)
