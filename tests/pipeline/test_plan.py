"""``pipeline/plan.py``: a selection planned into series per collection
and patient, by NBIA or by the IDC index (then NBIA is not asked)."""

from __future__ import annotations

from tcia_lookalike import LookalikeServer

from datalad_tcia.idc import IdcIndex
from datalad_tcia.pipeline import RunSettings, Selection, plan_selection
from tests.idc_fixtures import CleanIdc

from .conftest import PHI


def _key(series: list) -> list[tuple]:
    return sorted(
        (s.collection, s.patient_id, s.study_uid, s.series_uid, s.image_count)
        for s in series
    )


def test_plan_from_nbia_and_from_the_index_agree(
    tcia: LookalikeServer, settings: RunSettings, clean_idc: CleanIdc
) -> None:
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    expected = sorted(
        (PHI, p.patient_id, st.uid, s.uid, len(s.instances))
        for p in coll.patients
        for st in p.studies
        for s in st.series
    )
    by_nbia = plan_selection(settings.nbia, Selection(collection=PHI), settings.store)
    assert _key(by_nbia.series) == expected and not by_nbia.problems
    tcia.reset()
    index = IdcIndex(clean_idc.index)
    by_index = plan_selection(index, Selection(collection=PHI), settings.store)
    assert _key(by_index.series) == expected
    assert tcia.requests() == []


def test_a_bad_input_is_a_plan_problem_and_nothing_is_planned(
    settings: RunSettings,
) -> None:
    plan = plan_selection(
        settings.nbia, Selection(collection='No-Such-Collection'), settings.store
    )
    assert plan.series == []
    assert [(p.stage, p.status, p.kind) for p in plan.problems] == [
        ('plan', 'impossible', 'unknown-collection')
    ]
    assert not settings.store.exists()
