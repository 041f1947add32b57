"""``pipeline/acquire_nbia.py``: one series downloaded from NBIA,
verified and deposited; a bad archive leaves nothing under a final name;
a revised series keeps its earlier records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.metadata import read_series_record
from datalad_tcia.pipeline import RunSettings, acquire_from_nbia
from datalad_tcia.store import StoreLayout

from .conftest import PHI, lookalike_series, make_settings, planned


def _final_names(layout: StoreLayout) -> list[str]:
    return sorted(
        p.name
        for d in (layout.archives, layout.metadata)
        if d.exists()
        for p in d.iterdir()
        if not p.name.startswith('.')
    )


def test_one_series_downloaded_verified_and_deposited(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)[0]
    layout = StoreLayout(settings.store, PHI)
    got: list[int] = []
    out = acquire_from_nbia(settings.nbia, layout, series, on_bytes=got.append)
    assert out.status == 'ok', out.message
    archive = layout.archive(series.series_uid)
    data = archive.read_bytes()
    assert out.archive_md5 == hashlib.md5(data).hexdigest()
    assert out.archive_size == len(data) == sum(got)
    record = read_series_record(layout, series.series_uid)
    assert (record.source, record.archive.md5) == ('nbia', out.archive_md5)
    members = json.loads(layout.dicoms_metadata(series.series_uid).read_text())
    truth = next(s for s in lookalike_series(tcia, PHI) if s.uid == series.series_uid)
    assert sorted(m['md5'] for m in members if m['dicom']) == sorted(
        i.md5 for i in truth.instances
    )
    again = acquire_from_nbia(settings.nbia, layout, series)
    assert again.status == 'notneeded'


def test_an_archive_failing_verification_leaves_nothing(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)[0]
    layout = StoreLayout(settings.store, PHI)
    tcia.faults.add('drop_member', 'getImage', times=None)
    out = acquire_from_nbia(
        settings.nbia, layout, series, attempts=2, sleep=lambda _s: None
    )
    assert out.status == 'error'
    assert 'run' in out.message.lower()  # says what to do
    assert len(tcia.requests('getImage')) == 2
    assert _final_names(layout) == []
    tcia.faults.clear()
    assert acquire_from_nbia(settings.nbia, layout, series).status == 'ok'


def test_a_revised_series_keeps_its_earlier_records(tmp_path: Path) -> None:
    with LookalikeServer() as srv:
        settings = make_settings(srv, tmp_path / 'store')
        first = planned(settings, PHI)[0]
        layout = StoreLayout(settings.store, PHI)
        assert acquire_from_nbia(settings.nbia, layout, first).status == 'ok'
        before = layout.dicoms_metadata(first.series_uid).read_bytes()
        srv.archive.revise(first.series_uid)
        now = next(
            s for s in planned(settings, PHI) if s.series_uid == first.series_uid
        )
        out = acquire_from_nbia(settings.nbia, layout, now)
        assert out.status == 'ok', out.message
        record = read_series_record(layout, first.series_uid)
        assert record.revised is not None
        kept = layout.metadata / record.revised.superseded
        assert kept.exists()
        older = [p for p in kept.parent.iterdir() if p.read_bytes() == before]
        assert len(older) == 1
        assert layout.dicoms_metadata(first.series_uid).read_bytes() != before
