"""TCIA's and IDC's analysis results as idc-index-data lists them
(``analysis_results_index.parquet``): segmentations, structured reports
and annotations others made of TCIA's images, each with its own DOI,
licence and citation.

The file is read from beside the configured IDC index (as idc-index-data
lays it out, and as ``prior_versions_index`` is read). An analysis result
IDC does not have (NBIA lists it as third-party series of a collection,
with its DOI) is known by an id made from its DOI
(:func:`analysis_result_id`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .convert import normalize_doi

lgr = logging.getLogger('datalad.tcia.idc.analysis')

#: the id of an analysis result IDC does not list starts so (then its DOI)
NBIA_ONLY_PREFIX = 'doi_'
#: the file's name, beside ``idc_index.parquet``
ANALYSIS_RESULTS_FILE = 'analysis_results_index.parquet'


#: original data, as an index condition
ORIGINAL = 'analysis_result_id IS NULL'
#: which rows each ``analysis_results`` choice of idc-index keeps
_KINDS = {
    'exclude': ORIGINAL,
    'include': 'TRUE',
    'only': 'analysis_result_id IS NOT NULL',
}


@dataclass(frozen=True)
class AnalysisChoice:
    """Which series of analysis results an index query answers.

    Attributes
    ----------
    mode: str
      As idc-index takes ``analysis_results``: ``exclude`` (original data
      only), ``include``, ``only``.
    ident: str or None
      Of one analysis result only.
    """

    mode: str = 'exclude'
    ident: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in _KINDS:
            msg = f'analysis results: one of {sorted(_KINDS)}, not {self.mode!r}'
            raise ValueError(msg)

    def condition(self) -> tuple[str, list[str]]:
        """The SQL condition over ``idc_index`` rows, and its parameters.

        >>> AnalysisChoice('only', 'x').condition()
        ('analysis_result_id IS NOT NULL AND analysis_result_id = ?', ['x'])
        """
        if self.ident is None:
            return _KINDS[self.mode], []
        return f'{_KINDS[self.mode]} AND analysis_result_id = ?', [self.ident]


class AnalysisIndexError(Exception):
    """The analysis results' index cannot be read."""


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis result (a row of ``analysis_results_index``).

    Attributes
    ----------
    analysis_result_id: str
      Its id (``dicom_lidc_idri_nodules``): the store's folder of its
      dataset.
    title: str or None
      ``analysis_result_title``.
    doi: str or None
      Its DOI, lower case (``10.7937/tcia.2018.h7umfurq``).
    collections: tuple of str
      The ``collection_id`` of every collection it describes.
    modalities: tuple of str
      The modalities of its series.
    subjects: int or None
      Its patients.
    updated: str or None
      When it was last updated, as the index writes it.
    license_name, license_url, license_short: str or None
      Its licence.
    citation: str or None
      How to cite it (the index's text; HTML entities as given).
    description: str or None
      What it is (HTML, as given).
    source_url: str or None
      Its landing page.
    series: int or None
      Its series in the IDC index.
    """

    analysis_result_id: str
    title: str | None = None
    doi: str | None = None
    collections: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    subjects: int | None = None
    updated: str | None = None
    license_name: str | None = None
    license_url: str | None = None
    license_short: str | None = None
    citation: str | None = None
    description: str | None = None
    source_url: str | None = None
    series: int | None = None

    @property
    def is_tcia(self) -> bool:
        """Whether TCIA published it (a ``10.7937/`` DOI); else IDC's own
        (Zenodo)."""
        return bool(self.doi and self.doi.startswith('10.7937/'))

    def to_json(self) -> dict[str, Any]:
        """The record as the store's ``analysis_result.json`` keeps it."""
        return {
            'analysis_result_id': self.analysis_result_id,
            'title': self.title,
            'doi': self.doi,
            'collections': list(self.collections),
            'modalities': list(self.modalities),
            'subjects': self.subjects,
            'updated': self.updated,
            'license_name': self.license_name,
            'license_url': self.license_url,
            'license_short': self.license_short,
            'citation': self.citation,
            'description': self.description,
            'source_url': self.source_url,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AnalysisResult:
        return cls(
            analysis_result_id=str(obj['analysis_result_id']),
            title=obj.get('title'),
            doi=obj.get('doi'),
            collections=tuple(obj.get('collections') or ()),
            modalities=tuple(obj.get('modalities') or ()),
            subjects=obj.get('subjects'),
            updated=obj.get('updated'),
            license_name=obj.get('license_name'),
            license_url=obj.get('license_url'),
            license_short=obj.get('license_short'),
            citation=obj.get('citation'),
            description=obj.get('description'),
            source_url=obj.get('source_url'),
        )


def _split(text: Any) -> tuple[str, ...]:
    return tuple(t.strip() for t in str(text or '').split(',') if t.strip())


def read_analysis_results(path: Path) -> dict[str, AnalysisResult]:
    """The analysis results listed in ``path`` (an
    ``analysis_results_index`` parquet), by id.

    Raises
    ------
    AnalysisIndexError
    """
    import duckdb

    columns = (
        'analysis_result_id',
        'analysis_result_title',
        'source_DOI',
        'collections',
        'modalities',
        'subjects',
        'updated',
        'license_long_name',
        'license_url',
        'license_short_name',
        'citation',
        'description',
        'source_url',
    )
    try:
        db = duckdb.connect()
        try:
            cur = db.execute(
                f'SELECT {", ".join(columns)} FROM read_parquet(?) '
                'ORDER BY analysis_result_id',
                [str(path)],
            )
            rows = cur.fetchall()
        finally:
            db.close()
    except duckdb.Error as e:
        msg = f'cannot read the analysis results of {path}: {e}'
        raise AnalysisIndexError(msg) from e
    out = {}
    for row in rows:
        rec = dict(zip(columns, row, strict=True))
        if not rec['analysis_result_id']:
            continue
        subjects = rec['subjects']
        out[str(rec['analysis_result_id'])] = AnalysisResult(
            analysis_result_id=str(rec['analysis_result_id']),
            title=rec['analysis_result_title'],
            doi=normalize_doi(rec['source_DOI']) if rec['source_DOI'] else None,
            collections=_split(rec['collections']),
            modalities=_split(rec['modalities']),
            subjects=int(subjects) if subjects is not None else None,
            updated=rec['updated'],
            license_name=rec['license_long_name'],
            license_url=rec['license_url'],
            license_short=rec['license_short_name'],
            citation=rec['citation'],
            description=rec['description'],
            source_url=rec['source_url'],
        )
    return out


#: per analysis result of an index view: DOI, collections, modalities,
#: patients, series, licence
SUMMARY = (
    'SELECT analysis_result_id, min(source_DOI), '
    'list(DISTINCT collection_id ORDER BY collection_id), '
    'list(DISTINCT Modality ORDER BY Modality), '
    'count(DISTINCT PatientID), count(*), min(license_short_name) FROM {view} '
    'WHERE analysis_result_id IS NOT NULL GROUP BY 1'
)


def in_index(
    listed: dict[str, AnalysisResult], rows: Sequence[Sequence[Any]]
) -> dict[str, AnalysisResult]:
    """The analysis results ``listed``, with their series in the index
    (``rows`` of :data:`SUMMARY`), and those the list lacks (an older
    list) as the rows describe them; by id."""
    out = dict(listed)
    for ident, doi, colls, mods, subjects, series, lic in rows:
        known = out.get(ident)
        out[ident] = (
            replace(known, series=int(series))
            if known is not None
            else AnalysisResult(
                ident,
                doi=normalize_doi(doi) if doi else None,
                collections=tuple(colls),
                modalities=tuple(m for m in mods if m),
                subjects=int(subjects),
                license_short=lic,
                series=int(series),
            )
        )
    return dict(sorted(out.items()))


def analysis_results_beside(index: Path) -> Path | None:
    """The ``analysis_results_index.parquet`` beside the IDC index file
    ``index`` (the installed idc-index-data's, for its own index)."""
    side = index.with_name(ANALYSIS_RESULTS_FILE)
    return side if side.is_file() else None


def analysis_result_id(doi: str, known: dict[str, AnalysisResult]) -> str:
    """The id of the analysis result published under ``doi``: the index's,
    else one made from the DOI (``10.7937/TCIA.ABCD-1234`` ->
    ``doi_10_7937_tcia_abcd_1234``) for one IDC does not list.

    >>> analysis_result_id('https://doi.org/10.7937/TCIA.ABCD-1234', {})
    'doi_10_7937_tcia_abcd_1234'
    """
    norm = normalize_doi(doi)
    for rec in known.values():
        if rec.doi == norm:
            return rec.analysis_result_id
    return NBIA_ONLY_PREFIX + re.sub(r'[^a-z0-9]+', '_', norm).strip('_')
