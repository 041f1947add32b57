"""``pipeline/withdraw.py``: deposited series the upstream no longer
lists leave the deposit (their records kept in ``metadata/withdrawn/``),
only within the selection's scope, and for IDC only what IDC gave."""

from __future__ import annotations

import time

from datalad_tcia.pipeline import RunSettings
from datalad_tcia.pipeline.withdraw import (
    withdraw_missing,
    withdrawn_patients,
    withdrawn_since,
)
from datalad_tcia.store import StoreLayout

from .conftest import PHI, planned


def test_withdrawn_within_scope_with_records_kept(acquired: RunSettings) -> None:
    series = planned(acquired, PHI)
    layout = StoreLayout(acquired.store, PHI)
    gone = series[-1]
    others = {s.series_uid for s in series} - {gone.series_uid}
    # a selection of another patient: nothing of this one is in scope
    outside = list(
        withdraw_missing(layout, others, lambda s: s.patient_id == 'SOMEONE-ELSE')
    )
    assert outside == []
    # IDC planned it, but NBIA gave the series: IDC's silence proves nothing
    assert list(withdraw_missing(layout, others, lambda s: True, upstream='idc')) == []
    before = time.time() - 1
    out = list(withdraw_missing(layout, others, lambda s: True))
    assert [(o.status, o.series.series_uid) for o in out] == [('ok', gone.series_uid)]
    assert out[0].message.startswith('withdrawn from NBIA')
    assert not layout.dicoms_metadata(gone.series_uid).exists()
    assert not layout.archive_metadata(gone.series_uid).exists()
    kept = layout.withdrawn(gone.series_uid)
    assert all(p.exists() for p in kept)
    assert sorted(layout.recorded_series()) == sorted(others)
    assert withdrawn_patients(layout) == {gone.patient_id}
    assert withdrawn_since(layout, gone.patient_id or '', before) == [gone.series_uid]
    assert withdrawn_since(layout, gone.patient_id or '', time.time() + 1) == []
    # done once: a second pass has nothing to withdraw
    assert list(withdraw_missing(layout, others, lambda s: True)) == []


def test_a_withdrawal_killed_half_way_is_finished(acquired: RunSettings) -> None:
    series = planned(acquired, PHI)
    layout = StoreLayout(acquired.store, PHI)
    gone = series[0]
    apath, _dpath = layout.withdrawn(gone.series_uid)
    apath.parent.mkdir(parents=True)
    # killed after the series record moved, before the file records did
    layout.archive_metadata(gone.series_uid).replace(apath)
    planned_now = {s.series_uid for s in series} - {gone.series_uid}
    assert list(withdraw_missing(layout, planned_now, lambda s: True)) == []
    assert all(p.exists() for p in layout.withdrawn(gone.series_uid))
    assert not layout.dicoms_metadata(gone.series_uid).exists()
