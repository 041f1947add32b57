"""datalad-catalog pages of a collection.

.. currentmodule:: datalad_tcia.catalog
.. autosummary::
   :toctree: generated

   collection_record
   patient_record
   file_records
   publish
"""

from .publish import CatalogError, publish, validate
from .translate import (
    MAX_SUBDATASETS,
    CollectionCatalog,
    PatientCatalog,
    collection_record,
    file_records,
    patient_record,
    text,
)

__all__ = [
    'MAX_SUBDATASETS',
    'CatalogError',
    'CollectionCatalog',
    'PatientCatalog',
    'collection_record',
    'file_records',
    'patient_record',
    'publish',
    'text',
    'validate',
]
