"""DataCite DOI records of collections.

.. currentmodule:: datalad_tcia.datacite
.. autosummary::
   :toctree: generated

   DataCiteClient
   CitationLookup
   DataCiteError
   Citation
   doi_from_uri
"""

from .client import DEFAULT_DATACITE_URL, DataCiteClient
from .exceptions import (
    DataCiteClientError,
    DataCiteConnectionError,
    DataCiteError,
    DataCiteProtocolError,
    DataCiteServerError,
)
from .lookup import CitationLookup
from .record import Citation, Creator, doi_from_uri, orcid

__all__ = [
    'DEFAULT_DATACITE_URL',
    'Citation',
    'CitationLookup',
    'Creator',
    'DataCiteClient',
    'DataCiteClientError',
    'DataCiteConnectionError',
    'DataCiteError',
    'DataCiteProtocolError',
    'DataCiteServerError',
    'doi_from_uri',
    'orcid',
]
