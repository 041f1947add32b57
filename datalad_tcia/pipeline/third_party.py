"""Third-party series in a selection: analysis results (segmentations,
reports, annotations others made of a collection's images) belong to
their analysis result's dataset, never to the collection they describe.

One rule for both sources: IDC marks such a series with its
``analysis_result_id``; NBIA lists it among the collection's series with
``ThirdPartyAnalysis`` ``YES`` and the analysis result's DOI in
``DataDescriptionURI``, from which its id is found
(:func:`~datalad_tcia.idc.analysis_result_id`: IDC's id for the DOI, else
one made from the DOI). A selection keeps original data only, unless it
names an analysis result (``--analysis-result``: its series only) or asks
for the analysis results with it (``--with-analysis-results``); series
named one by one (UIDs, manifests) are taken whatever they are.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from datalad_tcia.idc import (
    AnalysisIndexError,
    AnalysisResult,
    IdcIndexError,
    analysis_result_id,
    analysis_results_beside,
    default_index_path,
    idc_collection_id,
    read_analysis_results,
)
from datalad_tcia.idc.analysis import NBIA_ONLY_PREFIX
from datalad_tcia.idc.convert import normalize_doi
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.nbia.records import ANALYSIS_RESULT

lgr = logging.getLogger('datalad.tcia.pipeline.third_party')

#: an analysis result named by its DOI starts so
_DOI_START = '10.'
#: the id of the third-party series of a collection without a DOI ends so
NO_DOI_SUFFIX = '_third_party'


def nbia_only(ident: str) -> bool:
    """Whether ``ident`` is an id this package made for an analysis result
    only NBIA lists (which NBIA answers for only collection by
    collection)."""
    return ident.startswith(NBIA_ONLY_PREFIX) or ident.endswith(NO_DOI_SUFFIX)


def analysis_mode(named: str | None, with_all: bool) -> str:
    """idc-index's ``analysis_results`` choice for a selection that names
    the analysis result ``named`` or asks for all of them (``with_all``).

    >>> analysis_mode(None, False), analysis_mode('x', False), analysis_mode(None, True)
    ('exclude', 'only', 'include')
    """
    if named:
        return 'only'
    return 'include' if with_all else 'exclude'


def label_third_party(
    series: Sequence[SeriesInfo], known: Mapping[str, AnalysisResult]
) -> list[SeriesInfo]:
    """``series`` with every third-party series NBIA lists (no id yet)
    given the id of its analysis result, found from its DOI."""
    out = []
    for s in series:
        if s.analysis_result is None and s.third_party:
            doi = s.data_description_uri
            ident = (
                analysis_result_id(doi, dict(known))
                if doi
                else f'{idc_collection_id(s.collection or "")}{NO_DOI_SUFFIX}'
            )
            out.append(
                replace(s, analysis_result=ident, raw={**s.raw, ANALYSIS_RESULT: ident})
            )
        else:
            out.append(s)
    return out


def series_of_described(
    client: Any,
    analysis: AnalysisResult,
    filters: Mapping[str, str | None],
    jobs: int,
) -> list[SeriesInfo]:
    """The series NBIA (``client``) lists, with ``filters``, in every
    collection ``analysis`` describes (the IDC index's list says which):
    those of the analysis result among them are labelled later."""
    names = {idc_collection_id(n): n for n in client.get_collection_values()}
    wanted = [names[c] for c in analysis.collections if c in names]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        answers = pool.map(
            lambda name: client.get_series(collection=name, **filters), wanted
        )
        return [s for series in answers for s in series]


def keeps(s: SeriesInfo, mode: str, named: str | None) -> bool:
    """Whether a selection of ``mode`` (naming ``named``) keeps ``s``."""
    if named is not None:
        return s.analysis_result == named
    if mode == 'include':
        return True
    return (s.analysis_result is not None) == (mode == 'only')


def canonical_analysis_result(
    name: str, known: Mapping[str, AnalysisResult]
) -> tuple[str | None, str | None]:
    """The id of the analysis result ``name`` (an id, case-insensitive,
    or a DOI), and a message if there is none.

    A DOI the index does not list names an analysis result only NBIA
    has: its id is made from the DOI.
    """
    wanted = name.strip()
    by_lower = {k.lower(): k for k in known}
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()], None
    doi = normalize_doi(wanted)
    if doi.startswith(_DOI_START):
        return analysis_result_id(doi, dict(known)), None
    if nbia_only(wanted):
        # an id this package made for one only NBIA lists
        return wanted, None
    close = difflib.get_close_matches(wanted.lower(), list(by_lower), n=3, cutoff=0.6)
    hint = (
        f' Did you mean {", ".join(repr(by_lower[c]) for c in close)}?' if close else ''
    )
    where = (
        f'the {len(known)} analysis results of the IDC index'
        if known
        else 'no list of analysis results (the IDC index has none beside it)'
    )
    return None, (
        f'unknown analysis result {name!r}: not among {where}.{hint} Run '
        '"datalad tcia-ls --analysis-results" to list them, or name one '
        'that only NBIA has by its DOI, with --collection'
    )


def analysis_listing(known: Mapping[str, AnalysisResult]) -> list[dict[str, Any]]:
    """One row per analysis result, for ``tcia-ls --analysis-results``:
    id, title, DOI, collections, modalities, patients and series."""
    return [
        {
            'type': 'analysis-result',
            'AnalysisResult': ident,
            'Title': rec.title,
            'DOI': rec.doi,
            'Collections': list(rec.collections),
            'Modalities': list(rec.modalities),
            'Patients': rec.subjects,
            'Series': rec.series,
            'License': rec.license_short or rec.license_name,
            'Publisher': 'TCIA' if rec.is_tcia else 'IDC (Zenodo)',
        }
        for ident, rec in sorted(known.items())
    ]


def known_analyses(
    client: object,
    given: Mapping[str, AnalysisResult] | None,
    uuids: object | None,
) -> Mapping[str, AnalysisResult]:
    """The analysis results ``given``, else those listed beside the IDC
    index that answers or is at hand, else beside the installed
    idc-index-data's (none if there is no list): NBIA's third-party
    series get the same ids whether IDC is used or not."""
    if given is not None:
        return given
    for lister in (
        getattr(client, 'analysis_results', None),
        getattr(uuids, 'analysis_results', None),
    ):
        if lister is not None:
            try:
                found: Mapping[str, AnalysisResult] = lister()
            except AnalysisIndexError as e:
                lgr.warning('%s', e)
                continue
            return found
    try:
        side = analysis_results_beside(default_index_path())
        return read_analysis_results(side) if side else {}
    except (IdcIndexError, AnalysisIndexError) as e:
        lgr.debug('no list of analysis results: %s', e)
        return {}
