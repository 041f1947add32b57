"""Datasets in the store, in the two forms others clone: plain bare git
repositories (``<name>.git``, what the clone URLs point at) and
``datalad-annex::`` deposits beside them.

.. currentmodule:: datalad_tcia.export
.. autosummary::
   :toctree: generated

   clone_url
   deposit_url
   export_dataset
   publish_repository
"""

from .bare import publish_repository
from .deposit import (
    ExportResult,
    clone_url,
    deposit_refs,
    deposit_url,
    export_dataset,
    store_base_url,
)

__all__ = [
    'ExportResult',
    'clone_url',
    'deposit_refs',
    'deposit_url',
    'publish_repository',
    'export_dataset',
    'store_base_url',
]
