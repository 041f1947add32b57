"""Against live TCIA: opt in with ``--run-network``."""

from __future__ import annotations

import pytest

from datalad_tcia.nbia import NbiaClient

pytestmark = pytest.mark.network

COLLECTION = 'Pseudo-PHI-DICOM-Data'


def test_live_collection_listing() -> None:
    client = NbiaClient('nbia')
    assert COLLECTION in client.get_collection_values()
    series = client.get_series(collection=COLLECTION)
    assert series
    assert all(s.image_count for s in series)
    assert all(s.collection == COLLECTION for s in series)


def test_live_tcia_add_smallest_series(tmp_path) -> None:
    """tcia-add of the smallest public series of Pseudo-PHI-DICOM-Data."""
    from datalad.api import tcia_add

    series = NbiaClient('nbia').get_series(collection=COLLECTION)
    smallest = min(series, key=lambda s: s.file_size or 0)
    res = tcia_add(
        series=[smallest.series_uid],
        store=str(tmp_path / 'store'),
        result_renderer='disabled',
        on_failure='ignore',
    )
    summary = res[-1]
    assert summary['status'] == 'ok', res
    assert summary['series_downloaded'] == 1
    assert summary['files_registered'] == smallest.image_count
