"""Resolve a user's selection (SPEC section 7) to NBIA series.

A selection is any combination of a collection, a patient, a study, series
UIDs and a manifest (NBIA's ``.tcia``, or IDC's and TCIA's ``.s5cmd``),
narrowed by modality, body part, manufacturer and an SQL condition over
the IDC index's columns (``where``). Every part acts as a filter:
``--collection X --modality CT`` is the CT series of X; filters alone
(``--modality MR --body-part BRAIN``), or ``all_collections``, select
across every collection. Inputs
that name nothing are reported as :class:`SelectionProblem` objects (never
silently dropped), so commands can yield one ``impossible`` record per
bad input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datalad_tcia.idc import AnalysisChoice, AnalysisResult
from datalad_tcia.idc.s5cmd import is_s5cmd
from datalad_tcia.idc.where import WhereError
from datalad_tcia.nbia import ManifestError, SeriesInfo, read_manifest

from .named import canonical_collection, lookup_series_uids, s5cmd_series_uids
from .selection import (
    Resolution,
    Selection,
    SelectionProblem,
    SeriesSource,
    UuidResolver,
)
from .third_party import (
    analysis_mode,
    canonical_analysis_result,
    keeps,
    known_analyses,
    label_third_party,
    series_of_described,
)

if TYPE_CHECKING:
    pass

lgr = logging.getLogger('datalad.tcia.pipeline.select')


def resolve_selection(
    client: SeriesSource,
    selection: Selection,
    *,
    jobs: int = 4,
    uuids: UuidResolver | None = None,
    analyses: Mapping[str, AnalysisResult] | None = None,
) -> Resolution:
    """Resolve ``selection`` to the NBIA records of its series.

    Parameters
    ----------
    client: SeriesSource
      Where to look: NBIA, or the IDC index.
    selection: Selection
      What to look for.
    jobs: int
      Parallel requests when many series UIDs are looked up one by one.
    uuids: UuidResolver, optional
      The IDC index, which an ``.s5cmd`` manifest needs.
    analyses: mapping, optional
      The analysis results the IDC index lists (by id): names the
      third-party series NBIA lists. The IDC index's own by default.

    Returns
    -------
    Resolution
      Series sorted by collection, patient, study date and series number.
      Unknown or malformed inputs are listed as problems; a selection with
      problems may still have series (the parts that did resolve).

    Raises
    ------
    NbiaRequestError
      If NBIA cannot be queried.
    """
    res = Resolution()
    uids = _named_uids(selection, uuids, res)
    if uids is None:
        return res
    third = _third_party(client, selection, analyses, uuids, res)
    if third is None:
        return res
    collection = selection.collection
    if collection is not None:
        collection = canonical_collection(client, collection, res)
        if collection is None:
            return res
    where = None
    if selection.where is not None:
        where = _where_series(client, selection.where, res, third.mode)
        if where is None:
            return res
    one_by_one = bool(uids or selection.manifest)
    if one_by_one:
        series = lookup_series_uids(client, list(dict.fromkeys(uids)), res, jobs)
        series = [s for s in series if _matches(s, selection, collection)]
    elif selection.is_empty:
        msg = 'empty selection: give a collection, patient, study, series or manifest'
        raise ValueError(msg)
    else:
        found = _query(client, selection, collection, where, third, res, jobs)
        if found is None:
            return res
        series = found
    if where is not None:
        series = [s for s in series if s.series_uid in where]
    series = label_third_party(series, third.known)
    if not one_by_one or third.named is not None:
        series = [s for s in series if keeps(s, third.mode, third.named)]
    if not series and not res.problems:
        if uids or selection.manifest or selection.all_collections or where:
            res.problems.append(_no_match(selection))
        else:
            res.problems.append(_explain_empty(client, selection, collection))
    res.series = sorted(series, key=_sort_key)
    return res


def _named_uids(
    selection: Selection, uuids: UuidResolver | None, res: Resolution
) -> list[str] | None:
    """The series UIDs ``selection`` names one by one (``--series``, a
    manifest); ``None`` (and a problem) if its manifest cannot be used."""
    uids = list(selection.series)
    if selection.manifest and is_s5cmd(selection.manifest):
        if not s5cmd_series_uids(selection.manifest, uuids, uids, res):
            return None
    elif selection.manifest:
        try:
            uids.extend(read_manifest(selection.manifest).series_uids)
        except ManifestError as e:
            res.problems.append(
                SelectionProblem('bad-manifest', selection.manifest, str(e))
            )
            return None
    return uids


@dataclass(frozen=True)
class _ThirdParty:
    """What a selection takes of analysis results: those known (by id),
    the one it names, and idc-index's ``analysis_results`` choice."""

    known: Mapping[str, AnalysisResult]
    named: str | None
    mode: str

    def kinds(self, client: SeriesSource) -> dict[str, Any]:
        """The IDC index answers for analysis results itself; NBIA lists
        them among the collection's series (labelled and sorted out
        after)."""
        if not hasattr(client, 'analysis_results'):
            return {}
        return {'analysis': AnalysisChoice(self.mode, self.named)}


def _third_party(
    client: SeriesSource,
    selection: Selection,
    analyses: Mapping[str, AnalysisResult] | None,
    uuids: UuidResolver | None,
    res: Resolution,
) -> _ThirdParty | None:
    """How ``selection`` takes analysis results; ``None`` (and a problem)
    if it names one that is unknown."""
    known = known_analyses(client, analyses, uuids)
    named = None
    if selection.analysis_result:
        named, why = canonical_analysis_result(selection.analysis_result, known)
        if named is None:
            res.problems.append(
                SelectionProblem(
                    'unknown-analysis-result', selection.analysis_result, str(why)
                )
            )
            return None
    return _ThirdParty(
        known, named, analysis_mode(named, selection.with_analysis_results)
    )


def _query(
    client: SeriesSource,
    selection: Selection,
    collection: str | None,
    where: Mapping[str, SeriesInfo] | None,
    third: _ThirdParty,
    res: Resolution,
    jobs: int,
) -> list[SeriesInfo] | None:
    """The series a selection of no UIDs asks for: by an SQL condition
    alone, across collections, or by NBIA's filters; ``None`` (and a
    problem) if NBIA cannot answer for the analysis result named."""
    kinds = third.kinds(client)
    if where is not None and not (collection or selection.patient or selection.study):
        return [s for s in where.values() if _matches(s, selection, None)]
    if collection is None and not (selection.patient or selection.study):
        if third.named is not None and not kinds:
            # NBIA: among the series of the collections it describes
            rec = third.known.get(third.named)
            if rec is None:
                res.problems.append(_add_collection(selection, third.named))
                return None
            return series_of_described(client, rec, _filters(selection), jobs)
        return _every_collection(client, selection, jobs, kinds)
    return client.get_series(
        collection=collection,
        patient_id=selection.patient,
        study_uid=selection.study,
        modality=selection.modality,
        body_part=selection.body_part,
        manufacturer=selection.manufacturer,
        **kinds,
    )


def _filters(selection: Selection) -> dict[str, str | None]:
    """The parts of ``selection`` that NBIA's ``getSeries`` takes besides
    a collection."""
    return {
        'patient_id': selection.patient,
        'study_uid': selection.study,
        'modality': selection.modality,
        'body_part': selection.body_part,
        'manufacturer': selection.manufacturer,
    }


def _add_collection(selection: Selection, named: str) -> SelectionProblem:
    return SelectionProblem(
        'unknown-analysis-result',
        selection.analysis_result or named,
        'NBIA lists the series of an analysis result among those of the '
        'collection it describes, and the IDC index does not list '
        f'{selection.analysis_result!r}: add --collection',
    )


def _where_series(
    client: SeriesSource, condition: str, res: Resolution, mode: str
) -> dict[str, SeriesInfo] | None:
    """The series matching the SQL ``condition``, by UID; ``None`` (and a
    problem) if the condition cannot be answered."""
    finder = getattr(client, 'series_where', None)
    if finder is None:
        res.problems.append(
            SelectionProblem(
                'bad-where',
                condition,
                f'a condition (--where) is answered by the IDC index only, not '
                f'by {client.where}: add --index idc',
            )
        )
        return None
    try:
        found: list[SeriesInfo] = finder(condition, analysis=AnalysisChoice(mode))
    except WhereError as e:
        res.problems.append(SelectionProblem('bad-where', condition, str(e)))
        return None
    return {s.series_uid: s for s in found}


def _every_collection(
    client: SeriesSource,
    selection: Selection,
    jobs: int,
    kinds: Mapping[str, Any],
) -> list[SeriesInfo]:
    """The series of every collection that pass the selection's filters:
    one query of the IDC index, or NBIA asked collection by collection
    (its one listing of everything is one huge answer)."""
    filters = {
        'modality': selection.modality,
        'body_part': selection.body_part,
        'manufacturer': selection.manufacturer,
    }
    if hasattr(client, 'series_where') or any(filters.values()):
        return client.get_series(**filters, **kinds)
    names = client.get_collection_values()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        answers = pool.map(lambda name: client.get_series(collection=name), names)
        return [s for series in answers for s in series]


def _matches(s: SeriesInfo, sel: Selection, collection: str | None) -> bool:
    checks: Iterable[tuple[str | None, str | None, Callable[[str], str]]] = (
        (collection, s.collection, str.upper),
        (sel.patient, s.patient_id, str.upper),
        (sel.study, s.study_uid, str),
        (sel.modality, s.modality, str.upper),
        (sel.body_part, s.body_part, str.upper),
        (sel.manufacturer, s.manufacturer, str.upper),
    )
    return all(
        want is None or (have is not None and norm(want) == norm(have))
        for want, have, norm in checks
    )


def _explain_empty(
    client: SeriesSource, sel: Selection, collection: str | None
) -> SelectionProblem:
    # find the first part that selects nothing on its own, to name it
    if sel.patient and not client.get_series(patient_id=sel.patient):
        return SelectionProblem(
            'unknown-patient',
            sel.patient,
            f'unknown patient {sel.patient!r}: {client.where} has no '
            'public series of this PatientID',
        )
    if sel.study and not client.get_series(study_uid=sel.study):
        return SelectionProblem(
            'unknown-study',
            sel.study,
            f'unknown study {sel.study!r}: {client.where} has no '
            'public series with this StudyInstanceUID',
        )
    return _no_match(sel)


def _no_match(sel: Selection) -> SelectionProblem:
    return SelectionProblem(
        'no-match',
        sel.describe(),
        f'no series match {sel.describe()}: each part exists, but not in '
        'this combination; drop a filter to see what is there',
    )


def _sort_key(s: SeriesInfo) -> tuple[str, str, str, str, int, str]:
    return (
        (s.published_in or '').upper(),
        s.patient_id or '',
        s.study_date.isoformat() if s.study_date else '',
        s.study_uid or '',
        s.series_number if s.series_number is not None else -1,
        s.series_uid,
    )
