"""What the IDC index says of where a series is: its bucket and
``crdc_series_uuid`` (:class:`IdcSeries`), the series an earlier
version's UUID names (:class:`VersionMatch`); and where the installed
index is (:func:`default_index_path`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class VersionMatch:
    """The series a ``crdc_series_uuid`` names.

    Attributes
    ----------
    series_uid: str
      Its SeriesInstanceUID.
    current: bool
      Whether the UUID is that of the version in the index (else an
      earlier one, from ``prior_versions_index``).
    versions: str or None
      For an earlier version, the IDC releases that served it
      (``v20-v23``).
    """

    series_uid: str
    current: bool
    versions: str | None = None


class IdcIndexError(Exception):
    """The index cannot be read (missing package or file, wrong columns)."""


@dataclass(frozen=True)
class IdcSeries:
    """Where IDC keeps one series.

    Attributes
    ----------
    series_uid: str
      SeriesInstanceUID.
    bucket: str
      The AWS bucket (``idc-open-data``, ``idc-open-data-two``, ...).
    series_uuid: str
      ``crdc_series_uuid``: the prefix of the series' objects (one per
      version of the series).
    revised: int or None
      The IDC version that last revised the series.
    instance_count: int or None
      The index's ``instanceCount``.
    row: mapping
      The series' index row (the columns this package reads).
    """

    series_uid: str
    bucket: str
    series_uuid: str
    revised: int | None = None
    instance_count: int | None = None
    row: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def default_index_path() -> Path:
    """The ``idc_index`` parquet of the installed ``idc-index-data``.

    Raises
    ------
    IdcIndexError
    """
    try:
        import idc_index_data
    except ImportError as e:
        msg = (
            'the IDC index needs the idc-index-data package: pip install '
            'idc-index-data (or set datalad.tcia.idc-index to a parquet file)'
        )
        raise IdcIndexError(msg) from e
    return Path(str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH))
