"""``pipeline/write_catalog.py``: the catalog site of a built
collection, with its DataCite record or a note saying why not."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import RunSettings, write_catalog
from datalad_tcia.pipeline.write_catalog import CatalogLimits
from datalad_tcia.store import StoreLayout

from .conftest import PHI, lookalike_series


def _text(catalog: Path) -> str:
    return ' '.join(p.read_text() for p in sorted(catalog.rglob('*.json')))


def test_catalog_of_a_built_collection(
    tcia: LookalikeServer, built: RunSettings
) -> None:
    layout = StoreLayout(built.store, PHI)
    out = list(write_catalog(built, PHI))
    assert [o.status for o in out] == ['ok'], out
    assert out[0].doi == '10.7937/s17z-r072'
    assert out[0].url and out[0].url.endswith('/collection.git')
    text = _text(layout.catalog)
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    for p in coll.patients:
        assert p.patient_id in text
    # every file has an entry (small collection)
    sops = [i.sop_uid for s in lookalike_series(tcia, PHI) for i in s.instances]
    assert all(sop in text for sop in sops)
    assert 'Pseudo-PHI-DICOM-Data' in text and '10.7937/s17z-r072' in text.lower()


def test_limits_and_an_unreachable_datacite_are_noted(
    tcia: LookalikeServer, built: RunSettings
) -> None:
    tcia.faults.add('status', 'dois', status=503, times=None)
    out = list(
        write_catalog(
            replace(
                built, catalog_limits=CatalogLimits(max_files=1, max_subdatasets=1)
            ),
            PHI,
        )
    )
    assert [o.status for o in out] == ['ok']
    msg = out[0].message
    assert 'DataCite could not be reached for DOI 10.7937/s17z-r072' in msg
    assert 'are not listed one by one' in msg
    assert 'in its Patients tab, not as subdatasets' in msg
    layout = StoreLayout(built.store, PHI)
    sops = [i.sop_uid for s in lookalike_series(tcia, PHI) for i in s.instances]
    text = _text(layout.catalog)
    assert not any(sop in text for sop in sops)


def test_no_datasets_no_catalog(acquired: RunSettings) -> None:
    out = list(write_catalog(acquired, PHI))
    assert [(o.stage, o.status) for o in out] == [('catalog', 'impossible')]
    assert 'tcia-deposit-dataset' in out[0].message
