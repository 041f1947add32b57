"""Write and read the per-series metadata records."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from datalad_tcia.idc.convert import from_idc
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout, atomic_write_json, collection_dirs
from datalad_tcia.store.atomic import dumps_json

from .records import MemberRecord, SeriesRecord, SeriesRecords
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


def _checked(path: Path, check: Callable[[Any], Any]) -> Any:
    """``path`` loaded and validated by ``check``; errors name the file.

    Raises
    ------
    FileNotFoundError, MetadataError
    """
    try:
        return check(load_json(path))
    except MetadataError as e:
        msg = f'{path}: {e}'
        raise MetadataError(msg) from e


def _record_json(layout: StoreLayout, series_uid: str) -> dict[str, Any]:
    return _checked(
        layout.archive_metadata(series_uid),
        lambda obj: check_archive_record(obj, series_uid),
    )


def write_series_records(layout: StoreLayout, records: SeriesRecords) -> None:
    """Write both records of a series atomically; the series record last,
    since it marks the series as recorded. The one writer of
    ``*_metadata_{dicoms,archive}.json``."""
    uid = records.record.series_uid
    layout.metadata.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        layout.dicoms_metadata(uid), [m.to_json() for m in records.members]
    )
    atomic_write_json(layout.archive_metadata(uid), records.record.to_json())


def same_dicoms(path: Path, members: Sequence[MemberRecord]) -> bool:
    """Whether ``path`` already holds exactly these records."""
    try:
        return path.read_bytes() == dumps_json([m.to_json() for m in members])
    except OSError:
        return False


@dataclass(frozen=True)
class RecordState:
    """How a series stands in the store.

    ``state`` is ``complete`` (recorded, verified, unchanged upstream),
    ``missing`` (nothing or an interrupted write), ``invalid`` (files
    exist but cannot be used) or ``changed`` (NBIA now reports other
    content). ``records`` is what the store holds, where it can be read.
    """

    state: str
    reason: str = ''
    records: SeriesRecords | None = field(default=None, compare=False, repr=False)


def record_state(layout: StoreLayout, series: SeriesInfo) -> RecordState:
    """Compare the records of ``series`` with NBIA's current record."""
    try:
        dep = read_series_records(layout, series.series_uid)
    except FileNotFoundError:
        return RecordState('missing')
    except MetadataError as e:
        return RecordState('invalid', str(e))
    old = dep.series
    changes = [
        f'{key} {before} -> {now}'
        for key, before, now in (
            (
                'ImageCount',
                old.image_count
                if old.image_count is not None
                else dep.record.image_count,
                series.image_count,
            ),
            # IDC's sizes are its own: compared only with the same source's
            (
                'FileSize',
                old.file_size if from_idc(old) == from_idc(series) else None,
                series.file_size,
            ),
        )
        if now is not None and before is not None and before != now
    ]
    if changes:
        return RecordState('changed', ', '.join(changes), dep)
    expected = series.image_count
    if expected is not None and len(dep.images) != expected:
        return RecordState(
            'invalid',
            f'{len(dep.images)} files recorded, ImageCount is {expected}',
            dep,
        )
    return RecordState('complete', records=dep)


def read_series_records(layout: StoreLayout, series_uid: str) -> SeriesRecords:
    """The records of a series, typed.

    Raises
    ------
    FileNotFoundError
      If either file is missing.
    MetadataError
      If either is invalid.
    """
    arec = _record_json(layout, series_uid)
    drecs = _checked(layout.dicoms_metadata(series_uid), check_dicoms_records)
    return SeriesRecords.from_json(arec, drecs)


def read_series_record(layout: StoreLayout, series_uid: str) -> SeriesRecord:
    """The series record alone (not the files').

    Raises
    ------
    FileNotFoundError, MetadataError
    """
    return SeriesRecord.from_json(_record_json(layout, series_uid))


@dataclass
class CollectionRecords:
    """What the store holds of a collection's metadata.

    Attributes
    ----------
    layout: StoreLayout
      The collection's place in the store (under its NBIA name, as the
      metadata records it).
    patients: dict
      PatientID -> that patient's series records.
    problems: list of str
      Series records that cannot be read (they are left out), with what to do.
    """

    layout: StoreLayout
    patients: dict[str, list[SeriesRecords]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_collection(
    store: Path, collection: str, only: Iterable[str] | None = None
) -> CollectionRecords:
    """Read the metadata records of ``collection`` (name or collection id):
    every series, or those of the SeriesInstanceUIDs ``only``."""
    layout = StoreLayout(store, collection)
    name = collection
    out = CollectionRecords(layout)
    for uid in layout.recorded_series() if only is None else sorted(only):
        try:
            dep = read_series_records(layout, uid)
        except (FileNotFoundError, MetadataError) as e:
            out.problems.append(
                f'skipping series {uid}: {e}; run "datalad tcia-download" or '
                '"datalad tcia-deposit-metadata" again'
            )
            continue
        name = dep.record.collection or name
        pid = dep.record.patient_id or 'unknown'
        out.patients.setdefault(pid, []).append(dep)
    out.layout = StoreLayout(store, name)
    return out


def stored_collections(store: Path) -> list[str]:
    """NBIA's names of the collections recorded in ``store`` (not the
    analysis results: :func:`stored_analysis_results`)."""
    return [name for name, third in _stored(store) if not third]


def stored_analysis_results(store: Path) -> list[str]:
    """The ids of the analysis results recorded in ``store``."""
    return [name for name, third in _stored(store) if third]


def _stored(store: Path) -> list[tuple[str, bool]]:
    """(name, whether an analysis result) of every dataset folder with a
    records in ``store``."""
    names = []
    for folder in collection_dirs(store):
        layout = StoreLayout(store, folder.name)
        for uid in layout.recorded_series()[:1]:
            try:
                rec = read_series_record(layout, uid)
            except (FileNotFoundError, MetadataError):
                continue
            names.append((rec.collection, rec.series.analysis_result is not None))
    return names


def withdraw_series(layout: StoreLayout, records: SeriesRecords, when: float) -> Path:
    """Move a series' records to ``metadata/withdrawn/`` (the series
    record first: it marks the series recorded) and return the new
    series record's path. Call under the patient's lock.

    Raises
    ------
    OSError
    """
    uid = records.record.series_uid
    apath, dpath = layout.withdrawn(uid)
    apath.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(apath, replace(records.record, withdrawn=when).to_json())
    layout.archive_metadata(uid).unlink()
    os.replace(layout.dicoms_metadata(uid), dpath)
    return apath


def withdrawn_records(layout: StoreLayout) -> list[SeriesRecord]:
    """The records of the collection's withdrawn series (unreadable ones
    left out)."""
    folder = layout.withdrawn('x')[0].parent
    out = []
    for path in (
        sorted(folder.glob('*_metadata_archive.json')) if folder.is_dir() else ()
    ):
        try:
            out.append(SeriesRecord.from_json(_checked(path, check_archive_record)))
        except (OSError, MetadataError):
            continue
    return out


def load_slugs(layout: StoreLayout) -> dict[str, str]:
    """The PatientID -> slug mapping recorded in the store."""
    try:
        data = json.loads(layout.patients.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def save_slugs(layout: StoreLayout, slugs: Mapping[str, str]) -> None:
    """Record the PatientID -> slug mapping (atomically)."""
    atomic_write_json(layout.patients, dict(slugs))


def load_grouping(layout: StoreLayout) -> int | None:
    """How many trailing characters of a slug name its group dataset
    (see :func:`~datalad_tcia.dataset.naming.group_of`), or ``None``: the
    collection dataset holds its patients directly."""
    try:
        data = json.loads(layout.grouping.read_text())
    except (FileNotFoundError, ValueError):
        return None
    digits = data.get('digits') if isinstance(data, dict) else None
    return digits if isinstance(digits, int) and digits > 0 else None


def save_grouping(layout: StoreLayout, digits: int) -> None:
    """Record that the collection's patients live in group datasets
    (once recorded, for good: the paths of its patients never move
    again)."""
    atomic_write_json(layout.grouping, {'digits': digits})
