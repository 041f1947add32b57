"""HTTP plumbing shared by the NBIA and DataCite clients (no DataLad inside).

A :class:`RetryingClient` sends requests with a bounded
:class:`RetryPolicy`; each client names its own exception types through
:class:`ErrorTypes`, so that NBIA failures are ``Nbia*`` errors and
DataCite failures ``DataCite*`` errors, both :class:`HttpRequestError`.

.. currentmodule:: datalad_tcia.http
.. autosummary::
   :toctree: generated

   RetryingClient
   RetryPolicy
   ErrorTypes
   HttpRequestError
   split_credentials
   redact
"""

from .credentials import redact, split_credentials
from .exceptions import HttpRequestError
from .retry import RetryPolicy, parse_retry_after
from .transport import TRANSIENT, USER_AGENT, Attempts, ErrorTypes, RetryingClient

__all__ = [
    'TRANSIENT',
    'USER_AGENT',
    'Attempts',
    'ErrorTypes',
    'HttpRequestError',
    'RetryPolicy',
    'RetryingClient',
    'parse_retry_after',
    'redact',
    'split_credentials',
]
