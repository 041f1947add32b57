"""The pipeline's steps run in-process against the look-alike: a run's
settings, and stores at the points of the flow where a step starts
(series acquired, datasets built)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Series

from datalad_tcia.datacite import CitationLookup, DataCiteClient
from datalad_tcia.export import store_base_url
from datalad_tcia.idc import IdcIndex
from datalad_tcia.idc.s3 import S3Client
from datalad_tcia.nbia import NbiaClient, SeriesInfo
from datalad_tcia.pipeline import (
    RunSettings,
    Selection,
    acquire_all,
    build_datasets,
    plan_selection,
)
from datalad_tcia.pipeline.idc_sources import IdcSources
from tests.conftest import FAST_RETRY
from tests.idc_fixtures import CleanIdc, IdcSide

PHI = 'Pseudo-PHI-DICOM-Data'
ENC = 'LOOKALIKE-MR-Encodings'
RT = 'LOOKALIKE-RT'


def lookalike_series(srv: LookalikeServer, collection: str) -> list[Series]:
    """Every series the look-alike holds of ``collection``."""
    coll = srv.archive.collection(collection)
    assert coll is not None
    return [s for p in coll.patients for st in p.studies for s in st.series]


def make_settings(srv: LookalikeServer, store: Path, **kwargs: object) -> RunSettings:
    """The settings a command would build for the look-alike ``srv``."""
    return RunSettings(
        store=store,
        nbia=NbiaClient(srv.api_url, retry=FAST_RETRY, timeout=(5.0, 5.0)),
        citations=CitationLookup(DataCiteClient(srv.datacite_url, retry=FAST_RETRY)),
        base_url=store_base_url(store),
        **kwargs,  # type: ignore[arg-type]
    )


def idc_sources(side: IdcSide | CleanIdc) -> IdcSources:
    """IDC's index and bucket of a look-alike IDC side."""
    return IdcSources(
        IdcIndex(side.index), S3Client(side.s3.endpoint, retry=FAST_RETRY)
    )


def planned(settings: RunSettings, collection: str) -> list[SeriesInfo]:
    """Every series of ``collection``, as NBIA lists them."""
    plan = plan_selection(
        settings.nbia, Selection(collection=collection), settings.store
    )
    assert not plan.problems, plan.problems
    return plan.series


def acquire(settings: RunSettings, collection: str) -> list[SeriesInfo]:
    """Acquire every series of ``collection`` into the settings' store."""
    series = planned(settings, collection)
    outcomes = list(acquire_all(settings, series))
    assert {o.status for o in outcomes} == {'ok'}, outcomes
    return series


def build(settings: RunSettings, collection: str) -> list[object]:
    """The dataset stage of ``collection`` (patients, then the
    collection), which must succeed."""
    outcomes = list(build_datasets(settings, collection))
    assert {o.status for o in outcomes} <= {'ok', 'notneeded'}, outcomes
    return outcomes


@pytest.fixture
def settings(tcia: LookalikeServer, tmp_path: Path) -> RunSettings:
    """A run's settings for the look-alike, with an empty store."""
    return make_settings(tcia, tmp_path / 'store')


@pytest.fixture
def acquired(settings: RunSettings) -> RunSettings:
    """The settings, with every series of Pseudo-PHI acquired from NBIA."""
    acquire(settings, PHI)
    return settings


@pytest.fixture
def built(acquired: RunSettings) -> RunSettings:
    """The settings, with Pseudo-PHI's datasets built (archives kept)."""
    build(acquired, PHI)
    return acquired
