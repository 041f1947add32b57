"""The base of every error about one HTTP exchange."""

from __future__ import annotations


class HttpRequestError(Exception):
    """A request failed.

    Clients subclass it (together with their own base error) so that each
    API has its own exception types with one shape: the URL, the server's
    message, the HTTP status code and the number of attempts.

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
