"""A client for the DataCite REST API (``GET /dois/<doi>``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from datalad_tcia.http import (
    ErrorTypes,
    RetryingClient,
    RetryPolicy,
    split_credentials,
)

from .exceptions import (
    DataCiteClientError,
    DataCiteConnectionError,
    DataCiteProtocolError,
    DataCiteServerError,
)
from .record import Citation

lgr = logging.getLogger('datalad.tcia.datacite.client')

DEFAULT_DATACITE_URL = 'https://api.datacite.org'


class DataCiteClient(RetryingClient):
    """Look up DOI records, with the NBIA client's retry discipline.

    Parameters
    ----------
    base_url: str
      DataCite REST base URL.
    """

    errors = ErrorTypes(
        DataCiteConnectionError, DataCiteServerError, DataCiteClientError
    )

    def __init__(
        self,
        base_url: str = DEFAULT_DATACITE_URL,
        *,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (30.0, 60.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {'sleep': sleep} if sleep is not None else {}
        url, auth = split_credentials(base_url.rstrip('/'))
        super().__init__(
            retry=retry, timeout=timeout, session=session, auth=auth, **kwargs
        )
        self.base_url = url

    def citation(self, doi: str) -> Citation | None:
        """The record of ``doi``, or ``None`` if DataCite does not know it.

        Raises
        ------
        DataCiteError
          If DataCite cannot be reached or fails (after retries).
        """
        url = f'{self.base_url}/dois/{quote(doi, safe="/")}'
        try:
            resp = self._send(
                'GET',
                url,
                url,
                {'headers': {'Accept': 'application/vnd.api+json'}},
            )
        except DataCiteClientError as e:
            if e.status_code == 404:
                return None
            raise
        try:
            doc = json.loads(resp.content)
        except ValueError:
            msg = f'expected JSON, got {resp.headers.get("Content-Type")}'
            raise DataCiteProtocolError(url, msg, resp.status_code) from None
        if not isinstance(doc, dict):
            msg = 'expected a JSON:API document'
            raise DataCiteProtocolError(url, msg, resp.status_code)
        return Citation.from_jsonapi(doc)
