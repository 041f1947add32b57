"""Datasets in the store, in the two forms others clone: plain bare git
repositories (``<name>.git``, what the clone URLs point at) and
``datalad-annex::`` deposits beside them (both formats are written by
:mod:`datalad_tcia.formats`), and the URLs of both.

.. currentmodule:: datalad_tcia.export
.. autosummary::
   :toctree: generated

   clone_url
   deposit_url
   export_dataset
   store_base_url
"""

from .dataset import ExportResult, export_dataset, local_refs
from .urls import clone_url, deposit_url, store_base_url

__all__ = [
    'ExportResult',
    'clone_url',
    'deposit_url',
    'export_dataset',
    'local_refs',
    'store_base_url',
]
