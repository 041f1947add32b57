"""IDC's index as the look-alike writes it: ``idc_index`` rows (and
``prior_versions_index``, ``collections_index``) of the look-alike's
series in idc-index-data's schema, written with DuckDB, and the IDC
object keys of their files (deterministic UUIDs, one set per version of
a series)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .data import AnalysisSet, Archive, Instance, Series

#: the bucket of most of TCIA's original data in IDC
BUCKET = 'idc-open-data'
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


#: long licence names -> IDC's ``license_short_name``
SHORT_LICENSES = {
    'Creative Commons Attribution 4.0 International License': 'CC BY 4.0',
    'Creative Commons Attribution 3.0 Unported License': 'CC BY 3.0',
}


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
    pub = series.analysis or coll
    license_short = SHORT_LICENSES.get(pub.license_name, pub.license_name)
    return {
        'collection_id': cid,
        'analysis_result_id': series.analysis.ident if series.analysis else None,
        'PatientID': series.patient.patient_id,
        'SeriesInstanceUID': series.uid,
        'StudyInstanceUID': study.uid,
        'source_DOI': series.analysis.doi if series.analysis else source_doi(series),
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


#: ``analysis_results_index``'s columns (but ``provenance``) and types
ANALYSIS_COLUMNS = (
    ('analysis_result_id', 'VARCHAR'),
    ('analysis_result_title', 'VARCHAR'),
    ('source_DOI', 'VARCHAR'),
    ('source_url', 'VARCHAR'),
    ('subjects', 'BIGINT'),
    ('collections', 'VARCHAR'),
    ('modalities', 'VARCHAR'),
    ('updated', 'VARCHAR'),
    ('license_url', 'VARCHAR'),
    ('license_long_name', 'VARCHAR'),
    ('license_short_name', 'VARCHAR'),
    ('description', 'VARCHAR'),
    ('citation', 'VARCHAR'),
)


def analysis_row(analysis: AnalysisSet) -> dict[str, Any]:
    """The ``analysis_results_index`` row of an analysis result (as IDC
    writes it: comma-joined collection ids and modalities)."""
    colls = sorted(
        {re.sub(r'[^a-z0-9]+', '_', s.collection.name.lower()) for s in analysis.series}
    )
    return {
        'analysis_result_id': analysis.ident,
        'analysis_result_title': analysis.title,
        'source_DOI': analysis.doi,
        'source_url': f'https://doi.org/{analysis.doi}',
        'subjects': len({s.patient.patient_id for s in analysis.series}),
        'collections': ','.join(colls),
        'modalities': ','.join(sorted({s.modality for s in analysis.series})),
        'updated': '2026-11-20',
        'license_url': analysis.license_uri,
        'license_long_name': analysis.license_name,
        'license_short_name': SHORT_LICENSES.get(
            analysis.license_name, analysis.license_name
        ),
        'description': f'<p>{analysis.title}, made of the images of {len(colls)} '
        'collections.</p>',
        'citation': f'Look-alike Lab. ({analysis.title}) [Data set]. '
        f'https://doi.org/{analysis.doi}',
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
        for s in a.iter_idc_series()
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
        'analysis_results_index',
        ANALYSIS_COLUMNS,
        [analysis_row(an) for a in archives for an in a.analyses],
        path.with_name('analysis_results_index.parquet'),
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
