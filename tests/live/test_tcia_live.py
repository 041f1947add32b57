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
