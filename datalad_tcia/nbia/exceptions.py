"""Typed errors of the NBIA REST client.

Every error raised by :class:`~datalad_tcia.nbia.client.NbiaClient` is an
:class:`NbiaError`. Errors about a specific HTTP exchange carry the URL and,
where one was received, the HTTP status code, so that command-level code can
turn them into result records that say what failed where.
"""

from __future__ import annotations


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


class NbiaRequestError(NbiaError):
    """A request to the NBIA API failed.

    Parameters
    ----------
    url: str
      The requested URL (with query string).
    message: str, optional
      What went wrong, typically the server's response text.
    status_code: int, optional
      The HTTP status code, if a response was received.
    attempts: int, optional
      How many attempts were made before giving up.
    """

    def __init__(
        self,
        url: str,
        message: str | None = None,
        status_code: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(url, message, status_code, attempts)

    @property
    def url(self) -> str:
        return str(self.args[0])

    @property
    def message(self) -> str | None:
        return self.args[1]

    @property
    def status_code(self) -> int | None:
        return self.args[2]

    @property
    def attempts(self) -> int:
        return int(self.args[3])

    def __str__(self) -> str:
        parts = [f'{type(self).__name__}: {self.url}']
        if self.status_code is not None:
            parts.append(f'HTTP {self.status_code}')
        if self.message:
            parts.append(self.message.strip())
        if self.attempts > 1:
            parts.append(f'(after {self.attempts} attempts)')
        return ' '.join(parts)


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
