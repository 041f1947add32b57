"""``pipeline/settings.py``: who plans and who resolves IDC UUIDs."""

from __future__ import annotations

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.idc import IdcIndex
from datalad_tcia.idc.s3 import S3Client
from datalad_tcia.pipeline import RunSettings
from datalad_tcia.pipeline.idc_sources import IdcSources
from tests.idc_fixtures import CleanIdc

from .conftest import make_settings


def test_planner_and_uuids(
    tcia: LookalikeServer, settings: RunSettings, clean_idc: CleanIdc, tmp_path
) -> None:
    assert settings.planner is settings.nbia
    assert settings.uuids is None
    index = IdcIndex(clean_idc.index)
    idc = IdcSources(index, S3Client(clean_idc.s3.endpoint))
    with_idc = make_settings(tcia, tmp_path / 's', idc=idc)
    # NBIA plans; IDC's index still resolves an .s5cmd manifest's UUIDs
    assert with_idc.planner is with_idc.nbia and with_idc.uuids is index
    offline = make_settings(tcia, tmp_path / 's', index=index, idc=idc)
    assert offline.planner is index and offline.uuids is index


def test_an_unknown_source_is_refused(tcia: LookalikeServer, tmp_path) -> None:
    with pytest.raises(ValueError, match="not 'gcs'"):
        make_settings(tcia, tmp_path, source='gcs')
