"""IDC's side of the look-alike: an index parquet in ``idc_index``'s schema
and S3 buckets named like IDC's, holding the look-alike's files under
UUID keys.

The buckets are served by ``moto`` in server mode (an S3-compatible
server from PyPI: ListObjectsV2, GET with ``Range``, HEAD, MD5 ETags for
single-part uploads) on loopback, behind a thin layer that counts the
bytes sent (for the tests and benchmarks of what a ``get`` costs) and can
fail the listings (for the warning path). moto is a test dependency: it
is imported when a server starts.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import requests

from .data import Archive, Instance, Series

#: the bucket of most of TCIA's original data in IDC
BUCKET = 'idc-open-data'
_RANGE = re.compile(r'bytes=(\d+)-(\d+)')
#: the namespace of the look-alike's deterministic IDC UUIDs
_NAMESPACE = uuid.UUID('6f1c3e8a-7d1b-4c52-9f0e-2a7d5b9c1e43')

#: ``idc_index``'s 31 columns and their DuckDB types
COLUMNS = (
    ('collection_id', 'VARCHAR'),
    ('analysis_result_id', 'VARCHAR'),
    ('PatientID', 'VARCHAR'),
    ('SeriesInstanceUID', 'VARCHAR'),
    ('StudyInstanceUID', 'VARCHAR'),
    ('source_DOI', 'VARCHAR'),
    ('PatientAge', 'VARCHAR'),
    ('PatientSex', 'VARCHAR'),
    ('StudyDate', 'VARCHAR'),
    ('StudyDescription', 'VARCHAR'),
    ('BodyPartExamined', 'VARCHAR'),
    ('Modality', 'VARCHAR'),
    ('SOPClassUID', 'VARCHAR'),
    ('sop_class_name', 'VARCHAR'),
    ('TransferSyntaxUID', 'VARCHAR'),
    ('transfer_syntax_name', 'VARCHAR'),
    ('PhotometricInterpretation', 'VARCHAR'),
    ('PixelRepresentation', 'VARCHAR'),
    ('Manufacturer', 'VARCHAR'),
    ('ManufacturerModelName', 'VARCHAR'),
    ('SeriesDate', 'VARCHAR'),
    ('SeriesDescription', 'VARCHAR'),
    ('SeriesNumber', 'VARCHAR'),
    ('instanceCount', 'BIGINT'),
    ('license_short_name', 'VARCHAR'),
    ('series_init_idc_version', 'BIGINT'),
    ('series_revised_idc_version', 'BIGINT'),
    ('aws_bucket', 'VARCHAR'),
    ('crdc_series_uuid', 'VARCHAR'),
    ('series_aws_url', 'VARCHAR'),
    ('series_size_MB', 'DOUBLE'),
)


def series_uuid(series: Series, version: int = 1) -> str:
    """The look-alike's ``crdc_series_uuid`` of a version of a series (a
    revised series gets a new one, as in IDC)."""
    suffix = f':v{version}' if version > 1 else ''
    return str(uuid.uuid5(_NAMESPACE, 'series:' + series.uid + suffix))


def instance_key(series: Series, instance: Instance, version: int = 1) -> str:
    """``<crdc_series_uuid>/<crdc_instance_uuid>.dcm``."""
    suffix = f':v{version}' if version > 1 else ''
    inst = uuid.uuid5(_NAMESPACE, f'instance:{series.uid}:{instance.sop_uid}{suffix}')
    return f'{series_uuid(series, version)}/{inst}.dcm'


def source_doi(series: Series) -> str:
    """IDC's (lower-case) DOI of the series' collection; collections
    without one get a made-up TCIA DOI."""
    coll = series.collection
    if coll.doi:
        return coll.doi.lower()
    return '10.7937/tcia.lookalike.' + re.sub(r'[^a-z0-9]+', '-', coll.name.lower())


def index_row(
    series: Series, bucket: str = BUCKET, version: int = 1, size: int | None = None
) -> dict[str, Any]:
    """The ``idc_index`` row of a version of a series (IDC's names and
    date forms; ``size``: its bytes, if not the series' own)."""
    study = series.study
    coll = series.collection
    cid = re.sub(r'[^a-z0-9]+', '_', coll.name.lower())
    suuid = series_uuid(series, version)
    license_short = {
        'Creative Commons Attribution 4.0 International License': 'CC BY 4.0',
        'Creative Commons Attribution 3.0 Unported License': 'CC BY 3.0',
    }.get(coll.license_name, coll.license_name)
    return {
        'collection_id': cid,
        'analysis_result_id': None,
        'PatientID': series.patient.patient_id,
        'SeriesInstanceUID': series.uid,
        'StudyInstanceUID': study.uid,
        'source_DOI': source_doi(series),
        'PatientAge': series.patient.age,
        'PatientSex': series.patient.sex,
        'StudyDate': study.study_date.isoformat(),
        'StudyDescription': study.description,
        'BodyPartExamined': series.body_part,
        'Modality': series.modality,
        'SOPClassUID': None,
        'sop_class_name': None,
        'TransferSyntaxUID': None,
        'transfer_syntax_name': None,
        'PhotometricInterpretation': None,
        'PixelRepresentation': None,
        'Manufacturer': series.manufacturer,
        'ManufacturerModelName': series.model,
        'SeriesDate': study.study_date.isoformat(),
        'SeriesDescription': series.description,
        'SeriesNumber': str(series.series_number),
        'instanceCount': len(series.instances),
        'license_short_name': license_short,
        'series_init_idc_version': 25,
        'series_revised_idc_version': 25,
        'aws_bucket': bucket,
        'crdc_series_uuid': suuid,
        'series_aws_url': f's3://{bucket}/{suuid}/*',
        'series_size_MB': (series.file_size if size is None else size) / 1e6,
    }


#: ``prior_versions_index``'s columns and their DuckDB types
PRIOR_COLUMNS = (
    ('collection_id', 'VARCHAR'),
    ('PatientID', 'VARCHAR'),
    ('SeriesInstanceUID', 'VARCHAR'),
    ('StudyInstanceUID', 'VARCHAR'),
    ('Modality', 'VARCHAR'),
    ('gcs_bucket', 'VARCHAR'),
    ('crdc_series_uuid', 'VARCHAR'),
    ('series_size_MB', 'DOUBLE'),
    ('series_aws_url', 'VARCHAR'),
    ('aws_bucket', 'VARCHAR'),
    ('min_idc_version', 'BIGINT'),
    ('max_idc_version', 'BIGINT'),
)


def prior_row(series: Series, version: int, lo: int, hi: int) -> dict[str, Any]:
    """The ``prior_versions_index`` row of an earlier version of a series,
    served by IDC releases ``lo`` to ``hi``."""
    row = index_row(series, version=version)
    return {
        **{k: row[k] for k, _ in PRIOR_COLUMNS if k in row},
        'gcs_bucket': 'public-datasets-idc',
        'series_size_MB': round(row['series_size_MB'], 2),
        'min_idc_version': lo,
        'max_idc_version': hi,
    }


def _copy(
    db: Any,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[dict[str, Any]],
    path: Path,
    meta: str = '',
) -> None:
    db.execute(
        f'CREATE OR REPLACE TABLE {table} ('
        + ', '.join(f'"{name}" {kind}' for name, kind in columns)
        + ')'
    )
    names = [name for name, _ in columns]
    if rows:
        db.executemany(
            f'INSERT INTO {table} VALUES ({", ".join("?" for _ in names)})',
            [[row.get(n) for n in names] for row in rows],
        )
    target = str(path).replace("'", "''")
    db.execute(f"COPY {table} TO '{target}' (FORMAT PARQUET{meta})")


def write_index(
    archive: Archive,
    path: Path,
    *,
    version: str = '25.0.5',
    skip: Iterable[str] = (),
    extra_rows: Sequence[dict[str, Any]] = (),
    others: Sequence[Archive] = (),
    rows: Mapping[str, dict[str, Any]] | None = None,
    prior: Sequence[dict[str, Any]] = (),
    bucket: str = BUCKET,
) -> Path:
    """Write the look-alike's series (but those in ``skip``) as an
    ``idc_index`` parquet at ``path`` with DuckDB, and a
    ``collections_index.parquet`` and ``prior_versions_index.parquet``
    (the rows ``prior``) beside it. ``others``: archives whose
    collections only IDC holds (NBIA's look-alike does not serve them);
    ``rows``: series UID -> the row to write in place of its own (a
    revised version); ``extra_rows`` (e.g. analysis results) are added as
    they are; ``bucket``: where the series' objects are (moto's servers
    in one process share their buckets: tests that need other content
    use another bucket)."""
    import duckdb

    skipped = set(skip)
    replaced = dict(rows or {})
    archives = [archive, *others]
    out = [
        replaced.get(s.uid) or index_row(s, bucket)
        for a in archives
        for s in a.iter_series()
        if s.uid not in skipped
    ]
    out += list(extra_rows)
    db = duckdb.connect()
    path.parent.mkdir(parents=True, exist_ok=True)
    _copy(
        db,
        'idc_index',
        COLUMNS,
        out,
        path,
        f", KV_METADATA {{idc_index_data_version: '{version}-0-glookalike'}}",
    )
    _copy(
        db,
        'collections_index',
        (('collection_name', 'VARCHAR'), ('collection_id', 'VARCHAR')),
        [
            {
                'collection_name': c.name,
                'collection_id': re.sub(r'[^a-z0-9]+', '_', c.name.lower()),
            }
            for a in archives
            for c in a.collections
        ],
        path.with_name('collections_index.parquet'),
    )
    _copy(
        db,
        'prior_versions_index',
        PRIOR_COLUMNS,
        list(prior),
        path.with_name('prior_versions_index.parquet'),
    )
    db.close()
    return path


@dataclass
class S3Request:
    """One request the S3 look-alike answered."""

    method: str
    path: str
    query: str
    status: int
    bytes_sent: int = 0
    #: the ``Range`` header asked for, if any
    range: str | None = None


@dataclass
class S3Lookalike:
    """moto's S3 on loopback, counting what it sends.

    Attributes
    ----------
    fail_listings: int or None
      Answer every bucket listing with this HTTP status (e.g. 503, 403).
    fail_objects: int or None
      Answer every object GET with this HTTP status (IDC's files down).
    cut_ranges: int or None
      Answer a ``Range`` request with at most this many bytes (a valid
      ``206`` for a shorter range than asked, as a server may send).
    """

    fail_listings: int | None = None
    fail_objects: int | None = None
    cut_ranges: int | None = None
    log: list[S3Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> S3Lookalike:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any) -> None:
                pass

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            '127.0.0.1', 0, self._wrap(app), threaded=True, request_handler=Quiet
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> S3Lookalike:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f'http://{host}:{port}'

    def bytes_sent(self, method: str = 'GET') -> int:
        """Bytes of the bodies sent for ``method`` requests."""
        with self._lock:
            return sum(r.bytes_sent for r in self.log if r.method == method)

    def reset(self) -> None:
        """Clear the log and the faults."""
        with self._lock:
            self.log.clear()
        self.fail_listings = None
        self.fail_objects = None
        self.cut_ranges = None

    def _wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def counting(
            environ: dict[str, Any], start_response: Callable
        ) -> Iterator[bytes]:
            method = environ['REQUEST_METHOD']
            query = environ.get('QUERY_STRING', '')
            path = environ.get('PATH_INFO', '')
            entry = S3Request(method, path, query, 0, range=environ.get('HTTP_RANGE'))
            with self._lock:
                self.log.append(entry)
            listing = 'list-type=2' in query and path.strip('/').count('/') == 0
            failing = self.fail_listings if listing else self.fail_objects
            if failing and method == 'GET':
                entry.status = failing
                start_response(f'{failing} Failing', [('Content-Length', '0')])
                return iter([b''])
            asked = _RANGE.fullmatch(environ.get('HTTP_RANGE', ''))
            if self.cut_ranges and asked:
                first, last = int(asked[1]), int(asked[2])
                last = min(last, first + self.cut_ranges - 1)
                environ = {**environ, 'HTTP_RANGE': f'bytes={first}-{last}'}

            def start(status: str, headers: list, exc_info: Any = None) -> Any:
                entry.status = int(status.split(maxsplit=1)[0])
                return start_response(status, headers, exc_info)

            def body() -> Iterator[bytes]:
                result = app(environ, start)
                try:
                    for chunk in result:
                        entry.bytes_sent += len(chunk)
                        yield chunk
                finally:
                    close = getattr(result, 'close', None)
                    if close is not None:
                        close()

            return body()

        return counting

    # -- content ---------------------------------------------------------------
    def create_bucket(self, bucket: str = BUCKET) -> None:
        resp = requests.put(
            f'{self.endpoint}/{bucket}',
            headers={'x-amz-acl': 'public-read'},
            timeout=30,
        )
        if resp.status_code == 409:  # there already (S3: BucketAlreadyOwnedByYou)
            return
        resp.raise_for_status()

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Upload in one part (public-read); returns the ETag."""
        resp = requests.put(
            f'{self.endpoint}/{bucket}/{key}',
            data=data,
            headers={'x-amz-acl': 'public-read'},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.headers['ETag'].strip('"')

    def put_multipart(self, bucket: str, key: str, data: bytes) -> str:
        """Upload as a one-part multipart upload: the ETag is no MD5."""
        url = f'{self.endpoint}/{bucket}/{key}'
        resp = requests.post(
            url + '?uploads', headers={'x-amz-acl': 'public-read'}, timeout=30
        )
        resp.raise_for_status()
        root = ET.fromstring(resp.content)  # noqa: S314 (our own server)
        upload = next(e.text for e in root.iter() if e.tag.endswith('UploadId'))
        part = requests.put(
            url, params={'partNumber': '1', 'uploadId': upload}, data=data, timeout=60
        )
        part.raise_for_status()
        body = (
            '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
            f'<ETag>{part.headers["ETag"]}</ETag></Part></CompleteMultipartUpload>'
        )
        done = requests.post(url, params={'uploadId': upload}, data=body, timeout=30)
        done.raise_for_status()
        head = requests.head(url, timeout=30)
        return head.headers['ETag'].strip('"')

    def fill(
        self,
        archive: Archive,
        *,
        bucket: str = BUCKET,
        skip: Iterable[str] = (),
        changed: Iterable[str] = (),
        multipart: Iterable[str] = (),
        version: int = 1,
        only: Iterable[str] | None = None,
    ) -> int:
        """Upload every file of ``archive`` under its IDC key (series in
        ``skip`` not at all, and with ``only`` only those; files whose
        SOPInstanceUID is in ``changed`` with other bytes, as if IDC had
        corrected them; those in ``multipart`` as multipart uploads), as
        ``version`` of each series. Returns the files uploaded."""
        self.create_bucket(bucket)
        skipped, altered, parts = set(skip), set(changed), set(multipart)
        chosen = set(only) if only is not None else None
        count = 0
        for series in archive.iter_series():
            if series.uid in skipped or (
                chosen is not None and series.uid not in chosen
            ):
                continue
            for inst in series.instances:
                data = inst.data
                if inst.sop_uid in altered:
                    data = data + b'\0'
                key = instance_key(series, inst, version)
                if inst.sop_uid in parts:
                    self.put_multipart(bucket, key, data)
                else:
                    self.put(bucket, key, data)
                count += 1
        return count
