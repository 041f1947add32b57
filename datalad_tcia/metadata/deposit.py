"""Write and read the per-series metadata deposit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout, atomic_write_json
from datalad_tcia.store.atomic import dumps_json

from .schema import MetadataError, check_archive_record, check_dicoms_records


def load_json(path: Path) -> Any:
    """Load JSON, turning every failure into :class:`MetadataError`."""
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        msg = f'{path}: unreadable JSON ({e})'
        raise MetadataError(msg) from e


def read_series_metadata(
    layout: StoreLayout, series_uid: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Both metadata records of a series.

    Raises
    ------
    FileNotFoundError
      If either file is missing.
    MetadataError
      If either is invalid.
    """
    apath = layout.archive_metadata(series_uid)
    dpath = layout.dicoms_metadata(series_uid)
    try:
        arec = check_archive_record(load_json(apath), series_uid)
    except MetadataError as e:
        msg = f'{apath}: {e}'
        raise MetadataError(msg) from e
    try:
        drecs = check_dicoms_records(load_json(dpath))
    except MetadataError as e:
        msg = f'{dpath}: {e}'
        raise MetadataError(msg) from e
    return arec, drecs


def write_series_metadata(
    layout: StoreLayout,
    series_uid: str,
    archive: Mapping[str, Any],
    dicoms: Sequence[Mapping[str, Any]],
) -> None:
    """Write both records atomically; the archive record last, since it
    marks the series as deposited."""
    atomic_write_json(layout.dicoms_metadata(series_uid), list(dicoms))
    atomic_write_json(layout.archive_metadata(series_uid), dict(archive))


def same_dicoms(path: Path, dicoms: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``path`` already holds exactly these records."""
    try:
        return path.read_bytes() == dumps_json(list(dicoms))
    except OSError:
        return False


@dataclass(frozen=True)
class DepositState:
    """How a series stands in the store.

    ``state`` is ``complete`` (deposited, verified, unchanged upstream),
    ``missing`` (nothing or an interrupted deposit), ``invalid`` (files
    exist but cannot be used) or ``changed`` (NBIA now reports other
    content).
    """

    state: str
    reason: str = ''


def deposit_state(layout: StoreLayout, series: SeriesInfo) -> DepositState:
    """Compare the deposit of ``series`` with NBIA's current record."""
    try:
        arec, drecs = read_series_metadata(layout, series.series_uid)
    except FileNotFoundError:
        return DepositState('missing')
    except MetadataError as e:
        return DepositState('invalid', str(e))
    old = arec.get('nbia_series') or {}
    changes = []
    for key, now in (
        ('ImageCount', series.image_count),
        ('FileSize', series.file_size),
    ):
        before = old.get(key, arec.get(key))
        if now is not None and before is not None and str(before) != str(now):
            changes.append(f'{key} {before} -> {now}')
    if changes:
        return DepositState('changed', ', '.join(changes))
    images = [r for r in drecs if r['path'] not in ('LICENSE', 'md5hashes.csv')]
    expected = series.image_count
    if expected is not None and len(images) != expected:
        return DepositState(
            'invalid', f'{len(images)} files deposited, ImageCount is {expected}'
        )
    return DepositState('complete')
