"""``pipeline/idc_sources.py``: IDC's URL recorded for each deposited
file IDC holds with the same bytes; a listing that fails is a warning."""

from __future__ import annotations

from datalad_tcia.idc import IdcIndex
from datalad_tcia.idc.s3 import S3Client
from datalad_tcia.metadata import read_collection
from datalad_tcia.pipeline import RunSettings, refresh_idc
from datalad_tcia.pipeline.idc_sources import IdcSources
from datalad_tcia.store import StoreLayout
from tests.conftest import FAST_RETRY
from tests.idc_fixtures import IdcSide

from .conftest import PHI, idc_sources


def test_urls_for_the_files_idc_holds(acquired: RunSettings, idc: IdcSide) -> None:
    layout = StoreLayout(acquired.store, PHI)
    sources = idc_sources(idc)
    patients = read_collection(acquired.store, PHI).patients
    seen_changed = seen_missing = False
    for pid, patient_series in patients.items():
        now, out = refresh_idc(layout, pid, patient_series, sources)
        assert out.status == 'ok' and not out.warnings, out.message
        for dep in now:
            if dep.record.series_uid == idc.missing:
                seen_missing = True
                assert dep.record.idc is None
                assert all(m.idc_url is None for m in dep.members)
                continue
            assert dep.record.idc is not None
            assert dep.record.idc.idc_version == sources.index.version
            for m in dep.images:
                if m.sop_uid == idc.changed:
                    seen_changed = True
                    assert m.idc_url is None  # IDC holds other bytes
                else:
                    assert m.idc_url and m.idc_url.startswith(idc.s3.endpoint)
        # recorded in the deposit, so the next run has nothing to do
        again, out = refresh_idc(
            layout, pid, read_collection(acquired.store, PHI).patients[pid], sources
        )
        assert out.status == 'notneeded'
        assert again == now
    assert seen_changed and seen_missing


def test_a_listing_that_fails_is_a_warning(acquired: RunSettings, idc: IdcSide) -> None:
    layout = StoreLayout(acquired.store, PHI)
    down = IdcSources(
        IdcIndex(idc.index), S3Client('http://127.0.0.1:9', retry=FAST_RETRY)
    )
    pid, patient_series = next(
        iter(read_collection(acquired.store, PHI).patients.items())
    )
    now, out = refresh_idc(layout, pid, patient_series, down)
    assert out.status == 'ok' and out.warnings
    assert "cannot list IDC's" in out.warnings[0]
    assert 'run again' in out.warnings[0]
    assert all(m.idc_url is None for d in now for m in d.members)
