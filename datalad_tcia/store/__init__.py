"""The store: where archives, metadata, exports and catalogs live.

.. currentmodule:: datalad_tcia.store
.. autosummary::
   :toctree: generated

   collection_id
   StoreLayout
   TopLayout
   ExportPaths
   atomic_write_bytes
   atomic_write_json
   StoreLock
   ContentHash
   file_md5
"""

from .atomic import atomic_write_bytes, atomic_write_json, temp_path_for
from .hashing import ContentHash, file_md5
from .layout import (
    COLLECTION,
    DEPOSIT_SUFFIXES,
    ExportPaths,
    StoreLayout,
    collection_dirs,
    collection_id,
    slurm_job_dir,
)
from .lock import StoreLock, StoreLocked, unwritable
from .top import TopLayout

__all__ = [
    'COLLECTION',
    'ContentHash',
    'DEPOSIT_SUFFIXES',
    'ExportPaths',
    'StoreLayout',
    'StoreLock',
    'TopLayout',
    'StoreLocked',
    'atomic_write_bytes',
    'atomic_write_json',
    'collection_dirs',
    'slurm_job_dir',
    'collection_id',
    'file_md5',
    'temp_path_for',
    'unwritable',
]
