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

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from datalad_tcia.idc import AnalysisChoice, AnalysisResult
from datalad_tcia.idc.s5cmd import is_s5cmd, read_s5cmd_manifest
from datalad_tcia.idc.where import WhereError
from datalad_tcia.nbia import ManifestError, SeriesInfo, is_uid, read_manifest

from .third_party import (
    analysis_mode,
    canonical_analysis_result,
    keeps,
    known_analyses,
    label_third_party,
    series_of_described,
)

if TYPE_CHECKING:
    from datalad_tcia.idc.index import VersionMatch

lgr = logging.getLogger('datalad.tcia.pipeline.select')


class UuidResolver(Protocol):
    """What maps IDC's series UUIDs to series (the IDC index)."""

    version: str

    def series_of_uuids(self, uuids: Sequence[str]) -> Mapping[str, VersionMatch]: ...


class SeriesSource(Protocol):
    """What answers a selection: NBIA (:class:`~datalad_tcia.nbia.NbiaClient`)
    or the IDC index (:class:`~datalad_tcia.idc.IdcIndex`)."""

    @property
    def where(self) -> str:
        """Who answers, for messages."""
        ...

    def get_collection_values(self) -> list[str]: ...

    def collection_alias(self, name: str) -> str | None:
        """The name of the collection known by another name ``name``."""
        ...

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
    ) -> list[SeriesInfo]: ...


@dataclass(frozen=True)
class Selection:
    """What a user asked for.

    All given parts must match (they are combined with AND); series UIDs from
    ``series`` and from the manifest are pooled. ``all_collections``
    selects every collection; ``where`` is an SQL condition over the IDC
    index's columns.
    """

    collection: str | None = None
    patient: str | None = None
    study: str | None = None
    series: tuple[str, ...] = ()
    manifest: str | None = None
    modality: str | None = None
    body_part: str | None = None
    manufacturer: str | None = None
    all_collections: bool = False
    where: str | None = None
    analysis_result: str | None = None
    with_analysis_results: bool = False

    @property
    def is_empty(self) -> bool:
        """Whether nothing at all was selected."""
        return not (
            self.collection
            or self.patient
            or self.study
            or self.series
            or self.manifest
            or self.all_collections
            or self.analysis_result
            or self.has_filter
        )

    @property
    def has_filter(self) -> bool:
        """Whether a filter (modality, body part, manufacturer, an SQL
        condition) narrows it."""
        return bool(self.modality or self.body_part or self.manufacturer or self.where)

    @property
    def is_whole(self) -> bool:
        """Whether it names whole collections or patients (no study,
        series, manifest or filter): then a recorded series it no longer
        finds was withdrawn upstream."""
        return bool(
            self.collection
            or self.patient
            or self.all_collections
            or self.analysis_result
        ) and not (self.study or self.series or self.manifest or self.has_filter)

    def describe(self) -> str:
        """A short human-readable description, for messages."""
        parts = ['every collection'] if self.all_collections else []
        for label, value in (
            ('collection', self.collection),
            ('patient', self.patient),
            ('study', self.study),
            ('manifest', self.manifest),
            ('modality', self.modality),
            ('body part', self.body_part),
            ('manufacturer', self.manufacturer),
            ('condition', self.where),
            ('analysis result', self.analysis_result),
        ):
            if value:
                parts.append(f'{label} {value!r}')
        if self.series:
            parts.append(f'{len(self.series)} series UID(s)')
        if self.with_analysis_results:
            parts.append('with their analysis results')
        return ', '.join(parts) or 'nothing'


@dataclass(frozen=True)
class SelectionProblem:
    """One part of a selection that selects nothing.

    Attributes
    ----------
    kind: str
      ``unknown-collection``, ``unknown-patient``, ``unknown-study``,
      ``unknown-series``, ``malformed-uid``, ``bad-manifest``,
      ``bad-where`` or ``no-match``.
    value: str
      The offending input.
    message: str
      What is wrong and what to do about it.
    """

    kind: str
    value: str
    message: str


@dataclass
class Resolution:
    """The series a selection resolved to, its problems, and notes on
    parts skipped that do not stop the rest (``.s5cmd`` lines that match
    no series, as idc-index treats them)."""

    series: list[SeriesInfo] = field(default_factory=list)
    problems: list[SelectionProblem] = field(default_factory=list)
    notes: list[SelectionProblem] = field(default_factory=list)


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
        collection = _canonical_collection(client, collection, res)
        if collection is None:
            return res
    where = None
    if selection.where is not None:
        where = _where_series(client, selection.where, res, third.mode)
        if where is None:
            return res
    one_by_one = bool(uids or selection.manifest)
    if one_by_one:
        series = _lookup_uids(client, list(dict.fromkeys(uids)), res, jobs)
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
        if not _s5cmd_uids(selection.manifest, uuids, uids, res):
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


def _s5cmd_uids(
    path: str, uuids: UuidResolver | None, out: list[str], res: Resolution
) -> bool:
    """Add the series an ``.s5cmd`` manifest names to ``out``; notes for
    lines that name none. False when the manifest cannot be used."""
    try:
        manifest = read_s5cmd_manifest(path)
    except ManifestError as e:
        res.problems.append(SelectionProblem('bad-manifest', path, str(e)))
        return False
    if uuids is None:
        res.problems.append(
            SelectionProblem(
                'bad-manifest',
                path,
                f"{path} is an .s5cmd manifest: it names IDC's series UUIDs, "
                'which only the IDC index maps to series. Install it (pip '
                'install idc-index-data) or point datalad.tcia.idc-index at '
                'one, and do not turn IDC off (--no-idc)',
            )
        )
        return False
    found = uuids.series_of_uuids(manifest.series_uuids)
    for line in manifest.lines:
        match = found.get(line.series_uuid or '')
        where = f'{path}, line {line.number} ({line.text.strip()!r})'
        if match is None:
            res.notes.append(
                SelectionProblem(
                    'unmatched-line',
                    line.text.strip(),
                    f'{where} names no series the IDC index '
                    f'({uuids.version}) knows: skipped',
                )
            )
            continue
        if not match.current:
            res.notes.append(
                SelectionProblem(
                    'earlier-version',
                    line.text.strip(),
                    f'{where} names the version of series {match.series_uid} '
                    f'IDC served in {match.versions}: the series is selected, '
                    'in its current version (the earlier stays in IDC)',
                )
            )
        out.append(match.series_uid)
    if not out:
        res.problems.append(
            SelectionProblem(
                'bad-manifest',
                path,
                f'no line of {path} names a series the IDC index '
                f'({uuids.version}) knows',
            )
        )
        return False
    return True


def _canonical_collection(
    client: SeriesSource, name: str, res: Resolution
) -> str | None:
    names = client.get_collection_values()
    by_upper = {n.upper(): n for n in names}
    # NBIA matches collection names case-insensitively; use its spelling
    if name.upper() in by_upper:
        return by_upper[name.upper()]
    # the IDC index also knows a collection by its collection_id and DOI
    alias = client.collection_alias(name)
    if alias is not None:
        return alias
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
    res.problems.append(
        SelectionProblem(
            'unknown-collection',
            name,
            f'unknown collection {name!r}: {client.where} does not '
            f'serve it.{hint} Run "datalad tcia-ls" to list all collections.',
        )
    )
    return None


def _lookup_uids(
    client: SeriesSource, uids: list[str], res: Resolution, jobs: int
) -> list[SeriesInfo]:
    valid = []
    for uid in uids:
        if is_uid(uid):
            valid.append(uid)
        else:
            res.problems.append(
                SelectionProblem(
                    'malformed-uid',
                    uid,
                    f'malformed SeriesInstanceUID {uid!r}: a DICOM UID is '
                    'digits and dots, at most 64 characters',
                )
            )

    def one(uid: str) -> list[SeriesInfo]:
        return client.get_series(series_uid=uid)

    # an index answers for all UIDs in one query; NBIA one by one
    many = getattr(client, 'series_many', None)
    found: list[SeriesInfo] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        if many is not None:
            known = many(valid)
            answers = [[known[u]] if u in known else [] for u in valid]
        else:
            answers = list(pool.map(one, valid))
        for uid, rows in zip(valid, answers, strict=True):
            if rows:
                found.extend(r for r in rows if r.series_uid == uid)
            else:
                res.problems.append(
                    SelectionProblem(
                        'unknown-series',
                        uid,
                        f'unknown series {uid!r}: {client.where} has '
                        'no public series with this SeriesInstanceUID (NLST '
                        "series live on the 'nlst' server)",
                    )
                )
    return found


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
