"""datalad-catalog pages of a collection.

.. currentmodule:: datalad_tcia.catalog
.. autosummary::
   :toctree: generated

   collection_page
   patient_record
   file_records
   publish_catalog
"""

from .links import analyses_tab, describes_tab
from .publish import CatalogError, publish_catalog, shown_home, validate
from .search import patient_index, patient_search_files
from .translate import (
    MAX_SUBDATASETS,
    PATIENTS_ON_PAGE,
    CollectionCatalog,
    PatientCatalog,
    collection_page,
    file_records,
    patient_record,
    text,
)

__all__ = [
    'MAX_SUBDATASETS',
    'PATIENTS_ON_PAGE',
    'CatalogError',
    'CollectionCatalog',
    'PatientCatalog',
    'analyses_tab',
    'collection_page',
    'describes_tab',
    'file_records',
    'patient_index',
    'patient_record',
    'patient_search_files',
    'publish_catalog',
    'shown_home',
    'text',
    'validate',
]
