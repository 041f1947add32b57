"""Series withdrawn upstream: recorded, selected as part of a whole
collection or patient, but no longer served by NBIA (or, for series
acquired from IDC, no longer in the IDC index that planned the
selection).

Their metadata records move to ``metadata/withdrawn/`` (each under its
patient's lock, the archive record first: it marks a series recorded),
so the next dataset update removes their files in a new commit; the
previous versions keep them, with their sources (IDC keeps every version
of a series).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection, Iterator

from datalad_tcia.metadata import (
    MetadataError,
    SeriesRecords,
    read_series_records,
    withdraw_series,
    withdrawn_records,
)
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked

from .outcomes import Problem, WithdrawnOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.withdraw')


def withdraw_missing(
    layout: StoreLayout,
    planned: Collection[str],
    in_scope: Callable[[SeriesInfo], bool],
    upstream: str = 'nbia',
) -> Iterator[WithdrawnOutcome | Problem]:
    """Withdraw the recorded series of ``layout`` that are ``in_scope``
    (their upstream record is) but whose UID is not ``planned`` (the current list of
    ``upstream``).

    With ``upstream='idc'`` (a selection planned from the IDC index) only
    series acquired from IDC are withdrawn: IDC lags TCIA, so its silence
    about a series NBIA gave proves nothing.
    """
    _finish_interrupted(layout)
    for uid in layout.recorded_series():
        if uid in planned:
            continue
        try:
            series_records = read_series_records(layout, uid)
        except (FileNotFoundError, MetadataError):
            continue  # reported by the dataset step
        if not in_scope(series_records.series):
            continue
        if upstream == 'idc' and series_records.record.source != 'idc':
            continue
        yield _withdraw(layout, series_records, upstream)


def _withdraw(
    layout: StoreLayout, series_records: SeriesRecords, upstream: str
) -> WithdrawnOutcome | Problem:
    uid = series_records.record.series_uid
    try:
        with StoreLock(layout.patient_lock(series_records.record.patient_id or '')):
            apath = withdraw_series(layout, series_records, time.time())
    except StoreLocked as e:
        return Problem('series', 'impossible', str(e), path=layout.root)
    except OSError as e:
        return Problem(
            'series',
            'error',
            f'cannot move the records of withdrawn series {uid} ({e}); run again',
            path=layout.metadata,
        )
    lgr.info('series %s withdrawn upstream', uid)
    return WithdrawnOutcome(
        'ok',
        f'withdrawn from {upstream.upper()}: its {len(series_records.images)} file(s) '
        'leave the '
        'dataset in a new version (earlier versions keep them); records kept '
        'in metadata/withdrawn/',
        series_records.series,
        apath,
        len(series_records.images),
    )


def _finish_interrupted(layout: StoreLayout) -> None:
    """Move the file records of a series whose withdrawal was killed after
    its archive record moved."""
    folder = layout.withdrawn('x')[0].parent
    if not folder.is_dir():
        return
    suffix = '_metadata_archive.json'
    for record in folder.glob(f'*{suffix}'):
        uid = record.name[: -len(suffix)]
        left = layout.dicoms_metadata(uid)
        if left.exists() and not layout.archive_metadata(uid).exists():
            os.replace(left, layout.withdrawn(uid)[1])


def withdrawn_patients(layout: StoreLayout) -> set[str]:
    """PatientIDs with a withdrawn series (their datasets must be updated
    even when no series is left)."""
    return {r.patient_id for r in withdrawn_records(layout) if r.patient_id}


def withdrawn_since(layout: StoreLayout, patient_id: str, since: float) -> list[str]:
    """The patient's series withdrawn after ``since`` (seconds)."""
    return sorted(
        r.series_uid
        for r in withdrawn_records(layout)
        if r.patient_id == patient_id and (r.withdrawn or 0) > since
    )
