"""``pipeline/acquire.py``: every series of a plan acquired once, from
IDC or from NBIA as ``--source`` routes it, under its patient's lock."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import RunSettings, acquire_all, route
from datalad_tcia.pipeline.acquire import PatientLocks
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked
from tests.idc_fixtures import CleanIdc, IdcSide

from .conftest import PHI, idc_sources, lookalike_series, make_settings, planned


def test_each_series_once_then_nothing(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)
    first = list(acquire_all(settings, series))
    assert sorted(o.series.series_uid for o in first) == sorted(
        s.series_uid for s in series
    )
    assert {(o.status, o.source) for o in first} == {('ok', 'nbia')}
    assert len(tcia.requests('getImage')) == len(series)
    layout = StoreLayout(settings.store, PHI)
    for s in lookalike_series(tcia, PHI):
        records = json.loads(layout.dicoms_metadata(s.uid).read_text())
        got = sorted(m['md5'] for m in records if m.get('dicom'))
        assert got == sorted(i.md5 for i in s.instances)
    tcia.reset()
    again = list(acquire_all(settings, series))
    assert {o.status for o in again} == {'notneeded'}
    assert tcia.requests('getImage') == []


def test_routes_by_source(
    tcia: LookalikeServer, settings: RunSettings, idc: IdcSide, tmp_path
) -> None:
    series = planned(settings, PHI)
    listed = {s.series_uid for s in series} - {idc.missing}
    sources = idc_sources(idc)
    auto = make_settings(tcia, tmp_path / 'a', idc=sources)
    assert set(route(auto, series)) == listed
    nbia = make_settings(tcia, tmp_path / 'n', idc=sources, source='nbia')
    assert route(nbia, series) == {}
    # a series whose count NBIA reports differs from the index's: NBIA
    first = series[0]
    miscounted = [replace(first, image_count=99)]
    assert route(auto, miscounted) == {}


def test_source_idc_fails_a_series_the_index_lacks_and_keeps_the_rest(
    tcia: LookalikeServer, settings: RunSettings, clean_idc: CleanIdc, tmp_path
) -> None:
    series = planned(settings, PHI)
    only_idc = make_settings(
        tcia, tmp_path / 's', idc=idc_sources(clean_idc), source='idc', jobs=4
    )
    stranger = replace(series[0], series_uid='1.2.3.4.5.6')
    tcia.reset()
    out = list(acquire_all(only_idc, [*series, stranger]))
    failed = [o for o in out if o.status == 'error']
    assert [o.series.series_uid for o in failed] == ['1.2.3.4.5.6']
    assert 'does not list series 1.2.3.4.5.6' in failed[0].message
    assert {(o.status, o.source) for o in out if o not in failed} == {('ok', 'idc')}
    assert tcia.requests('getImage') == []


def test_a_patient_held_elsewhere_is_skipped(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)
    held = series[0].patient_id
    layout = StoreLayout(settings.store, PHI)
    layout.patient_lock('').parent.mkdir(parents=True)
    with StoreLock(layout.patient_lock(held or '')):
        out = list(acquire_all(settings, series))
    skipped = [o for o in out if o.status == 'impossible']
    theirs = [s for s in series if s.patient_id == held]
    assert len(skipped) == len(theirs)
    assert {o.status for o in out if o not in skipped} == {'ok'}
    for s in theirs:
        assert not layout.dicoms_metadata(s.series_uid).exists()


def test_patient_locks_are_shared_by_threads(tmp_path) -> None:
    locks = PatientLocks()
    path = tmp_path / 'p.lock'
    with locks.hold(path):
        with locks.hold(path), pytest.raises(StoreLocked):
            StoreLock(path).acquire()
        # the first holder still holds it
        with pytest.raises(StoreLocked):
            StoreLock(path).acquire()
    with StoreLock(path):
        pass
