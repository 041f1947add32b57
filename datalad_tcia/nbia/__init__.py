"""NBIA REST API client (no DataLad inside).

.. currentmodule:: datalad_tcia.nbia
.. autosummary::
   :toctree: generated

   NbiaClient
   RetryPolicy
   SeriesInfo
   ArchiveDownload
   Manifest
   read_manifest
   NbiaError
   NbiaRequestError
   ManifestError
"""

from datalad_tcia.http import RetryPolicy, parse_retry_after

from .client import USER_AGENT, NbiaClient
from .endpoints import (
    API_ALIASES,
    DEFAULT_API_URL,
    ENDPOINTS,
    endpoint_url,
    resolve_api_url,
    single_image_url,
)
from .exceptions import (
    ManifestError,
    NbiaAccessDenied,
    NbiaBadRequest,
    NbiaClientError,
    NbiaConnectionError,
    NbiaError,
    NbiaProtocolError,
    NbiaRequestError,
    NbiaServerError,
)
from .manifest import Manifest, is_uid, read_manifest
from .records import (
    ArchiveDownload,
    SeriesInfo,
    format_date,
    parse_date,
    parse_int,
)

__all__ = [
    'API_ALIASES',
    'DEFAULT_API_URL',
    'ENDPOINTS',
    'USER_AGENT',
    'ArchiveDownload',
    'Manifest',
    'ManifestError',
    'NbiaAccessDenied',
    'NbiaBadRequest',
    'NbiaClient',
    'NbiaClientError',
    'NbiaConnectionError',
    'NbiaError',
    'NbiaProtocolError',
    'NbiaRequestError',
    'NbiaServerError',
    'RetryPolicy',
    'SeriesInfo',
    'is_uid',
    'parse_date',
    'parse_int',
    'parse_retry_after',
    'read_manifest',
    'endpoint_url',
    'format_date',
    'resolve_api_url',
    'single_image_url',
]
