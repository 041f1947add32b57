"""Versions: every upstream change a tagged version; every version
retrievable, the revised series' old file from IDC's bucket once NBIA
serves only the new one."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc import S3Lookalike
from tcia_lookalike.idc_index import write_index

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, fresh_env, run_ok
from tests.idc_fixtures import CLEAN_BUCKET, PHI

tcia_add = api('tcia_add')
CID = collection_id(PHI)


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LookalikeServer, S3Lookalike]]:
    """A look-alike of its own (its archive changes) and IDC's copy of the
    first state."""
    import datalad

    with LookalikeServer() as srv, S3Lookalike() as s3:
        index = write_index(
            srv.archive, tmp_path / 'idc' / 'idc_index.parquet', bucket=CLEAN_BUCKET
        )
        s3.fill(srv.archive, bucket=CLEAN_BUCKET)
        monkeypatch.setenv('DATALAD_TCIA_IDC__INDEX', str(index))
        monkeypatch.setenv('DATALAD_TCIA_IDC__ENDPOINT', s3.endpoint)
        datalad.cfg.reload(force=True)
        yield srv, s3
        monkeypatch.undo()
        datalad.cfg.reload(force=True)


def _git(repo: Path, *args: str) -> str:
    return run_ok(['git', *args], repo).strip()


def _content(root: Path) -> dict[str, str]:
    """SOPInstanceUID -> MD5 of the DICOM files under ``root``."""
    out = {}
    for path in root.rglob('*.dcm'):
        if '.git' in path.relative_to(root).parts:
            continue
        data = path.read_bytes()
        sop = pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID
        out[str(sop)] = hashlib.md5(data).hexdigest()
    return out


@pytest.mark.slow
def test_versions_sequence(
    world: tuple[LookalikeServer, S3Lookalike], tmp_path: Path
) -> None:
    srv, _s3 = world
    coll = srv.archive.collection(PHI)
    assert coll is not None
    p1, p2 = coll.patients[0], coll.patients[1]
    # the look-alike's switches for upstream changes between runs
    held_back = srv.archive.withdraw(p2.studies[0].series[-1].uid)
    store = tmp_path / 'store'
    superds = store / CID / 'repos' / 'collection'
    truth: list[dict[str, str]] = []

    def add() -> list[dict]:
        res = tcia_add(
            api_url=srv.api_url,
            datacite_url=srv.datacite_url,
            collection=PHI,
            store=str(store),
            source='nbia',  # the versions NBIA's changes make
        )
        assert res[-1]['status'] == 'ok', res[-1]
        return res

    def state() -> dict[str, str]:
        return {
            i.sop_uid: i.md5
            for s in srv.archive.iter_series()
            if s.collection.name == PHI
            for i in s.instances
        }

    # 1. the first version
    res = add()
    version = [r for r in res if r.get('version') and r.get('Collection')]
    assert len(version) == 1
    v1 = version[0]['version']
    assert v1.startswith('tcia-') and '.' not in v1
    truth.append(state())
    # provenance and citation in the collection dataset
    record = json.loads((superds / '.datalad/tcia/provenance.json').read_text())
    assert record['collection'] == PHI
    assert record['nbia_api'] == srv.api_url
    assert record['doi'] == '10.7937/s17z-r072'
    first = record['datacite_version']  # the real record's
    assert record['idc_index_version'] == '25.0.5'
    cff = (superds / 'CITATION.cff').read_text()
    assert cff.startswith('cff-version: 1.2.0\n')
    assert 'doi: "10.7937/s17z-r072"' in cff and f'version: "{first}"' in cff
    assert 'orcid: "https://orcid.org/' in cff

    # 2. a series published upstream: a new version, only p2 changes
    srv.archive.publish(held_back)
    res = add()
    v2 = next(r['version'] for r in res if r.get('version') and r.get('Collection'))
    assert v2 == f'{v1}.2'
    note = _git(superds, 'tag', '-l', '-n99', v2)
    assert '1 patient dataset(s) changed since version ' + v1 in note
    assert 'Files: 2 added, 0 changed, 0 removed' in note
    assert f'DataCite version: {first}' in note
    assert 'Pseudo-PHI-002' in note and 'Pseudo-PHI-001' not in note
    truth.append(state())

    # 3. a series revised upstream: one file changed, one removed
    ct = srv.archive.revise(p1.studies[0].series[0].uid, change=1, remove=1)
    res = add()
    revised = [r for r in res if r.get('SeriesInstanceUID') == ct.uid]
    assert revised[0]['message'].startswith('revised on NBIA (ImageCount 3 -> 2')
    v3 = next(r['version'] for r in res if r.get('version') and r.get('Collection'))
    assert v3 == f'{v1}.3'
    patient = store / CID / 'repos' / 'Pseudo-PHI-001'
    assert 'Revised upstream since the last version' in _git(
        patient, 'log', '-1', '--format=%B'
    )
    assert _git(patient, 'tag', '-l', v3) == v3
    assert 'Files: 0 added, 1 changed, 1 removed' in _git(
        superds, 'tag', '-l', '-n99', v3
    )
    # every patient carries every version, on the commit the collection
    # records (Pseudo-PHI-002 did not change: the same commit as in v2)
    p2tags = store / CID / 'repos' / 'Pseudo-PHI-002'
    assert _git(p2tags, 'rev-parse', f'{v3}^{{commit}}') == _git(
        p2tags, 'rev-parse', f'{v2}^{{commit}}'
    )
    truth.append(state())

    # 4. every series of p2 withdrawn upstream: its dataset stays, empty
    withdrawn = [s.uid for st in p2.studies for s in st.series]
    for uid in withdrawn:
        srv.archive.withdraw(uid)
    res = add()
    gone = [r for r in res if r.get('withdrawn')]
    assert sorted(r['SeriesInstanceUID'] for r in gone) == sorted(withdrawn)
    assert res[-1]['series_withdrawn'] == len(withdrawn)
    v4 = next(r['version'] for r in res if r.get('version') and r.get('Collection'))
    assert v4 == f'{v1}.4'
    p2repo = store / CID / 'repos' / 'Pseudo-PHI-002'
    message = _git(p2repo, 'log', '-1', '--format=%B')
    assert message.startswith('Withdraw every series of TCIA')
    assert all(f'- {uid}' in message for uid in withdrawn)
    assert not [f for f in _git(p2repo, 'ls-files').splitlines() if f.endswith('.dcm')]
    assert 'Pseudo-PHI-002' in (superds / '.gitmodules').read_text()
    truth.append({k: v for k, v in state().items()})

    # 5. DataCite's version bumped: a new version of the collection only
    bumped = str(int(first) + 1)
    coll.datacite_version = bumped
    res = add()
    v5 = next(r['version'] for r in res if r.get('version') and r.get('Collection'))
    assert v5 == f'{v1}.5'
    note = _git(superds, 'tag', '-l', '-n99', v5)
    assert f'DataCite version: {first} -> {bumped}' in note
    assert '0 patient dataset(s) changed' in note
    assert f'version: "{bumped}"' in (superds / 'CITATION.cff').read_text()
    record = json.loads((superds / '.datalad/tcia/provenance.json').read_text())
    assert record['datacite_version'] == bumped
    truth.append(truth[-1])

    # 6. nothing changed: no commit, no tag, deposits untouched
    heads = _git(superds, 'rev-parse', 'HEAD')
    res = add()
    assert not [r for r in res if r.get('version')]  # nor the top-level's
    assert not [r for r in res if r.get('withdrawn')]
    assert _git(superds, 'rev-parse', 'HEAD') == heads
    assert _git(superds, 'tag', '-l', 'tcia-*').split() == [
        v1,
        f'{v1}.2',
        f'{v1}.3',
        f'{v1}.4',
        f'{v1}.5',
    ]
    assert record == json.loads((superds / '.datalad/tcia/provenance.json').read_text())
    # the catalog's collection page lists the versions, newest first
    pages = [
        json.loads(p.read_text())
        for p in (store / CID / 'catalog' / 'metadata').rglob('*.json')
    ]
    tabs = [
        t
        for page in pages
        if isinstance(page, dict)
        for t in page.get('additional_display') or []
        if t.get('name') == 'versions'
    ]
    assert tabs, 'no versions tab in the catalog'
    names = [v1, *(f'{v1}.{n}' for n in range(2, 6))]
    assert list(tabs[0]['content']) == names[::-1]
    assert 'DataCite version' in tabs[0]['content'][names[-1]]

    # every version, from a fresh clone, with NBIA serving only the newest
    # files (getImage down: the archive route cannot hide what IDC serves)
    srv.reset()
    srv.faults.add('status', 'getImage', status=404, times=None)
    url = next(r['url'] for r in res if r.get('path', '').endswith('/collection'))
    env = fresh_env(tmp_path / 'home')
    tags = (v1, v2, v3, v4, v5)
    for n, (tag, want) in enumerate(zip(tags, truth, strict=True)):
        clone = tmp_path / f'clone-{n}'
        run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
        run_ok(['git', 'checkout', '-q', tag], clone, env)
        run_ok([DATALAD, 'get', '-r', '.'], clone, env)
        assert _content(clone) == want, tag
    srv.reset()
