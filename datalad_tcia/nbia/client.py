"""A client for the NBIA v4 REST API of The Cancer Imaging Archive.

The client knows nothing about DataLad: it turns API calls into typed
records, handles NBIA's quirks (empty body for "no rows", omitted null
columns, ``MM-DD-YYYY`` dates, numbers as strings), and retries transient
failures within a bounded :class:`~datalad_tcia.http.retry.RetryPolicy`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from datalad_tcia.http import (
    TRANSIENT,
    USER_AGENT,
    Attempts,
    ErrorTypes,
    RetryingClient,
    RetryPolicy,
    split_credentials,
)
from datalad_tcia.store.hashing import ContentHash

from .endpoints import (
    DEFAULT_API_URL,
    Endpoint,
    check_params,
    endpoint_url,
    resolve_api_url,
)
from .exceptions import (
    NbiaConnectionError,
    NbiaProtocolError,
    NbiaServerError,
    client_error,
)
from .records import ArchiveDownload, SeriesInfo

lgr = logging.getLogger('datalad.tcia.nbia.client')

__all__ = ['USER_AGENT', 'NbiaClient']

_CHUNK_SIZE = 1024 * 1024

ProgressCallback = Callable[[int], None]


class NbiaClient(RetryingClient):
    """Query and download from an NBIA v4 REST API.

    Parameters
    ----------
    base_url: str
      API base URL, e.g.
      ``https://nbia.cancerimagingarchive.net/nbia-api/services/v4``, or one
      of the aliases ``nbia`` and ``nlst``. A user name and password in
      it (``https://user:password@host/...``) are sent as HTTP basic
      authentication and dropped from :attr:`base_url`.
    retry: RetryPolicy, optional
      Retry discipline for connection errors, timeouts, 429 and 5xx.
    timeout: tuple of float
      Connect and read timeouts in seconds. The read timeout bounds a stall
      anywhere in a response, also in the middle of a download.
    session: requests.Session, optional
      Session to use (one is created otherwise).
    sleep, clock: callable, optional
      How to wait between attempts, and the clock the retry budget is
      measured with (see :class:`~datalad_tcia.http.RetryingClient`).
    token: str, optional
      Bearer token for an NBIA deployment that wants one (v4 needs none).
    """

    errors = ErrorTypes(NbiaConnectionError, NbiaServerError, client_error)

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (30.0, 120.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        token: str | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {}
        if sleep is not None:
            kwargs['sleep'] = sleep
        if clock is not None:
            kwargs['clock'] = clock
        # the kept URL has no credentials; they go with each request
        url, auth = split_credentials(resolve_api_url(base_url))
        super().__init__(
            retry=retry,
            timeout=timeout,
            session=session,
            auth=auth,
            token=token,
            **kwargs,
        )
        self.base_url = url

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.base_url!r})'

    # -- URLs ---------------------------------------------------------------
    def endpoint_url(self, name: str, params: Mapping[str, str] | None = None) -> str:
        """Return the full URL of an endpoint call.

        Raises
        ------
        ValueError
          For an unknown endpoint or a parameter the endpoint does not accept
          (NBIA v4 would answer 400).
        """
        return endpoint_url(self.base_url, name, params)

    def image_url(
        self,
        series_uid: str,
        *,
        new_file_names: bool = True,
        include_md5: bool = True,
    ) -> str:
        """URL of the ``getImage`` ZIP archive of a series."""
        return self.endpoint_url(
            'getImage', _image_params(series_uid, new_file_names, include_md5)
        )

    @property
    def where(self) -> str:
        """Who answers, for messages."""
        return f'NBIA at {self.base_url}'

    # -- queries ------------------------------------------------------------
    def collection_alias(self, name: str) -> str | None:
        """NBIA knows a collection by its name only."""
        return None

    def get_collection_values(self) -> list[str]:
        """Names of all collections NBIA serves."""
        rows = self._query('getCollectionValues', {})
        # a null collection name comes as {} and is dropped
        return [str(r['Collection']) for r in rows if r.get('Collection')]

    def get_series(
        self,
        *,
        collection: str | None = None,
        patient_id: str | None = None,
        study_uid: str | None = None,
        series_uid: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        manufacturer_model: str | None = None,
    ) -> list[SeriesInfo]:
        """Series matching all given filters (``getSeries``).

        NBIA matches collection, patient, modality, body part and
        manufacturer case-insensitively, UIDs exactly. No filter at all lists
        every public series, which on the real server is very large.
        """
        params = _drop_none(
            {
                'Collection': collection,
                'PatientID': patient_id,
                'StudyInstanceUID': study_uid,
                'SeriesInstanceUID': series_uid,
                'Modality': modality,
                'BodyPartExamined': body_part,
                'Manufacturer': manufacturer,
                'ManufacturerModelName': manufacturer_model,
            }
        )
        return [SeriesInfo.from_json(r) for r in self._query('getSeries', params)]

    # -- download -----------------------------------------------------------
    def download_series(
        self,
        series_uid: str,
        dest: str | Path,
        *,
        new_file_names: bool = True,
        include_md5: bool = True,
        progress: ProgressCallback | None = None,
    ) -> ArchiveDownload:
        """Stream the ``getImage`` ZIP of a series into ``dest``.

        Memory use is constant: the archive is written in chunks while its
        MD5 is computed. A failure before or in the middle of the stream is
        retried from the start (NBIA cannot resume a series) within the retry
        policy; ``dest`` then holds only the last attempt's bytes. The caller
        verifies the archive: NBIA may end a stream "successfully" with
        members missing.

        Parameters
        ----------
        series_uid: str
          The SeriesInstanceUID.
        dest: str or Path
          File to write (truncated first). Callers should pass a temporary
          name and rename after verification.
        new_file_names: bool
          Ask for ``<acq>-<inst>.dcm`` member names (``NewFileNames=Yes``).
        include_md5: bool
          Ask for ``md5hashes.csv`` in the archive (``IncludeMD5=Yes``).
        progress: callable, optional
          Called with the number of bytes of the current attempt written so
          far (it restarts at 0 when an attempt is retried).

        Raises
        ------
        NbiaAccessDenied
          The series is unknown or not public (HTTP 400).
        NbiaServerError, NbiaConnectionError
          Every attempt failed.
        """
        params = _image_params(series_uid, new_file_names, include_md5)
        dest = Path(dest)
        attempts = self.attempts()
        while True:
            # errors of the request itself are retried inside _request
            resp = self._request('getImage', params, stream=True, attempts=attempts)
            try:
                done = self._write_stream(resp, dest, progress)
                return ArchiveDownload(
                    done.path, done.url, done.size, done.md5, attempts.count
                )
            except TRANSIENT as e:
                err = NbiaConnectionError(
                    resp.url, f'download interrupted: {e}', None, attempts.count
                )
                if not self._may_retry(attempts, None, err):
                    raise err from e
            finally:
                resp.close()

    def _write_stream(
        self,
        resp: requests.Response,
        dest: Path,
        progress: ProgressCallback | None,
    ) -> ArchiveDownload:
        digest = ContentHash()
        with dest.open('wb') as fp:
            for chunk in resp.iter_content(chunk_size=_CHUNK_SIZE):
                fp.write(chunk)
                digest.update(chunk)
                if progress is not None:
                    progress(digest.size)
        return ArchiveDownload(
            path=str(dest), url=resp.url, size=digest.size, md5=digest.hexdigest()
        )

    # -- plumbing -----------------------------------------------------------
    def _endpoint(self, name: str, params: Mapping[str, str]) -> Endpoint:
        return check_params(name, params)

    def _query(self, name: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Call a JSON endpoint and return its rows.

        A body that is not JSON (an HTML error page of a proxy, say) is
        retried like a 5xx.
        """
        attempts = self.attempts()
        while True:
            resp = self._request(name, params, attempts=attempts)
            try:
                return _parse_rows(resp)
            except NbiaProtocolError as e:
                if not self._may_retry(attempts, None, e):
                    raise NbiaProtocolError(
                        e.url, e.message, e.status_code, attempts.count
                    ) from e

    def _request(
        self,
        name: str,
        params: Mapping[str, str],
        *,
        stream: bool = False,
        attempts: Attempts | None = None,
    ) -> requests.Response:
        """Send one API call, retrying transient failures.

        Returns a response with a 2xx/3xx status.
        """
        ep = self._endpoint(name, params)
        url = f'{self.base_url}/{ep.name}'
        if ep.method == 'POST':
            req_kwargs: dict[str, Any] = {'data': dict(params)}
            shown = url
        else:
            req_kwargs = {'params': dict(params)}
            shown = self.endpoint_url(name, params)
        return self._send(ep.method, url, shown, req_kwargs, stream, attempts)


def _image_params(
    series_uid: str, new_file_names: bool, include_md5: bool
) -> dict[str, str]:
    params = {'SeriesInstanceUID': series_uid}
    if new_file_names:
        params['NewFileNames'] = 'Yes'
    if include_md5:
        params['IncludeMD5'] = 'Yes'
    return params


def _drop_none(params: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in params.items() if v is not None}


def _parse_rows(resp: requests.Response) -> list[dict[str, Any]]:
    body = resp.content
    # NBIA's "no rows" is HTTP 200 with an empty body
    if not body.strip():
        return []
    try:
        data = json.loads(body)
    except ValueError:
        ctype = resp.headers.get('Content-Type', 'no content type')
        snippet = body[:120].decode('utf-8', 'replace')
        raise NbiaProtocolError(
            resp.url, f'expected JSON, got {ctype}: {snippet!r}', resp.status_code
        ) from None
    if isinstance(data, dict):
        # some servers answer a single row as an object
        data = [data]
    if not isinstance(data, list):
        raise NbiaProtocolError(
            resp.url,
            f'expected a JSON array, got {type(data).__name__}',
            resp.status_code,
        )
    return [row for row in data if isinstance(row, dict)]
