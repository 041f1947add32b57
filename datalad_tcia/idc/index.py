"""The IDC index (``idc-index-data``'s ``idc_index`` parquet) queried with
DuckDB: offline answers to the listing questions NBIA answers online, and
where IDC keeps each series.

A collection is its original data (no ``analysis_result_id``): of a
collection with TCIA's data (a TCIA DOI, ``10.7937/``) only the rows with
a TCIA DOI (TCGA-x collections also hold IDC's own pathology, which NBIA
never had), of a collection IDC alone holds every row. The series of an
analysis result (``analysis_result_id``; its ``collection_id`` is the
collection it describes) are answered only when asked for
(an :class:`~.analysis.AnalysisChoice`, as idc-index takes it);
``analysis_results_index.parquet`` beside the index lists them
(:mod:`.analysis`).

A ``prior_versions_index.parquet`` beside the index (the package ships
one) maps the ``crdc_series_uuid`` of an earlier version of a series to
its SeriesInstanceUID (``.s5cmd`` manifests of older IDC releases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from datalad_tcia.nbia import SeriesInfo

from .analysis import (
    ORIGINAL,
    SUMMARY,
    AnalysisChoice,
    AnalysisResult,
    analysis_results_beside,
    in_index,
    read_analysis_results,
)
from .convert import COLUMNS, idc_collection_id, normalize_doi, series_info
from .located import IdcIndexError, IdcSeries, VersionMatch, default_index_path
from .where import WhereError, where_message

lgr = logging.getLogger('datalad.tcia.idc.index')

#: original data only
EXCLUDED = AnalysisChoice()

#: a TCIA DOI
TCIA_DOI = "source_DOI LIKE '10.7937/%'"
#: the rows used: original data, TCIA's alone where a collection has any;
#: and every analysis result's
ROWS = (
    f'(analysis_result_id IS NULL AND ({TCIA_DOI} OR collection_id NOT IN '
    f'(SELECT collection_id FROM {{table}} WHERE {TCIA_DOI}))) '
    'OR analysis_result_id IS NOT NULL'
)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class IdcIndex:
    """Series, patients and collections of TCIA from an IDC index file.

    Parameters
    ----------
    path: Path, optional
      A parquet file with the ``idc_index`` columns; the installed
      ``idc-index-data`` package's by default. NBIA's collection names
      come from a ``collections_index.parquet`` beside it (the package
      ships one); without it, the ``collection_id`` is the name.

    Raises
    ------
    IdcIndexError
      If the file cannot be read or lacks columns.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        try:
            import duckdb
        except ImportError as e:
            msg = 'the IDC index needs DuckDB: pip install duckdb'
            raise IdcIndexError(msg) from e
        self.path = Path(path) if path is not None else default_index_path()
        if not self.path.is_file():
            msg = f'no IDC index at {self.path}: give a parquet file of idc_index rows'
            raise IdcIndexError(msg)
        self._db = duckdb.connect()
        self._lock = threading.Lock()
        table = f'read_parquet({_sql_string(str(self.path))})'
        try:
            have = {r[0] for r in self._query(f'DESCRIBE SELECT * FROM {table}')}
        except duckdb.Error as e:
            msg = f'cannot read the IDC index {self.path}: {e}'
            raise IdcIndexError(msg) from e
        missing = [c for c in COLUMNS if c not in have]
        if missing:
            msg = (
                f'{self.path} is not an IDC index: it lacks the column(s) '
                f"{', '.join(missing)} of idc-index-data's idc_index"
            )
            raise IdcIndexError(msg)
        self._query(
            f'CREATE VIEW tcia AS SELECT {", ".join(COLUMNS)} FROM {table} '
            f'WHERE {ROWS.format(table=table)}'
        )
        # every column, for a user's condition (series_where)
        self._query(
            f'CREATE VIEW tcia_all AS SELECT * FROM {table} '
            f'WHERE {ROWS.format(table=table)}'
        )
        self.columns = sorted(have)
        self.prior_path = self._prior_path()
        self.version = self._version(table)
        self._names = self._collection_names()
        self._analysis: dict[str, AnalysisResult] | None = None

    def __repr__(self) -> str:
        return f'{type(self).__name__}({str(self.path)!r})'

    @property
    def where(self) -> str:
        """Who answers, for messages."""
        return f'the IDC index (idc-index-data {self.version}, {self.path})'

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # one connection, one query at a time (DuckDB connections are not
        # for concurrent use; queries take milliseconds)
        with self._lock:
            return self._db.execute(sql, list(params)).fetchall()

    def _rows(self, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(f'SELECT * FROM tcia WHERE {where}', list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _version(self, table: str) -> str:
        """idc-index-data's version for its own file, else the version the
        file's metadata names."""
        try:
            import idc_index_data

            if str(self.path) == str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH):
                return str(idc_index_data.__version__)
        except ImportError:
            pass
        rows = self._query(
            'SELECT value FROM parquet_kv_metadata(?) '
            "WHERE key = 'idc_index_data_version'",
            [str(self.path)],
        )
        if rows:
            return bytes(rows[0][0]).decode().split('-', 1)[0]
        return 'unknown'

    def _prior_path(self) -> Path | None:
        side = self.path.with_name('prior_versions_index.parquet')
        if side.is_file():
            return side
        try:
            import idc_index_data

            if str(self.path) == str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH):
                found = getattr(
                    idc_index_data, 'PRIOR_VERSIONS_INDEX_PARQUET_FILEPATH', None
                )
                return Path(str(found)) if found else None
        except ImportError:
            pass
        return None

    def series_of_uuids(self, uuids: Sequence[str]) -> dict[str, VersionMatch]:
        """The series each ``crdc_series_uuid`` of ``uuids`` names (those
        the index or ``prior_versions_index`` knows)."""
        if not uuids:
            return {}
        found = {
            u: VersionMatch(uid, True)
            for u, uid in self._query(
                'SELECT crdc_series_uuid, SeriesInstanceUID FROM tcia '
                'WHERE crdc_series_uuid IN (SELECT unnest(?))',
                [list(uuids)],
            )
        }
        rest = [u for u in uuids if u not in found]
        if rest and self.prior_path is not None:
            rows = self._query(
                'SELECT crdc_series_uuid, SeriesInstanceUID, min_idc_version, '
                'max_idc_version FROM read_parquet(?) '
                'WHERE crdc_series_uuid IN (SELECT unnest(?))',
                [str(self.prior_path), rest],
            )
            for u, uid, lo, hi in rows:
                found[u] = VersionMatch(uid, False, f'v{lo}-v{hi}')
        return found

    def _collection_names(self) -> dict[str, str]:
        """collection_id -> NBIA's collection name."""
        ids = [
            r[0]
            for r in self._query(
                f'SELECT DISTINCT collection_id FROM tcia WHERE {ORIGINAL}'
            )
        ]
        names = {cid: cid for cid in ids}
        side = self.path.with_name('collections_index.parquet')
        if side.is_file():
            rows = self._query(
                'SELECT collection_id, collection_name FROM read_parquet(?)',
                [str(side)],
            )
            names.update({cid: name for cid, name in rows if cid in names and name})
        return names

    # -- the listing questions (as NbiaClient answers them) --------------------
    def get_collection_values(self) -> list[str]:
        """NBIA's names of the collections in the index."""
        return sorted(self._names.values())

    def collection_alias(self, name: str) -> str | None:
        """NBIA's name of the collection whose ``collection_id`` or DOI
        (also as a ``https://doi.org/`` URL) is ``name``."""
        if name.strip().lower() in self._names:
            return self._names[name.strip().lower()]
        rows = self._query(
            f'SELECT DISTINCT collection_id FROM tcia WHERE source_DOI = ? '
            f'AND {ORIGINAL}',
            [normalize_doi(name)],
        )
        return self._names[rows[0][0]] if len(rows) == 1 else None

    def get_series(
        self,
        *,
        collection: str | None = None,
        patient_id: str | None = None,
        study_uid: str | None = None,
        series_uid: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        analysis: AnalysisChoice = EXCLUDED,
    ) -> list[SeriesInfo]:
        """Series matching all given filters (NBIA's ``getSeries``; names
        compared case-insensitively, like NBIA): original data, or as
        ``analysis`` chooses also or only the series of analysis
        results."""
        kind, params = analysis.condition()
        where = [kind]
        if collection is not None:
            where.append('collection_id = ?')
            params.append(idc_collection_id(collection))
        for column, value in (
            ('PatientID', patient_id),
            ('Modality', modality),
            ('BodyPartExamined', body_part),
            ('Manufacturer', manufacturer),
        ):
            if value is not None:
                where.append(f'upper({column}) = upper(?)')
                params.append(value)
        for column, value in (
            ('StudyInstanceUID', study_uid),
            ('SeriesInstanceUID', series_uid),
        ):
            if value is not None:
                where.append(f'{column} = ?')
                params.append(value)
        return [self._info(r) for r in self._rows(' AND '.join(where), params)]

    def series_where(
        self, condition: str, analysis: AnalysisChoice = EXCLUDED
    ) -> list[SeriesInfo]:
        """The series whose index rows meet the SQL ``condition`` over the
        index's columns (``"PatientSex = 'F' AND Modality = 'MR'"``),
        parsed as one expression and only read.

        Raises
        ------
        WhereError
          If DuckDB refuses the condition (the message names an unknown
          column).
        """
        import duckdb

        try:
            with self._lock:
                rel = (
                    self._db.view('tcia_all')
                    .filter(analysis.condition()[0])
                    .filter(condition)
                )
                uids = [r[0] for r in rel.project('SeriesInstanceUID').fetchall()]
        except duckdb.Error as e:
            raise WhereError(where_message(condition, e, self.columns)) from e
        return list(self.series_many(uids).values())

    def series_many(self, uids: Sequence[str]) -> dict[str, SeriesInfo]:
        """The series of ``uids`` the index knows, in one query."""
        if not uids:
            return {}
        rows = self._rows('SeriesInstanceUID IN (SELECT unnest(?))', [list(uids)])
        return {r['SeriesInstanceUID']: self._info(r) for r in rows}

    def locations(self, uids: Sequence[str]) -> dict[str, IdcSeries]:
        """Where IDC keeps the series of ``uids`` (those it has)."""
        if not uids:
            return {}
        rows = self._rows('SeriesInstanceUID IN (SELECT unnest(?))', [list(uids)])
        return {
            r['SeriesInstanceUID']: IdcSeries(
                r['SeriesInstanceUID'],
                r['aws_bucket'],
                r['crdc_series_uuid'],
                r.get('series_revised_idc_version'),
                r.get('instanceCount'),
                r,
            )
            for r in rows
            if r.get('aws_bucket') and r.get('crdc_series_uuid')
        }

    def analysis_results(self) -> dict[str, AnalysisResult]:
        """The analysis results of the index, by id: as listed beside it,
        with their series and patients in it (see :func:`.analysis.in_index`).

        Raises
        ------
        AnalysisIndexError
        """
        if self._analysis is None:
            side = analysis_results_beside(self.path)
            listed = read_analysis_results(side) if side else {}
            self._analysis = in_index(listed, self._query(SUMMARY.format(view='tcia')))
        return self._analysis

    def _info(self, row: Mapping[str, Any]) -> SeriesInfo:
        cid = row['collection_id']
        return series_info(row, self._names.get(cid, cid), self.version)
