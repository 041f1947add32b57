"""datalad-catalog pages of a collection.

.. currentmodule:: datalad_tcia.catalog
.. autosummary::
   :toctree: generated

   collection_page
   patient_record
   file_records
   publish_catalog
"""

from .publish import CatalogError, publish_catalog, validate
from .translate import (
    MAX_SUBDATASETS,
    CollectionCatalog,
    PatientCatalog,
    collection_page,
    file_records,
    patient_record,
    text,
)

__all__ = [
    'MAX_SUBDATASETS',
    'CatalogError',
    'CollectionCatalog',
    'PatientCatalog',
    'collection_page',
    'file_records',
    'patient_record',
    'publish_catalog',
    'text',
    'validate',
]
