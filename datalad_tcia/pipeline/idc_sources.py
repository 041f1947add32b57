"""The IDC step of a patient: find where IDC keeps each of the patient's
series (the IDC index), list the series' objects (S3, no credentials),
match them to the recorded files by MD5 and size, and record each
file's IDC URL in the metadata records (the series record says which IDC
version and series UUID, and how many files matched).

It runs under the patient's lock, before the patient dataset is built,
which registers the URLs as one more source of each file. A series whose
IDC object prefix is already recorded is not listed again. A listing that
fails is a warning: the files keep their TCIA sources and the next run
tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from datalad_tcia.idc import IdcIndex, IdcSeries
from datalad_tcia.idc.header import FIRST_RANGE
from datalad_tcia.idc.match import match_series
from datalad_tcia.idc.s3 import IdcListingError, S3Client, S3Object
from datalad_tcia.metadata import IdcRecord, SeriesRecords, write_series_records
from datalad_tcia.store import StoreLayout

from .outcomes import IdcOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.idc_sources')


@dataclass
class IdcSources:
    """What the IDC step needs: the index and the bucket endpoint.

    Where IDC keeps a series is looked up once (a query costs 0.1 s,
    whether for one series or a thousand): :meth:`locate` a collection's
    series before its patients are worked on.
    """

    index: IdcIndex
    s3: S3Client
    #: bytes of the first request for a header (series acquired from IDC)
    first_range: int = FIRST_RANGE
    _known: dict[str, IdcSeries] = field(default_factory=dict, repr=False)
    _asked: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def locate(self, uids: Sequence[str]) -> dict[str, IdcSeries]:
        """Where IDC keeps the series of ``uids`` (those it has)."""
        with self._lock:
            missing = [u for u in uids if u not in self._asked]
            if missing:
                self._known.update(self.index.locations(missing))
                self._asked.update(missing)
            return {u: self._known[u] for u in uids if u in self._known}


def _downloader(s3: S3Client, bucket: str) -> Callable[[S3Object], str]:
    def md5_of(obj: S3Object) -> str:
        return s3.md5_of(bucket, obj.key)

    return md5_of


def _record(loc: IdcSeries, idc: IdcSources, matched: int, files: int) -> IdcRecord:
    return IdcRecord(
        idc_version=idc.index.version,
        bucket=loc.bucket,
        series_uuid=loc.series_uuid,
        endpoint=idc.s3.endpoint,
        matched=matched,
        files=files,
    )


def _is_current(series_records: SeriesRecords, loc: IdcSeries, idc: IdcSources) -> bool:
    """Whether the records already holds the matches of this version of
    the series (same object prefix, same endpoint)."""
    done = series_records.record.idc
    return bool(
        done
        and done.series_uuid == loc.series_uuid
        and done.bucket == loc.bucket
        and done.endpoint == idc.s3.endpoint
    )


def refresh_idc(
    layout: StoreLayout,
    patient_id: str,
    patient_series: Sequence[SeriesRecords],
    idc: IdcSources,
) -> tuple[list[SeriesRecords], IdcOutcome]:
    """Record IDC's URLs of the patient's files in the metadata records.

    Returns the series records as they are now, and what was done. Call only
    while holding the patient's lock.
    """
    out = IdcOutcome('notneeded', 'IDC sources up to date', patient_id)
    locations = idc.locate([d.record.series_uid for d in patient_series])
    result = []
    for dep in patient_series:
        loc = locations.get(dep.record.series_uid)
        if loc is None or _is_current(dep, loc, idc):
            result.append(dep)
            continue
        try:
            objects = idc.s3.series_objects(loc.bucket, loc.series_uuid)
            match = match_series(
                [(m.path, m.md5, m.size) for m in dep.images],
                objects,
                _downloader(idc.s3, loc.bucket),
            )
        except IdcListingError as e:
            warning = (
                f"series {dep.record.series_uid}: cannot list IDC's "
                f'{loc.bucket}/{loc.series_uuid}/ ({e}); its files keep '
                "their TCIA sources, run again to add IDC's"
            )
            lgr.warning('%s', warning)
            out.warnings.append(warning)
            result.append(dep)
            continue
        urls = {
            path: idc.s3.object_url(loc.bucket, obj.key)
            for path, obj in match.objects.items()
        }
        result.append(
            _write(layout, dep, urls, _record(loc, idc, match.matched, match.files))
        )
        out.listed += 1
        out.matched += match.matched
        out.files += match.files
        if match.downloaded:
            lgr.info(
                'series %s: %d IDC object(s) downloaded to learn their MD5',
                dep.record.series_uid,
                match.downloaded,
            )
    if out.listed:
        out.status = 'ok'
        out.message = (
            f'IDC ({idc.index.version}): {out.matched} of {out.files} file(s) '
            f'of {out.listed} series matched by MD5 and size'
        )
    if out.warnings:
        out.status = 'ok'
        out.message = (
            f'{out.message}; {len(out.warnings)} series could not be listed '
            f'(warning: {out.warnings[0]})'
        )
    return result, out


def _write(
    layout: StoreLayout,
    dep: SeriesRecords,
    urls: dict[str, str],
    found: IdcRecord,
) -> SeriesRecords:
    """The series records with ``urls`` (member path -> IDC URL) and ``found``
    (the series record's ``idc``) written; files without a match lose an
    IDC URL an earlier version of the series had."""
    new = SeriesRecords(
        replace(dep.record, idc=found),
        tuple(replace(m, idc_url=urls.get(m.path)) for m in dep.members),
    )
    write_series_records(layout, new)
    return new
