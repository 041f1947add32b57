"""``pipeline/acquire_idc.py``: one series from IDC without its pixel
data gives the records a download from NBIA gives; a series failing
verification writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.metadata import read_series_record
from datalad_tcia.pipeline import (
    IdcAcquisition,
    RunSettings,
    acquire_from_idc,
    acquire_from_nbia,
)
from datalad_tcia.pipeline.idc_sources import IdcSources
from datalad_tcia.store import StoreLayout
from tests.idc_fixtures import CleanIdc

from .conftest import ENC, idc_sources, planned


@pytest.fixture
def acquisition(clean_idc: CleanIdc) -> Iterator[tuple[IdcAcquisition, IdcSources]]:
    sources = idc_sources(clean_idc)
    with ThreadPoolExecutor(4) as pool:
        yield (
            IdcAcquisition(sources.s3, sources.index.version, None, pool, DEFAULT_TAGS),
            sources,
        )


def _records(layout: StoreLayout, uid: str) -> list[tuple]:
    return sorted(
        (m['path'], m['size'], m['md5'], m.get('SOPInstanceUID'))
        for m in json.loads(layout.dicoms_metadata(uid).read_text())
        if m['dicom']
    )


def test_the_records_nbia_gives_from_headers_only(
    tcia: LookalikeServer,
    settings: RunSettings,
    acquisition: tuple[IdcAcquisition, IdcSources],
    tmp_path,
) -> None:
    acq, sources = acquisition
    # the encodings collection: big endian, deflated, compressed, a
    # multipart object
    for series in planned(settings, ENC):
        loc = sources.locate([series.series_uid])[series.series_uid]
        by_idc = StoreLayout(tmp_path / 'idc', ENC)
        out = acquire_from_idc(acq, by_idc, series, loc)
        assert (out.status, out.source) == ('ok', 'idc'), out.message
        by_nbia = StoreLayout(tmp_path / 'nbia', ENC)
        assert acquire_from_nbia(settings.nbia, by_nbia, series).status == 'ok'
        uid = series.series_uid
        assert _records(by_idc, uid) == _records(by_nbia, uid)
        record = read_series_record(by_idc, uid)
        assert record.source == 'idc' and record.archive is None
        assert record.idc is not None and record.idc.series_uuid == loc.series_uuid
        assert not by_idc.archive(uid).exists()
        assert acquire_from_idc(acq, by_idc, series, loc).status == 'notneeded'


def test_a_count_other_than_the_index_writes_nothing(
    settings: RunSettings, acquisition: tuple[IdcAcquisition, IdcSources], tmp_path
) -> None:
    acq, sources = acquisition
    series = planned(settings, ENC)[0]
    loc = sources.locate([series.series_uid])[series.series_uid]
    wrong = replace(loc, instance_count=(loc.instance_count or 0) + 1)
    layout = StoreLayout(tmp_path / 'store', ENC)
    out = acquire_from_idc(acq, layout, series, wrong)
    assert out.status == 'error'
    assert 'the IDC index says the series has' in out.message
    assert not layout.dicoms_metadata(series.series_uid).exists()
    assert not layout.archive_metadata(series.series_uid).exists()
