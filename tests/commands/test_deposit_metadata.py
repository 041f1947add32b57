"""``datalad tcia-deposit-metadata`` for archives already on disk."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from datalad_tcia.lookalike import LookalikeServer
from datalad_tcia.store import collection_id

PHI = 'Pseudo-PHI-DICOM-Data'


def _deposit(*args, **kwargs):
    from datalad.api import tcia_deposit_metadata

    return tcia_deposit_metadata(
        *args, on_failure='ignore', result_renderer='disabled', **kwargs
    )


def _download(**kwargs):
    from datalad.api import tcia_download

    return tcia_download(on_failure='ignore', result_renderer='disabled', **kwargs)


def _visit_tar(path: Path) -> dict[str, str]:
    """A tarball with two series (as an INM-ICF visit could hold) and a
    README; returns member -> SeriesInstanceUID."""
    series = {}
    with tarfile.open(path, 'w') as tf:
        for name in ('CT_small.dcm', 'MR_small.dcm', 'MR_small_bigendian.dcm'):
            src = get_testdata_file(name, download=False)
            assert src is not None
            data = Path(src).read_bytes()
            info = tarfile.TarInfo(f'visit1/{name}')
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
            series[info.name] = pydicom.dcmread(src).SeriesInstanceUID
        readme = b'scanned on the 3T\n'
        info = tarfile.TarInfo('visit1/README')
        info.size = len(readme)
        tf.addfile(info, io.BytesIO(readme))
    return series


def test_tarball_joins_the_store(tmp_path: Path) -> None:
    store = tmp_path / 'store'
    tar = tmp_path / 'visit.tar'
    series = _visit_tar(tar)
    res = _deposit([str(tar)], store=str(store), collection='ICF-Study')
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
    res = _deposit([str(tar)], store=str(store), collection='ICF-Study')
    assert {r['status'] for r in res} == {'notneeded'}


def test_collection_is_required_for_foreign_archives(tmp_path: Path) -> None:
    tar = tmp_path / 'visit.tar'
    _visit_tar(tar)
    res = _deposit([str(tar)], store=str(tmp_path / 'store'))
    assert res[0]['status'] == 'impossible'
    assert 'give --collection' in res[0]['message']
    assert not (tmp_path / 'store').exists()
    res = _deposit([str(tmp_path / 'nope.zip')], store=str(tmp_path / 'store'))
    assert res[0]['status'] == 'impossible'
    assert 'no such archive' in res[0]['message']


def test_store_archives_are_redeposited(tcia: LookalikeServer, tmp_path: Path) -> None:
    store = tmp_path / 'store'
    res = _download(api_url=tcia.api_url, collection=PHI, store=str(store))
    assert {r['status'] for r in res} == {'ok'}
    meta = store / collection_id(PHI) / 'metadata'
    before = {p.name: p.read_bytes() for p in meta.iterdir()}
    # everything deposited: nothing to do
    res = _deposit(store=str(store))
    assert {r['status'] for r in res} == {'notneeded'}
    # lose one series' per-file metadata: it is rebuilt from the archive
    victim = sorted(meta.glob('*_metadata_dicoms.json'))[0]
    victim.unlink()
    res = _deposit(store=str(store), collection=PHI)
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
    _download(api_url=tcia.api_url, collection=PHI, store=str(store))
    meta = store / collection_id(PHI) / 'metadata'
    victim = sorted(meta.glob('*_metadata_dicoms.json'))[0]
    recs = json.loads(victim.read_text())
    recs[0]['md5'] = '0' * 32
    victim.write_text(json.dumps(recs))
    tampered = victim.read_bytes()
    res = _deposit(store=str(store))
    bad = [r for r in res if r['status'] == 'impossible']
    assert len(bad) == 1
    assert '--force' in bad[0]['message']
    assert victim.read_bytes() == tampered
    res = _deposit(store=str(store), force=True)
    assert {r['status'] for r in res} == {'ok'}
    assert json.loads(victim.read_text())[0]['md5'] != '0' * 32


def test_damaged_archive(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.zip'
    bad.write_bytes(b'PK\x03\x04' + b'\x00' * 100)
    res = _deposit([str(bad)], store=str(tmp_path / 'store'), collection='X')
    assert res[0]['status'] in ('error', 'impossible')
    assert not list((tmp_path / 'store').rglob('*.json'))
