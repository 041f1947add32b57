"""The series unit of work: download, verify and record one series
(SPEC 3, 8).

The archive is streamed to a temporary name beside its final place,
indexed in one pass (MD5, size and DICOM header of every member) and
verified; only then is it renamed to ``archives/<uid>.zip`` and its
metadata written (the archive record last: it marks the series done). A
failed verification discards the download and tries again, a bounded
number of times. Nothing partial ever carries a final name, and a re-run
after an interruption picks up where the last one stopped.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from datalad_tcia.archive import (
    DEFAULT_TAGS,
    ArchiveError,
    ArchiveIndex,
    index_archive,
    verification_problems,
)
from datalad_tcia.metadata import (
    ArchiveInfo,
    Revision,
    SeriesRecord,
    SeriesRecords,
    read_series_record,
    record_state,
    write_series_records,
)
from datalad_tcia.nbia import (
    ArchiveDownload,
    NbiaAccessDenied,
    NbiaClient,
    NbiaError,
    SeriesInfo,
)
from datalad_tcia.store import StoreLayout, file_md5
from datalad_tcia.store.atomic import atomic_write_bytes, remove_stale_parts

from .outcomes import SeriesOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.acquire_nbia')

ByteCallback = Callable[[int], None]


def record_archive(
    layout: StoreLayout, record: SeriesRecord, index: ArchiveIndex
) -> SeriesRecords:
    """Write the metadata records of one series of an indexed archive
    (``record`` says where it came from; its licence is the archive's),
    for archives downloaded from NBIA and archives found on disk alike."""
    series_records = SeriesRecords(
        replace(record, license_text=index.license_text),
        tuple(index.members),
    )
    write_series_records(layout, series_records)
    return series_records


def archive_info(
    index: ArchiveIndex,
    size: int,
    md5: str,
    *,
    url: str | None = None,
    path: str | None = None,
) -> ArchiveInfo:
    """What the series record says of an indexed archive file."""
    return ArchiveInfo(
        type=index.atype,
        size=size,
        md5=md5,
        members=len(index.members),
        md5_verified=index.md5_manifest is not None,
        url=url,
        path=path,
    )


def acquire_from_nbia(
    client: NbiaClient,
    layout: StoreLayout,
    series: SeriesInfo,
    *,
    force: bool = False,
    tags: Sequence[str] = DEFAULT_TAGS,
    attempts: int = 3,
    on_bytes: ByteCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SeriesOutcome:
    """Make sure ``series`` is downloaded, verified and recorded.

    Parameters
    ----------
    client: NbiaClient
      Where to download from.
    layout: StoreLayout
      The collection's place in the store.
    series: SeriesInfo
      NBIA's current record of the series.
    force: bool
      Download again even if the series is recorded.
    tags: sequence of str
      DICOM keywords to record per file.
    attempts: int
      Downloads to try before giving up on an archive that fails
      verification (transport errors are retried inside the client).
    on_bytes: callable, optional
      Called with the number of bytes received since the last call.

    Returns
    -------
    SeriesOutcome
      ``ok``, ``notneeded`` or ``error`` (with what to do). A series NBIA
      revised since it was recorded (another ``ImageCount`` or
      ``FileSize``) is downloaded again; its previous records are kept in
      ``metadata/superseded/`` (the datasets' history keeps its files).
    """
    uid = series.series_uid
    final = layout.archive(uid)
    state = record_state(layout, series)
    if state.state == 'complete' and not force:
        meta = layout.archive_metadata(uid)
        return SeriesOutcome(
            'notneeded', 'already recorded and verified', series, None, meta
        )
    revision = state.reason if state.state == 'changed' else None
    _clear_leftovers(layout, uid)
    if final.exists() and not force and revision is None:
        # an interrupted run may have renamed the archive but not written
        # its metadata: verify what is there instead of downloading again
        outcome = _adopt_existing(client, layout, series, final, tags)
        if outcome is not None:
            return outcome
    problems: list[str] = []
    requests_made = 0
    for attempt in range(1, attempts + 1):
        got = _download_once(client, layout, series, tags, on_bytes, attempt)
        if isinstance(got, SeriesOutcome):
            return got
        requests_made += got.requests
        if isinstance(got, _Downloaded) and not got.problems:
            return _keep(client, layout, series, got, revision, requests_made)
        problems = got.problems
        got.tmp.unlink(missing_ok=True)
        lgr.debug(
            'series %s attempt %d failed verification: %s', uid, attempt, problems
        )
        if attempt < attempts:
            sleep(client.retry.delay(attempt))
    return SeriesOutcome(
        'error',
        f'the archive of series {uid} failed verification {attempts} times: '
        f'{"; ".join(problems[:3])}. Nothing was kept; run the command again to '
        'retry',
        series,
        attempts=attempts,
        problems=problems,
    )


def _clear_leftovers(layout: StoreLayout, uid: str) -> None:
    """Remove what interrupted runs left of the series (the caller holds
    its lock)."""
    layout.archives.mkdir(parents=True, exist_ok=True)
    layout.metadata.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(layout.archives, f'{layout.archive(uid).name}.')
    remove_stale_parts(layout.metadata, uid)


@dataclass(frozen=True)
class _Unverified:
    """A series archive under a temporary name that failed verification."""

    tmp: Path
    attempt: int
    requests: int
    problems: list[str]


@dataclass(frozen=True)
class _Downloaded(_Unverified):
    """A series archive downloaded and indexed (``problems``: what its
    verification found)."""

    download: ArchiveDownload
    index: ArchiveIndex


def _download_once(
    client: NbiaClient,
    layout: StoreLayout,
    series: SeriesInfo,
    tags: Sequence[str],
    on_bytes: ByteCallback | None,
    attempt: int,
) -> _Unverified | SeriesOutcome:
    """Download and verify the archive once: what came, or the outcome
    of a failure that another attempt would not mend."""
    uid = series.series_uid
    tmp = layout.temp_path(layout.archive(uid))
    requests = 0
    try:
        dl = client.download_series(
            uid, tmp, progress=_incremental(on_bytes) if on_bytes else None
        )
        requests = dl.attempts
        index = index_archive(tmp, tags=tags, atype='zip')
        problems = verification_problems(index, series.image_count)
    except NbiaAccessDenied as e:
        tmp.unlink(missing_ok=True)
        return SeriesOutcome(
            'error',
            f'NBIA refuses series {uid}: {e.message}. It is unknown or not '
            'public on this server (NLST series live on the "nlst" server)',
            series,
            attempts=attempt,
        )
    except NbiaError as e:
        tmp.unlink(missing_ok=True)
        return SeriesOutcome(
            'error',
            f'download of series {uid} failed: {e}. Nothing was kept; run '
            'the command again to resume',
            series,
            attempts=attempt,
        )
    except ArchiveError as e:
        return _Unverified(tmp, attempt, requests, [str(e)])
    except OSError as e:
        tmp.unlink(missing_ok=True)
        return _write_failed(series, tmp, e, attempt)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _Downloaded(tmp, attempt, requests, problems, dl, index)


def _keep(
    client: NbiaClient,
    layout: StoreLayout,
    series: SeriesInfo,
    got: _Downloaded,
    revision: str | None,
    requests_made: int,
) -> SeriesOutcome:
    """A verified archive under its final name and its records written
    (the previous records superseded for a ``revision``)."""
    uid = series.series_uid
    final = layout.archive(uid)
    dl, index = got.download, got.index
    try:
        got.tmp.replace(final)
        revised = supersede(layout, uid, revision) if revision else None
        _record_series(
            client,
            layout,
            series,
            index,
            archive_info(index, dl.size, dl.md5, url=dl.url),
            revised=revised,
        )
    except OSError as e:
        got.tmp.unlink(missing_ok=True)
        return _write_failed(series, final, e, got.attempt)
    return SeriesOutcome(
        'ok',
        (
            f'revised on NBIA ({revision}): downloaded again, '
            'the previous records kept in metadata/superseded/; '
            if revision
            else ''
        )
        + f'downloaded and verified {len(index.image_members)} file(s)'
        + (f' ({requests_made} requests)' if requests_made > 1 else ''),
        series,
        final,
        layout.archive_metadata(uid),
        requests_made,
        dl.md5,
        dl.size,
    )


def _write_failed(
    series: SeriesInfo, path: Path, e: OSError, attempts: int
) -> SeriesOutcome:
    return SeriesOutcome(
        'error',
        f'cannot write {path.parent}: {e.strerror or e} (disk full or not '
        'writable?); nothing partial was kept; make room and run the command '
        'again',
        series,
        attempts=attempts,
    )


def _adopt_existing(
    client: NbiaClient,
    layout: StoreLayout,
    series: SeriesInfo,
    final: Path,
    tags: Sequence[str],
) -> SeriesOutcome | None:
    try:
        index = index_archive(final, tags=tags, atype='zip')
        problems = verification_problems(index, series.image_count)
    except ArchiveError as e:
        problems = [str(e)]
    if problems:
        lgr.debug('discarding unverifiable archive %s: %s', final, problems)
        final.unlink()
        return None
    md5, size = file_md5(final)
    when = datetime.fromtimestamp(final.stat().st_mtime, timezone.utc)
    _record_series(
        client,
        layout,
        series,
        index,
        archive_info(index, size, md5, url=client.image_url(series.series_uid)),
        downloaded=when.replace(microsecond=0).isoformat(),
    )
    return SeriesOutcome(
        'ok',
        f'verified {len(index.image_members)} file(s) of an archive already '
        'in the store',
        series,
        final,
        layout.archive_metadata(series.series_uid),
        0,
        md5,
        size,
    )


def _record_series(
    client: NbiaClient,
    layout: StoreLayout,
    series: SeriesInfo,
    index: ArchiveIndex,
    archive: ArchiveInfo,
    *,
    downloaded: str | None = None,
    revised: Revision | None = None,
) -> None:
    record = SeriesRecord(
        collection=layout.collection,
        collection_id=layout.cid,
        series=series,
        source='nbia',
        image_count=series.image_count,
        api_url=client.base_url,
        archive=archive,
        revised=revised,
    )
    if downloaded:
        record = replace(record, downloaded=downloaded)
    record_archive(layout, record, index)


def supersede(layout: StoreLayout, uid: str, changes: str) -> Revision:
    """Keep the records of a series upstream revised (copies
    under ``metadata/superseded/``, named after the version's acquisition
    time) and say so for the new series record."""
    old = read_series_record(layout, uid)
    stamp = re.sub(r'[^0-9A-Za-z]+', '', old.downloaded or 'unknown')
    apath, dpath = layout.superseded(uid, stamp)
    apath.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dpath, layout.dicoms_metadata(uid).read_bytes())
    atomic_write_bytes(apath, layout.archive_metadata(uid).read_bytes())
    return Revision(changes, time.time(), str(apath.relative_to(layout.metadata)))


def _incremental(callback: ByteCallback) -> Callable[[int], None]:
    """Turn "bytes so far in this attempt" into increments."""
    last = 0

    def progress(done: int) -> None:
        nonlocal last
        if done < last:  # a new attempt started
            last = 0
        callback(done - last)
        last = done

    return progress
