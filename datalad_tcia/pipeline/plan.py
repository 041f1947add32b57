"""The plan step: a selection -> collections -> patients -> series."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from datalad_tcia.nbia import NbiaError, SeriesInfo
from datalad_tcia.pipeline.select import resolve_selection
from datalad_tcia.pipeline.selection import Selection, SeriesSource, UuidResolver

from .outcomes import Problem

lgr = logging.getLogger('datalad.tcia.pipeline.plan')


@dataclass
class Plan:
    """The series a selection names, or why it names none.

    Attributes
    ----------
    series: list of SeriesInfo
      NBIA's records, sorted by collection, patient, study and series.
    problems: list of datalad_tcia.pipeline.outcomes.Problem
      Bad parts of the selection (nothing is to be done then), or why
      NBIA could not be asked.
    notes: list of datalad_tcia.pipeline.outcomes.Problem
      Parts skipped that do not stop the rest (``notneeded``: an
      ``.s5cmd`` line matching no series).
    """

    series: list[SeriesInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def collections(self) -> dict[str, dict[str, list[SeriesInfo]]]:
        """Dataset name (a collection, or an analysis result) -> PatientID
        -> series."""
        out: dict[str, dict[str, list[SeriesInfo]]] = {}
        for s in self.series:
            by_patient = out.setdefault(s.published_in or '', {})
            by_patient.setdefault(s.patient_id or '', []).append(s)
        return out


def plan_selection(
    client: SeriesSource,
    selection: Selection,
    store: Path,
    *,
    jobs: int = 1,
    uuids: UuidResolver | None = None,
) -> Plan:
    """Resolve ``selection`` on NBIA (or the IDC index) for work on
    ``store``.

    Any bad part of the selection makes the whole plan empty: bad input
    changes nothing.
    """
    plan = Plan()
    if selection.is_empty:
        plan.problems.append(
            Problem(
                'plan',
                'impossible',
                'nothing selected: give --collection, --patient, --study, '
                '--series or --manifest',
            )
        )
        return plan
    if store.exists() and not store.is_dir():
        plan.problems.append(
            Problem(
                'plan',
                'impossible',
                f'the store {store} is not a directory; give --store a directory',
                path=store,
            )
        )
        return plan
    try:
        resolved = resolve_selection(client, selection, jobs=jobs, uuids=uuids)
    except NbiaError as e:
        plan.problems.append(
            Problem(
                'plan',
                'error',
                f'cannot query {client.where}: {e}. Nothing was downloaded; '
                'check the API URL and run again',
                exception=e,
            )
        )
        return plan
    # bad input changes nothing: report every bad part, plan none
    plan.problems.extend(
        Problem(
            'plan',
            'impossible',
            f'{p.message}. Nothing was downloaded',
            kind=p.kind,
            value=p.value,
        )
        for p in resolved.problems
    )
    plan.notes.extend(
        Problem('plan', 'notneeded', p.message, kind=p.kind, value=p.value)
        for p in resolved.notes
    )
    if not plan.problems:
        plan.series = resolved.series
    return plan
