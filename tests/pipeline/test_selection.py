"""``pipeline/selection.py``: what a selection is made of decides how
it is resolved: empty, filtered, whole (withdrawals follow)."""

from __future__ import annotations

import pytest

from datalad_tcia.pipeline.selection import Selection


def test_nothing_selected_is_empty() -> None:
    assert Selection().is_empty
    assert not Selection(modality='MR').is_empty  # filters alone select
    assert not Selection(analysis_result='x').is_empty


@pytest.mark.parametrize(
    ('selection', 'filtered', 'whole'),
    [
        (Selection(collection='C'), False, True),
        (Selection(patient='P'), False, True),
        (Selection(all_collections=True), False, True),
        (Selection(collection='C', modality='CT'), True, False),
        (Selection(collection='C', where="Modality = 'CT'"), True, False),
        (Selection(collection='C', study='1.2'), False, False),
        (Selection(series=('1.2',)), False, False),
        (Selection(manifest='m.tcia'), False, False),
    ],
)
def test_filtered_and_whole(selection: Selection, filtered: bool, whole: bool) -> None:
    """A whole selection names whole collections or patients: a recorded
    series it no longer finds was withdrawn upstream; any narrower part
    says nothing of the series it leaves out."""
    assert selection.has_filter is filtered
    assert selection.is_whole is whole
