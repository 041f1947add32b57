"""IDC as the upstream: collections only IDC holds, and new IDC releases
(a newer idc-index-data) giving a revised and a withdrawn series, while
the earlier version stays retrievable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from datalad.api import tcia_add
from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import collection_from_spec
from tcia_lookalike.idc import S3Lookalike
from tcia_lookalike.idc_index import (
    index_row,
    instance_key,
    prior_row,
    series_uuid,
    write_index,
)
from tcia_lookalike.synthesis import SeriesRecipe

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, fresh_env, run, run_ok
from tests.idc_fixtures import CLEAN_BUCKET, PHI, configure_idc

ONLY = 'IDC-Only-Phantoms'
ZENODO = '10.5281/zenodo.1234567'


def _idc_only() -> Archive:
    spec = {
        'name': ONLY,
        'license': (
            'Creative Commons Attribution 4.0 International License',
            'https://creativecommons.org/licenses/by/4.0/',
        ),
        'doi': ZENODO,
        'patients': [
            {
                'id': f'PHANTOM-{i}',
                'sex': 'O',
                'studies': [
                    (
                        date(2020, 1, 1 + i),
                        'Phantom CT',
                        [SeriesRecipe('CT_small.dcm', 'CT', 'Axial', 3, 'CHEST')],
                    )
                ],
            }
            for i in range(2)
        ],
    }
    return Archive([collection_from_spec(spec)])


@pytest.fixture
def s3() -> Iterator[S3Lookalike]:
    with S3Lookalike() as server:
        yield server


def _add(srv: LookalikeServer, store: Path, collection: str) -> list[dict]:
    res = tcia_add(
        api_url=srv.api_url,
        datacite_url=srv.datacite_url,
        collection=collection,
        store=str(store),
        index='idc',
        jobs=4,
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert res[-1]['status'] == 'ok', [r['message'] for r in res if r['status'] != 'ok']
    return res


@pytest.mark.slow
def test_a_collection_only_idc_has(
    tcia: LookalikeServer,
    s3: S3Lookalike,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Named by its collection_id, planned from the index, acquired from
    IDC (auto), no NBIA request, no NBIA URL; the catalog says DataCite
    has no record of its DOI; a clone gets every file."""
    only = _idc_only()
    index = write_index(
        tcia.archive, tmp_path / 'idx' / 'idc_index.parquet', others=[only]
    )
    s3.fill(only)
    configure_idc(monkeypatch, index, s3)
    store = tmp_path / 'store'
    res = _add(tcia, store, collection_id(ONLY))
    assert [r.endpoint for r in tcia.requests()] == ['dois']
    cid = collection_id(ONLY)
    for path in (store / cid / 'metadata').glob('*_archive.json'):
        record = json.loads(path.read_text())
        assert record['source'] == 'idc' and record['api_url'] is None
        assert record['Collection'] == ONLY
    catalog = (store / cid / 'catalog').rglob('*.json')
    text = ' '.join(p.read_text() for p in catalog)
    assert f'DataCite has no record of DOI {ZENODO}' in text
    url = [r for r in res if r.get('path', '').endswith('/collection')][0]['url']
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    run_ok([DATALAD, 'get', '-r', '.'], clone, env)
    got = sorted(
        hashlib.md5(p.read_bytes()).hexdigest()
        for p in clone.rglob('*.dcm')
        if '.git' not in p.relative_to(clone).parts
    )
    assert got == sorted(i.md5 for s in only.iter_series() for i in s.instances)
    assert (clone / 'LICENSE').read_text().startswith('License Information. The ')


@pytest.mark.slow
def test_idc_releases_revise_and_withdraw(
    tcia: LookalikeServer,
    s3: S3Lookalike,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Release 25, then 26 (pip install -U idc-index-data): a series with
    a new crdc_series_uuid is revised, a series gone from the index is
    withdrawn, each version is tagged with its release, the earlier
    version's files still come from IDC, and an .s5cmd manifest of the
    earlier version still finds its series (prior_versions_index)."""
    archive = tcia.archive
    coll = archive.collection(PHI)
    assert coll is not None
    every = [s for p in coll.patients for st in p.studies for s in st.series]
    revised, gone = every[0], every[-1]
    v25 = write_index(
        archive, tmp_path / 'v25' / 'idc_index.parquet', bucket=CLEAN_BUCKET
    )
    s3.fill(archive, bucket=CLEAN_BUCKET)
    configure_idc(monkeypatch, v25, s3)
    store = tmp_path / 'store'
    cid = collection_id(PHI)
    first = _add(tcia, store, PHI)
    tag25 = [r for r in first if r.get('version')][0]['version']
    assert tag25.endswith('-idc-v25')
    old_md5 = {i.sop_uid: i.md5 for i in revised.instances}

    # release 26: the first series revised (one file corrected), the last gone
    changed = revised.instances[0]
    s3.fill(
        archive,
        only=[revised.uid],
        version=2,
        changed=[changed.sop_uid],
        bucket=CLEAN_BUCKET,
    )
    size = revised.file_size + 1
    v26 = write_index(
        archive,
        tmp_path / 'v26' / 'idc_index.parquet',
        version='26.0.0',
        skip=[gone.uid],
        rows={revised.uid: index_row(revised, CLEAN_BUCKET, version=2, size=size)},
        bucket=CLEAN_BUCKET,
        prior=[prior_row(revised, 1, 25, 25)],
    )
    configure_idc(monkeypatch, v26, s3)
    second = _add(tcia, store, PHI)
    by_uid = {r.get('SeriesInstanceUID'): r for r in second if r.get('action')}
    msg = by_uid[revised.uid]['message']
    assert msg.startswith('revised on IDC') and series_uuid(revised, 2) in msg
    withdrawn = [r for r in second if 'withdrawn from IDC' in r.get('message', '')]
    assert [r['SeriesInstanceUID'] for r in withdrawn] == [gone.uid]
    tag26 = [r for r in second if r.get('version')][0]['version']
    assert tag26 == tag25.replace('-idc-v25', '-idc-v26.2')  # the same day
    records = json.loads(
        (store / cid / 'metadata' / f'{revised.uid}_metadata_dicoms.json').read_text()
    )
    new = {r['SOPInstanceUID']: r for r in records}
    assert new[changed.sop_uid]['md5'] != old_md5[changed.sop_uid]
    assert series_uuid(revised, 2) in new[changed.sop_uid]['idc_url']

    # a clone: the new version has the corrected file; the earlier one
    # (its tag) still gets the old bytes and the withdrawn series, from IDC
    url = [r for r in second if r.get('path', '').endswith('/collection')][0]['url']
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    run_ok([DATALAD, 'get', '-n', '-r', '.'], clone, env)
    tags = run_ok(['git', 'tag', '--list'], clone, env).split()
    assert sorted(tags) == sorted([tag25, tag26])
    run_ok(['git', 'checkout', '-q', tag25], clone, env)
    run_ok(['git', 'submodule', 'update', '-q', '--recursive'], clone, env)
    s3.reset()
    got = run([DATALAD, 'get', '-r', '.'], clone, env)
    assert got.returncode == 0, got.stdout + got.stderr
    files = [
        p for p in clone.rglob('*.dcm') if '.git' not in p.relative_to(clone).parts
    ]
    md5s = {hashlib.md5(p.read_bytes()).hexdigest() for p in files}
    assert old_md5[changed.sop_uid] in md5s
    assert {i.md5 for i in gone.instances} <= md5s
    assert s3.bytes_sent() == sum(p.stat().st_size for p in files)
    assert not [r for r in tcia.requests() if r.endpoint != 'dois']

    # an .s5cmd manifest of release 25 names the revised series' old UUID
    manifest = tmp_path / 'old.s5cmd'
    key = instance_key(revised, revised.instances[0])
    manifest.write_text(f'# IDC Data Version(s): v25\ncp s3://{CLEAN_BUCKET}/{key} .\n')
    res = tcia_add(
        manifest=str(manifest),
        store=str(tmp_path / 'other'),
        api_url=tcia.api_url,
        datacite_url=tcia.datacite_url,
        index='idc',
        result_renderer='disabled',
        on_failure='ignore',
    )
    notes = [r for r in res if r.get('type') == 'earlier-version']
    assert notes and 'v25-v25' in notes[0]['message']
    assert {r.get('SeriesInstanceUID') for r in res if r.get('source')} == {revised.uid}
