"""``pipeline/named.py``: what a user names, looked up against the
look-alike's NBIA and the IDC index; what names nothing is a problem (or,
for an ``.s5cmd`` line, a note) that says so, with its value."""

from __future__ import annotations

from pathlib import Path

from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc_index import series_uuid

from datalad_tcia.idc import IdcIndex
from datalad_tcia.pipeline import RunSettings
from datalad_tcia.pipeline.named import (
    canonical_collection,
    lookup_series_uids,
    s5cmd_series_uids,
)
from datalad_tcia.pipeline.selection import Resolution
from tests.idc_fixtures import CleanIdc

from .conftest import PHI, lookalike_series


def test_a_collection_by_its_name_in_any_case(settings: RunSettings) -> None:
    res = Resolution()
    assert canonical_collection(settings.nbia, PHI.lower(), res) == PHI
    assert canonical_collection(settings.nbia, 'Pseudo-PHI', res) is None
    assert [(p.kind, p.value) for p in res.problems] == [
        ('unknown-collection', 'Pseudo-PHI')
    ]
    assert repr(PHI) in res.problems[0].message  # the near miss is named


def test_series_uids_known_malformed_unknown(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    known = [s.uid for s in lookalike_series(tcia, PHI)[:2]]
    res = Resolution()
    found = lookup_series_uids(settings.nbia, [*known, 'x.y', '1.2.3.999'], res, jobs=2)
    assert sorted(s.series_uid for s in found) == sorted(known)
    assert sorted((p.kind, p.value) for p in res.problems) == [
        ('malformed-uid', 'x.y'),
        ('unknown-series', '1.2.3.999'),
    ]


def test_an_s5cmd_manifest_through_the_index(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    a, b = lookalike_series(tcia, PHI)[:2]
    stray = '00000000-0000-4000-8000-000000000000'
    manifest = tmp_path / 'm.s5cmd'
    manifest.write_text(
        f'cp s3://idc-open-data/{series_uuid(a)}/* .\n'
        f'cp s3://idc-open-data/{stray}/* .\n'
        f'cp s3://idc-open-data/{series_uuid(b)}/* .\n'
    )
    res = Resolution()
    out: list[str] = []
    assert s5cmd_series_uids(str(manifest), IdcIndex(clean_idc.index), out, res)
    assert out == [a.uid, b.uid] and not res.problems
    assert [(n.kind, n.value) for n in res.notes] == [
        ('unmatched-line', f'cp s3://idc-open-data/{stray}/* .')
    ]
    # without the index the manifest cannot be used, and the problem says
    # what to install
    res = Resolution()
    assert not s5cmd_series_uids(str(manifest), None, [], res)
    assert [p.kind for p in res.problems] == ['bad-manifest']
    assert 'idc-index-data' in res.problems[0].message
