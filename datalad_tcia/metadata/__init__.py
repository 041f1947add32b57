"""The per-series metadata records (``metadata/*.json`` in the store): its
typed records and the only code that reads and writes them.

.. currentmodule:: datalad_tcia.metadata
.. autosummary::
   :toctree: generated

   SeriesRecords
   SeriesRecord
   MemberRecord
   ArchiveInfo
   IdcRecord
   Revision
   write_series_records
   read_series_records
   read_series_record
   record_state
   read_collection
"""

from .records import (
    ACQUIRED_FROM,
    ArchiveInfo,
    IdcRecord,
    MemberRecord,
    Revision,
    SeriesRecord,
    SeriesRecords,
)
from .schema import (
    ARCHIVE_SCHEMA,
    MetadataError,
    check_archive_record,
    check_dicoms_records,
    now_utc,
)
from .stored import (
    CollectionRecords,
    RecordState,
    load_grouping,
    load_json,
    load_slugs,
    read_collection,
    read_series_record,
    read_series_records,
    record_state,
    same_dicoms,
    save_grouping,
    save_slugs,
    stored_analysis_results,
    stored_collections,
    withdraw_series,
    withdrawn_records,
    write_series_records,
)

__all__ = [
    'ARCHIVE_SCHEMA',
    'ACQUIRED_FROM',
    'ArchiveInfo',
    'CollectionRecords',
    'RecordState',
    'IdcRecord',
    'MemberRecord',
    'MetadataError',
    'Revision',
    'SeriesRecords',
    'SeriesRecord',
    'check_archive_record',
    'check_dicoms_records',
    'record_state',
    'load_json',
    'load_grouping',
    'load_slugs',
    'now_utc',
    'read_collection',
    'read_series_records',
    'read_series_record',
    'same_dicoms',
    'save_grouping',
    'save_slugs',
    'stored_analysis_results',
    'stored_collections',
    'withdraw_series',
    'withdrawn_records',
    'write_series_records',
]
