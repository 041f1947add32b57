"""IDC's buckets without credentials: list a series' objects (S3
ListObjectsV2, paged) and read an object, with the retry discipline of
the other clients.

URLs are path-style, ``<endpoint>/<bucket>/<key>``, as idc-index and
s5cmd use them against ``https://s3.amazonaws.com``.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from datalad_tcia.http import ErrorTypes, HttpRequestError, RetryingClient, RetryPolicy
from datalad_tcia.store.hashing import ContentHash

lgr = logging.getLogger('datalad.tcia.idc.s3')

DEFAULT_ENDPOINT = 'https://s3.amazonaws.com'

_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(\d+|\*)')


class IdcListingError(HttpRequestError):
    """IDC's bucket could not be read (offline, 403, 5xx after retries,
    an answer that is no listing)."""


class IdcConnectionError(IdcListingError):
    """No (complete) response on every allowed attempt."""


class IdcServerError(IdcListingError):
    """5xx or 429 on every allowed attempt."""


class IdcClientError(IdcListingError):
    """A 4xx answer other than 429 (403: not public, 404: no bucket)."""


@dataclass(frozen=True)
class S3Object:
    """One object of a listing.

    Attributes
    ----------
    key: str
      ``<crdc_series_uuid>/<crdc_instance_uuid>.dcm``.
    size: int
      Bytes.
    etag: str
      The ETag without quotes.
    """

    key: str
    size: int
    etag: str

    @property
    def md5(self) -> str | None:
        """The MD5 (hex) the ETag is, for an object uploaded in one part; a
        multipart upload's ETag (``<hex>-<parts>``) is none.

        >>> S3Object('a', 1, '9e107d9d372bb6826bd81d3542a419d6').md5
        '9e107d9d372bb6826bd81d3542a419d6'
        >>> S3Object('a', 1, '9e107d9d372bb6826bd81d3542a419d6-2').md5 is None
        True
        """
        tag = self.etag.lower()
        if len(tag) == 32 and all(c in '0123456789abcdef' for c in tag):
            return tag
        return None


def _client_error(url: str, text: str, status: int) -> HttpRequestError:
    return IdcClientError(url, text, status)


def _local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit('}', 1)[-1]


class S3Client(RetryingClient):
    """Anonymous reads of S3-compatible buckets (IDC's, or a test server).

    Parameters
    ----------
    endpoint: str
      ``https://s3.amazonaws.com`` or any S3-compatible endpoint.
    page_size: int, optional
      Keys per listing page (``max-keys``; S3's default, 1,000, if not
      given).
    """

    errors = ErrorTypes(IdcConnectionError, IdcServerError, _client_error)

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (30.0, 120.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        page_size: int | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {'sleep': sleep} if sleep is not None else {}
        super().__init__(retry=retry, timeout=timeout, session=session, **kwargs)
        self.endpoint = endpoint.rstrip('/')
        self.page_size = page_size

    def object_url(self, bucket: str, key: str) -> str:
        """The path-style HTTPS URL of an object."""
        return f'{self.endpoint}/{bucket}/{quote(key)}'

    def list_prefix(self, bucket: str, prefix: str) -> list[S3Object]:
        """Every object under ``prefix`` (all pages).

        Raises
        ------
        IdcListingError
        """
        url = f'{self.endpoint}/{bucket}'
        objects: list[S3Object] = []
        token: str | None = None
        while True:
            params = {'list-type': '2', 'prefix': prefix}
            if self.page_size:
                params['max-keys'] = str(self.page_size)
            if token:
                params['continuation-token'] = token
            resp = self._send('GET', url, url, {'params': params})
            page, token = self._parse(url, resp.content)
            objects.extend(page)
            if not token:
                return objects

    def _parse(self, url: str, body: bytes) -> tuple[list[S3Object], str | None]:
        try:
            root = ET.fromstring(body)  # noqa: S314 (expat refuses entity bombs)
        except ET.ParseError as e:
            raise IdcClientError(url, f'not a bucket listing: {e}', 200) from e
        if _local(root.tag) != 'ListBucketResult':
            raise IdcClientError(url, f'not a bucket listing: <{root.tag}>', 200)
        objects = []
        truncated = False
        token = None
        for child in root:
            name = _local(child.tag)
            if name == 'Contents':
                fields = {_local(c.tag): (c.text or '') for c in child}
                objects.append(
                    S3Object(
                        fields.get('Key', ''),
                        int(fields.get('Size') or 0),
                        fields.get('ETag', '').strip('"'),
                    )
                )
            elif name == 'IsTruncated':
                truncated = (child.text or '').strip().lower() == 'true'
            elif name == 'NextContinuationToken':
                token = child.text
        if truncated and not token:
            raise IdcClientError(url, 'a truncated listing without a next token', 200)
        return objects, token if truncated else None

    def series_objects(self, bucket: str, series_uuid: str) -> list[S3Object]:
        """The instance objects of a version of a series: only
        ``<series_uuid>/<name>.dcm`` directly under the prefix counts (a
        listing is input too).

        Raises
        ------
        IdcListingError
        """
        prefix = f'{series_uuid}/'
        return [
            o
            for o in self.list_prefix(bucket, prefix)
            if o.key.startswith(prefix)
            and o.key.endswith('.dcm')
            and '/' not in o.key[len(prefix) :]
        ]

    def read_range(
        self, bucket: str, key: str, start: int, end: int
    ) -> tuple[bytes, bool]:
        """Bytes ``start`` to ``end`` (inclusive) of an object (HTTP
        ``Range``); the second value is true when the server sent the
        whole object instead (it ignored the range). A server may send
        fewer bytes than asked: the caller asks again from where it ended.

        Raises
        ------
        IdcListingError
        """
        url = self.object_url(bucket, key)
        resp = self._send(
            'GET', url, url, {'headers': {'Range': f'bytes={start}-{end}'}}
        )
        body = resp.content
        if resp.status_code == 200:
            return body, True
        where = resp.headers.get('Content-Range', '')
        match = _CONTENT_RANGE.fullmatch(where.strip())
        if resp.status_code != 206 or not match or int(match[1]) != start:
            msg = (
                f'asked for bytes {start}-{end}, got HTTP {resp.status_code} '
                f'with Content-Range {where!r}'
            )
            raise IdcClientError(url, msg, resp.status_code)
        return body, False

    def read_md5(self, bucket: str, key: str, keep: int = 0) -> tuple[bytes, str, int]:
        """Download an object, hashing it while it streams: its first
        ``keep`` bytes, its MD5 (hex) and its size. Nothing else is kept.

        Raises
        ------
        IdcListingError
        """
        url = self.object_url(bucket, key)
        resp = self._send('GET', url, url, {}, stream=True)
        digest = ContentHash()
        head = bytearray()
        try:
            for chunk in resp.iter_content(1 << 20):
                digest.update(chunk)
                if len(head) < keep:
                    head += chunk[: keep - len(head)]
        except requests.RequestException as e:
            raise IdcConnectionError(url, str(e), None) from e
        finally:
            resp.close()
        return bytes(head), digest.hexdigest(), digest.size

    def md5_of(self, bucket: str, key: str) -> str:
        """The MD5 of an object's content (downloaded, not kept).

        Raises
        ------
        IdcListingError
        """
        return self.read_md5(bucket, key)[1]
