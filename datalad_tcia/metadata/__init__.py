"""The per-series metadata deposit (``metadata/*.json`` in the store): its
typed records and the only code that reads and writes them.

.. currentmodule:: datalad_tcia.metadata
.. autosummary::
   :toctree: generated

   SeriesDeposit
   SeriesRecord
   MemberRecord
   ArchiveInfo
   IdcRecord
   Revision
   write_series_deposit
   read_series_deposit
   read_series_record
   deposit_state
   read_collection
"""

from .deposit import (
    CollectionDeposit,
    DepositState,
    deposit_state,
    load_grouping,
    load_json,
    load_slugs,
    read_collection,
    read_series_deposit,
    read_series_record,
    same_dicoms,
    save_grouping,
    save_slugs,
    stored_analysis_results,
    stored_collections,
    withdraw_series,
    withdrawn_records,
    write_series_deposit,
)
from .records import (
    ACQUIRED_FROM,
    ArchiveInfo,
    IdcRecord,
    MemberRecord,
    Revision,
    SeriesDeposit,
    SeriesRecord,
)
from .schema import (
    ARCHIVE_SCHEMA,
    MetadataError,
    check_archive_record,
    check_dicoms_records,
    now_utc,
)

__all__ = [
    'ARCHIVE_SCHEMA',
    'ACQUIRED_FROM',
    'ArchiveInfo',
    'CollectionDeposit',
    'DepositState',
    'IdcRecord',
    'MemberRecord',
    'MetadataError',
    'Revision',
    'SeriesDeposit',
    'SeriesRecord',
    'check_archive_record',
    'check_dicoms_records',
    'deposit_state',
    'load_json',
    'load_grouping',
    'load_slugs',
    'now_utc',
    'read_collection',
    'read_series_deposit',
    'read_series_record',
    'same_dicoms',
    'save_grouping',
    'save_slugs',
    'stored_analysis_results',
    'stored_collections',
    'withdraw_series',
    'withdrawn_records',
    'write_series_deposit',
]
