"""The per-series metadata deposit (``metadata/*.json`` in the store).

.. currentmodule:: datalad_tcia.metadata
.. autosummary::
   :toctree: generated

   archive_record
   write_series_metadata
   read_series_metadata
   deposit_state
   read_collection
   SeriesDeposit
   ArchiveRecord
   MemberRecord
"""

from .deposit import (
    CollectionDeposit,
    DepositState,
    deposit_state,
    load_json,
    load_slugs,
    read_collection,
    read_series_deposit,
    read_series_metadata,
    same_dicoms,
    save_slugs,
    stored_collections,
    write_series_metadata,
)
from .records import ArchiveRecord, MemberRecord, SeriesDeposit
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
    'ArchiveRecord',
    'CollectionDeposit',
    'MemberRecord',
    'SeriesDeposit',
    'DepositState',
    'MetadataError',
    'archive_record',
    'check_archive_record',
    'check_dicoms_records',
    'deposit_state',
    'load_json',
    'load_slugs',
    'read_collection',
    'stored_collections',
    'read_series_deposit',
    'now_utc',
    'read_series_metadata',
    'same_dicoms',
    'save_slugs',
    'write_series_metadata',
]
