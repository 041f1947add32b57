"""Credentials never travel inside URLs that are kept.

NBIA v4 needs no login, but a user may still configure one: a bearer token
(``datalad.tcia.token``, e.g. for an NBIA deployment that wants one), or a
user name and password written into ``--api-url`` as
``https://user:password@host/...``. The clients send them with each
request and keep only the URL without them, so that no archive metadata,
registered git-annex URL, commit message, result record or log line ever
carries them.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its user information, and that information.

    >>> split_credentials('https://ann:s%40cret@host:8443/api?x=1')
    ('https://host:8443/api?x=1', ('ann', 's@cret'))
    >>> split_credentials('https://host/api')
    ('https://host/api', None)
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ''
    if ':' in host:  # an IPv6 literal
        host = f'[{host}]'
    netloc = f'{host}:{parts.port}' if parts.port else host
    clean = urlunsplit(parts._replace(netloc=netloc))
    return clean, (unquote(parts.username or ''), unquote(parts.password or ''))


def redact(url: str) -> str:
    """``url`` with any user information replaced by ``***``, for messages.

    >>> redact('https://ann:secret@host/api')
    'https://***@host/api'
    """
    clean, creds = split_credentials(url)
    if creds is None:
        return url
    scheme, _, rest = clean.partition('://')
    return f'{scheme}://***@{rest}'
