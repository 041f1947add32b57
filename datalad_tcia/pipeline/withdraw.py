"""Series withdrawn upstream: deposited, selected as part of a whole
collection or patient, but no longer served by NBIA.

Their metadata records move to ``metadata/withdrawn/`` (each under its
patient's lock, the archive record first: it marks a series deposited),
so the next dataset update removes their files in a new commit; the
previous versions keep them, with their sources (IDC keeps every version
of a series).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator

from datalad_tcia.metadata import MetadataError, SeriesDeposit
from datalad_tcia.metadata.deposit import read_series_deposit
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked, atomic_write_json

from .outcomes import Problem, WithdrawnOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.withdraw')


def withdraw_missing(
    layout: StoreLayout,
    planned: Collection[str],
    in_scope: Callable[[str | None], bool],
) -> Iterator[WithdrawnOutcome | Problem]:
    """Withdraw the deposited series of ``layout`` whose patient is
    ``in_scope`` but whose UID is not ``planned`` (NBIA's current list)."""
    _finish_interrupted(layout)
    for uid in layout.deposited_series():
        if uid in planned:
            continue
        try:
            deposit = read_series_deposit(layout, uid)
        except (FileNotFoundError, MetadataError):
            continue  # reported by the dataset step
        if not in_scope(deposit.record.patient_id):
            continue
        yield _withdraw(layout, deposit)


def _withdraw(
    layout: StoreLayout, deposit: SeriesDeposit
) -> WithdrawnOutcome | Problem:
    uid = deposit.record.series_uid
    apath, dpath = layout.withdrawn(uid)
    try:
        with StoreLock(layout.patient_lock(deposit.record.patient_id or '')):
            apath.parent.mkdir(parents=True, exist_ok=True)
            record = json.loads(layout.archive_metadata(uid).read_text('utf-8'))
            record['withdrawn'] = time.time()
            atomic_write_json(apath, record)
            layout.archive_metadata(uid).unlink()
            os.replace(layout.dicoms_metadata(uid), dpath)
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
        f'withdrawn from NBIA: its {len(deposit.images)} file(s) leave the '
        'dataset in a new version (earlier versions keep them); records kept '
        'in metadata/withdrawn/',
        deposit.series,
        apath,
        len(deposit.images),
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
    folder = layout.withdrawn('x')[0].parent
    out = set()
    for record in folder.glob('*_metadata_archive.json') if folder.is_dir() else ():
        try:
            pid = json.loads(record.read_text(encoding='utf-8')).get('PatientID')
        except (OSError, ValueError):
            continue
        if pid:
            out.add(str(pid))
    return out


def withdrawn_since(layout: StoreLayout, patient_id: str, since: float) -> list[str]:
    """The patient's series withdrawn after ``since`` (seconds)."""
    folder = layout.withdrawn('x')[0].parent
    out = []
    for record in folder.glob('*_metadata_archive.json') if folder.is_dir() else ():
        try:
            obj = json.loads(record.read_text(encoding='utf-8'))
        except (OSError, ValueError):
            continue
        if obj.get('PatientID') == patient_id and obj.get('withdrawn', 0) > since:
            out.append(str(obj.get('SeriesInstanceUID')))
    return sorted(out)
