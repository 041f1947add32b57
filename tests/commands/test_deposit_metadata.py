"""``datalad tcia-deposit-metadata`` for archives already on disk."""

from __future__ import annotations

import json
from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import api, visit_tar

tcia_deposit_metadata = api('tcia_deposit_metadata')
tcia_download = api('tcia_download')

PHI = 'Pseudo-PHI-DICOM-Data'


def test_tarball_joins_the_store(tmp_path: Path) -> None:
    store = tmp_path / 'store'
    tar = tmp_path / 'visit.tar'
    series = visit_tar(tar)
    res = tcia_deposit_metadata([str(tar)], store=str(store), collection='ICF-Study')
    assert {r['status'] for r in res} == {'ok'}
    assert {r['SeriesInstanceUID'] for r in res} == set(series.values())
    meta = store / 'icf_study' / 'metadata'
    for uid in set(series.values()):
        drecs = json.loads((meta / f'{uid}_metadata_dicoms.json').read_text())
        arec = json.loads((meta / f'{uid}_metadata_archive.json').read_text())
        dicom_paths = {r['path'] for r in drecs if r['dicom']}
        assert dicom_paths == {m for m, u in series.items() if u == uid}
        # the README is not DICOM but is recorded, not dropped
        assert [r['path'] for r in drecs if not r['dicom']] == ['visit1/README']
        assert arec['archive_type'] == 'tar'
        assert arec['archive_path'] == str(tar)
        assert arec['archive_url'] is None
        assert arec['Collection'] == 'ICF-Study'
        assert arec['ImageCount'] == len(dicom_paths)
    # again: nothing to do
    res = tcia_deposit_metadata([str(tar)], store=str(store), collection='ICF-Study')
    assert {r['status'] for r in res} == {'notneeded'}


def test_collection_is_required_for_foreign_archives(tmp_path: Path) -> None:
    tar = tmp_path / 'visit.tar'
    visit_tar(tar)
    res = tcia_deposit_metadata([str(tar)], store=str(tmp_path / 'store'))
    assert res[0]['status'] == 'impossible'
    assert 'give --collection' in res[0]['message']
    assert not (tmp_path / 'store').exists()
    res = tcia_deposit_metadata(
        [str(tmp_path / 'nope.zip')], store=str(tmp_path / 'store')
    )
    assert res[0]['status'] == 'impossible'
    assert 'no such archive' in res[0]['message']


def test_store_archives_are_redeposited(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    res = tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert {r['status'] for r in res} == {'ok'}
    meta = store / collection_id(PHI) / 'metadata'
    before = {p.name: p.read_bytes() for p in meta.iterdir()}
    # everything deposited: nothing to do
    res = tcia_deposit_metadata(store=str(store))
    assert {r['status'] for r in res} == {'notneeded'}
    # lose one series' per-file metadata: it is rebuilt from the archive
    victim = sorted(meta.glob('*_metadata_dicoms.json'))[0]
    victim.unlink()
    res = tcia_deposit_metadata(store=str(store), collection=PHI)
    assert sorted(r['status'] for r in res) == ['notneeded'] * 3 + ['ok']
    assert victim.read_bytes() == before[victim.name]
    arec = json.loads(
        victim.with_name(victim.name.replace('dicoms', 'archive')).read_text()
    )
    # what NBIA said is kept
    assert arec['nbia_series'] is not None
    assert arec['archive_url'].startswith(tcia.api_url)


def test_different_metadata_is_not_overwritten(
    tcia: LookalikeServer, tmp_path: Path
) -> None:
    store = tmp_path / 'store'
    tcia_download(api_url=tcia.api_url, collection=PHI, store=str(store))
    meta = store / collection_id(PHI) / 'metadata'
    victim = sorted(meta.glob('*_metadata_dicoms.json'))[0]
    recs = json.loads(victim.read_text())
    recs[0]['md5'] = '0' * 32
    victim.write_text(json.dumps(recs))
    tampered = victim.read_bytes()
    res = tcia_deposit_metadata(store=str(store))
    bad = [r for r in res if r['status'] == 'impossible']
    assert len(bad) == 1
    assert '--force' in bad[0]['message']
    assert victim.read_bytes() == tampered
    res = tcia_deposit_metadata(store=str(store), force=True)
    assert {r['status'] for r in res} == {'ok'}
    assert json.loads(victim.read_text())[0]['md5'] != '0' * 32


def test_damaged_archive(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.zip'
    bad.write_bytes(b'PK\x03\x04' + b'\x00' * 100)
    res = tcia_deposit_metadata(
        [str(bad)], store=str(tmp_path / 'store'), collection='X'
    )
    assert res[0]['status'] in ('error', 'impossible')
    assert not list((tmp_path / 'store').rglob('*.json'))
