"""``pipeline/index_archives.py``: the metadata deposit of archives
already on disk (a store's archives, a visit tarball from elsewhere)."""

from __future__ import annotations

import json
from pathlib import Path

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.metadata import read_series_record
from datalad_tcia.pipeline import RunSettings, index_archives
from datalad_tcia.store import StoreLayout, file_md5
from tests.helpers import visit_tar

from .conftest import PHI, planned


def test_a_visit_tarball_gives_one_deposit_per_series(tmp_path: Path) -> None:
    tar = tmp_path / 'visit.tar'
    members = visit_tar(tar)
    store = tmp_path / 'store'
    out = list(index_archives(store, [str(tar)], 'Visits', tags=DEFAULT_TAGS))
    uids = sorted(set(members.values()))
    assert sorted(o.series_uid for o in out) == uids
    assert {o.status for o in out} == {'ok'}
    layout = StoreLayout(store, 'Visits')
    md5, size = file_md5(tar)
    for uid in uids:
        record = read_series_record(layout, uid)
        assert record.source == 'file'
        assert record.archive is not None
        assert (record.archive.md5, record.archive.size) == (md5, size)
        assert record.archive.path == str(tar)
        files = json.loads(layout.dicoms_metadata(uid).read_text())
        mine = sorted(m['path'] for m in files if m['dicom'])
        assert mine == sorted(p for p, u in members.items() if u == uid)
        # the README goes with every series
        assert 'visit1/README' in {m['path'] for m in files}
    again = list(index_archives(store, [str(tar)], 'Visits', tags=DEFAULT_TAGS))
    assert {o.status for o in again} == {'notneeded'}


def test_store_archives_are_indexed_again_keeping_nbias_record(
    acquired: RunSettings,
) -> None:
    layout = StoreLayout(acquired.store, PHI)
    series = planned(acquired, PHI)
    before = {s.series_uid: read_series_record(layout, s.series_uid) for s in series}
    for s in series:
        layout.dicoms_metadata(s.series_uid).unlink()
    out = list(index_archives(acquired.store, [], PHI, tags=DEFAULT_TAGS))
    assert {o.status for o in out} == {'ok'}
    for s in series:
        now = read_series_record(layout, s.series_uid)
        assert now.source == 'nbia' and now.api_url == before[s.series_uid].api_url
        assert now.archive == before[s.series_uid].archive
        assert now.series == before[s.series_uid].series


def test_bad_inputs_are_problems(tmp_path: Path) -> None:
    junk = tmp_path / 'junk.zip'
    junk.write_bytes(b'PK\x03\x04 not really')
    out = list(
        index_archives(
            tmp_path / 'store',
            [str(tmp_path / 'absent.zip'), str(junk)],
            None,
            tags=DEFAULT_TAGS,
        )
    )
    assert [o.status for o in out] == ['impossible', 'impossible']
    assert 'no such archive file' in out[0].message
    assert 'give --collection' in out[1].message
    assert not (tmp_path / 'store').exists()
