"""The per-series metadata deposit (``metadata/*.json`` in the store).

.. currentmodule:: datalad_tcia.metadata
.. autosummary::
   :toctree: generated

   archive_record
   write_series_metadata
   read_series_metadata
   deposit_state
"""

from .deposit import (
    DepositState,
    deposit_state,
    load_json,
    read_series_metadata,
    same_dicoms,
    write_series_metadata,
)
from .schema import (
    ARCHIVE_SCHEMA,
    MetadataError,
    archive_record,
    check_archive_record,
    check_dicoms_records,
    now_utc,
)

__all__ = [
    'ARCHIVE_SCHEMA',
    'DepositState',
    'MetadataError',
    'archive_record',
    'check_archive_record',
    'check_dicoms_records',
    'deposit_state',
    'load_json',
    'now_utc',
    'read_series_metadata',
    'same_dicoms',
    'write_series_metadata',
]
