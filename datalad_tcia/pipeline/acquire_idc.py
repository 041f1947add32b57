"""The series unit of work from IDC, without pixel data: list the series'
objects, read each one's size and MD5 from the listing and its DICOM
header from its first bytes, verify, and write the same records a
download from NBIA gives (SPEC 3; ``docs/source/idc.rst``).

Verification: as many objects as the index (or NBIA) says the series
has; every header names the series; no SOPInstanceUID twice. Member
names are those NBIA's archive gives (``NewFileNames``), so a dataset
built from IDC has the paths and keys of one built from NBIA. Every file
records IDC's URL; the series record keeps NBIA's API, so each file also
gets NBIA's ``getSingleImage`` URL, built from its UIDs (no request).

The records are written only when everything verified (the series
record last); an interrupted run leaves at most ``.part`` files, which
the next run removes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from datalad_tcia.idc import IdcSeries, from_idc
from datalad_tcia.idc.header import FIRST_RANGE, ObjectFacts, read_object
from datalad_tcia.idc.s3 import IdcListingError, S3Client, S3Object
from datalad_tcia.metadata import (
    IdcRecord,
    MemberRecord,
    Revision,
    SeriesRecord,
    SeriesRecords,
    record_state,
    write_series_records,
)
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.nbia.filenames import new_file_names
from datalad_tcia.store import StoreLayout
from datalad_tcia.store.atomic import remove_stale_parts

from .acquire_nbia import supersede
from .outcomes import SeriesOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.acquire_idc')


@dataclass
class IdcAcquisition:
    """What acquiring series from IDC needs, shared by a run's series.

    Attributes
    ----------
    s3: S3Client
      IDC's buckets.
    index_version: str
      The idc-index-data version that located the series.
    api_url: str or None
      NBIA's API, for the files' ``getSingleImage`` URLs.
    pool: Executor
      Runs the object requests (``-J`` at a time).
    tags: sequence of str
      DICOM keywords to record per file.
    first: int
      Bytes of the first request for a header.
    on_bytes, on_file: callable, optional
      Told of bytes received, and of each file done.
    """

    s3: S3Client
    index_version: str
    api_url: str | None
    pool: Executor
    tags: Sequence[str]
    first: int = FIRST_RANGE
    on_bytes: Callable[[int], None] | None = None
    on_file: Callable[[], None] | None = None

    def facts(self, bucket: str, obj: S3Object) -> ObjectFacts:
        found = read_object(self.s3, bucket, obj, self.tags, first=self.first)
        if self.on_bytes is not None:
            self.on_bytes(found.received)
        if self.on_file is not None:
            self.on_file()
        return found


def _problems(
    uid: str, counts: dict[str, int | None], facts: Sequence[ObjectFacts]
) -> list[str]:
    problems = [
        f'{len(facts)} object(s) in the bucket, {who} says the series has {n}'
        for who, n in counts.items()
        if n is not None and len(facts) != n
    ]
    seen: dict[str, str] = {}
    for f in facts:
        if f.header is None:
            problems.append(f'{f.key} is not a DICOM file')
            continue
        series = f.header.get('SeriesInstanceUID')
        if series != uid:
            problems.append(f'{f.key} belongs to series {series}, not {uid}')
        sop = str(f.header.get('SOPInstanceUID'))
        if sop in seen:
            problems.append(f'{f.key} and {seen[sop]} are both SOPInstanceUID {sop}')
        seen[sop] = f.key
    return problems


def _members(
    s3: S3Client, bucket: str, facts: Sequence[ObjectFacts]
) -> tuple[MemberRecord, ...]:
    headers = [f.header or {} for f in facts]
    names = new_file_names(headers)
    members = [
        MemberRecord(
            path=name,
            size=f.size,
            md5=f.md5,
            dicom=True,
            tags=h,
            idc_url=s3.object_url(bucket, f.key),
        )
        for name, f, h in zip(names, facts, headers, strict=True)
    ]
    # NBIA's archive order: by InstanceNumber
    return tuple(
        sorted(members, key=lambda m: (_int(m.tags.get('InstanceNumber')), m.path))
    )


def _nbia_has(series: SeriesInfo) -> bool:
    """Whether NBIA serves the series: not one planned from the IDC index
    of a collection whose DOI is not TCIA's (IDC alone holds those)."""
    if not from_idc(series):
        return True
    return '10.7937/' in (series.data_description_uri or '')


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def acquire_from_idc(
    acq: IdcAcquisition,
    layout: StoreLayout,
    series: SeriesInfo,
    loc: IdcSeries,
    *,
    force: bool = False,
) -> SeriesOutcome:
    """Make sure ``series`` is recorded, acquired from IDC at ``loc``.

    Returns
    -------
    SeriesOutcome
      ``ok``, ``notneeded`` (recorded, and IDC has no newer version of
      it) or ``error`` (what failed and what to do; nothing was written).
      A series recorded from IDC whose ``crdc_series_uuid`` changed is
      acquired again, its previous records kept in
      ``metadata/superseded/``.
    """
    uid = series.series_uid
    meta = layout.archive_metadata(uid)
    state = record_state(layout, series)
    revision: str | None = state.reason if state.state == 'changed' else None
    if state.state == 'complete' and not force:
        held = state.records.record if state.records else None
        old = held.idc if held is not None and held.source == 'idc' else None
        if old is None or old.series_uuid == loc.series_uuid:
            return SeriesOutcome(
                'notneeded',
                'already recorded and verified',
                series,
                None,
                meta,
                source=held.source if held else 'idc',
            )
        revision = f'crdc_series_uuid {old.series_uuid} -> {loc.series_uuid}'
    layout.metadata.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(layout.metadata, uid)
    facts = _read_series(acq, series, loc)
    if isinstance(facts, SeriesOutcome):
        return facts
    members = _members(acq.s3, loc.bucket, facts)
    try:
        revised = supersede(layout, uid, revision) if revision else None
        record = _series_record(acq, layout, series, loc, len(members), revised)
        write_series_records(layout, SeriesRecords(record, members))
    except OSError as e:
        return SeriesOutcome(
            'error',
            f'cannot write {layout.metadata}: {e.strerror or e} (disk full or '
            'not writable?); nothing partial was kept; make room and run the '
            'command again',
            series,
            attempts=1,
            source='idc',
        )
    received = sum(f.received for f in facts)
    return SeriesOutcome(
        'ok',
        (
            f'revised on IDC ({revision}): acquired again, the previous '
            'records kept in metadata/superseded/; '
            if revision
            else ''
        )
        + f"{len(members)} file(s) from IDC's {loc.bucket}/{loc.series_uuid}/: "
        f'listed, headers read ({received} bytes of {sum(f.size for f in facts)})',
        series,
        None,
        meta,
        1,
        source='idc',
        received=received,
    )


def _read_series(
    acq: IdcAcquisition, series: SeriesInfo, loc: IdcSeries
) -> list[ObjectFacts] | SeriesOutcome:
    """Every object of the series listed and its header read, verified
    against the index's instance count (and NBIA's ImageCount where NBIA
    planned); or the error that says what failed."""
    uid = series.series_uid
    where = f'{loc.bucket}/{loc.series_uuid}/'
    try:
        objects = acq.s3.series_objects(loc.bucket, loc.series_uuid)
        facts = list(acq.pool.map(lambda o: acq.facts(loc.bucket, o), objects))
    except IdcListingError as e:
        return SeriesOutcome(
            'error',
            f"cannot read series {uid} from IDC's {where} ({e}); nothing was "
            'kept: run again, or take it from NBIA (--source nbia)',
            series,
            attempts=1,
            source='idc',
        )
    counts = {'the IDC index': loc.instance_count}
    if not from_idc(series):
        counts['NBIA'] = series.image_count
    problems = _problems(uid, counts, facts)
    if problems:
        return SeriesOutcome(
            'error',
            f"series {uid} in IDC's {where} fails verification: "
            f'{"; ".join(problems[:3])}. Nothing was kept; run again, or take '
            'it from NBIA (--source nbia)',
            series,
            attempts=1,
            problems=problems,
            source='idc',
            received=sum(f.received for f in facts),
        )
    return facts


def _series_record(
    acq: IdcAcquisition,
    layout: StoreLayout,
    series: SeriesInfo,
    loc: IdcSeries,
    n_files: int,
    revised: Revision | None,
) -> SeriesRecord:
    """The series record of a series acquired from IDC."""
    return SeriesRecord(
        collection=layout.collection,
        collection_id=layout.cid,
        series=series,
        source='idc',
        image_count=series.image_count if series.image_count is not None else n_files,
        # NBIA serves TCIA's collections only
        api_url=acq.api_url if _nbia_has(series) else None,
        idc=IdcRecord(
            idc_version=acq.index_version,
            bucket=loc.bucket,
            series_uuid=loc.series_uuid,
            endpoint=acq.s3.endpoint,
            matched=n_files,
            files=n_files,
            index_row=dict(loc.row),
        ),
        revised=revised,
    )
