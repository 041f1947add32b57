"""All of a store as one dataset: selections across collections build one
collection dataset each and the store's top-level dataset, which clones
from ``file://`` and ``http://`` and installs collections and patients;
``--update`` after one collection changed makes one new version of it and
of the top-level dataset; a bad condition writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import TopLayout, collection_id
from tests.helpers import DATALAD, api, fresh_env, run_ok
from tests.idc_fixtures import ENC, PHI, CleanIdc

RT = 'LOOKALIKE-RT'

tcia_add = api('tcia_add')


def _common(srv: LookalikeServer, store: Path) -> dict[str, str]:
    return {
        'api_url': srv.api_url,
        'datacite_url': srv.datacite_url,
        'store': str(store),
    }


def _built(res: list[dict]) -> tuple[set[str], list[dict]]:
    """The collections whose dataset a run deposited, and its records of
    the top-level dataset."""
    collections = {
        r['Collection']
        for r in res
        if r['action'] == 'tcia_deposit_dataset' and 'Collection' in r
    }
    tops = [
        r for r in res if r['action'] == 'tcia_deposit_dataset' and 'collections' in r
    ]
    return collections, tops


def _tags(repo: Path) -> list[str]:
    return run_ok(['git', 'tag', '--list', 'tcia-*'], repo).split()


@pytest.mark.slow
def test_every_collection_then_the_store_clones_from_http(
    tcia: LookalikeServer, http_store: tuple[Path, str], tmp_path: Path
) -> None:
    store, url = http_store
    res = tcia_add(all_collections=True, store_url=url, **_common(tcia, store))
    assert res[-1]['status'] == 'ok', res[-1]
    collections, tops = _built(res)
    assert collections == {PHI, ENC, RT}
    assert [(t['status'], t['collections']) for t in tops] == [('ok', 3)]
    assert tops[0]['url'] == f'{url}/tcia.git'
    env = fresh_env(tmp_path / 'home')
    for source in (tops[0]['url'], TopLayout(store).export.bare.as_uri()):
        clone = tmp_path / ('from-' + source.split(':')[0])
        run_ok([DATALAD, 'clone', source, str(clone)], tmp_path, env=env)
        assert {'README.md', 'CITATION.cff'} <= {p.name for p in clone.iterdir()}
        cid = collection_id(PHI)
        run_ok([DATALAD, 'get', '-n', cid], clone, env=env)
        patient = f'{cid}/Pseudo-PHI-001'
        run_ok([DATALAD, 'get', '-n', patient], clone, env=env)
        run_ok([DATALAD, 'get', '-r', patient], clone, env=env)
        got = [p for p in (clone / patient).rglob('*.dcm') if p.stat().st_size]
        assert got, f'no file of {patient} arrived'


@pytest.mark.slow
def test_filters_alone_and_a_condition_select_across_collections(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    # filters alone, answered by NBIA: the collections that have MR series
    mr = {
        s.collection.name
        for s in tcia.archive.iter_series()
        if s.modality == 'MR'  # type: ignore[attr-defined]
    }
    assert len(mr) >= 2  # noqa: PLR2004
    store = tmp_path / 'mr'
    res = tcia_add(modality='MR', **_common(tcia, store))
    assert res[-1]['status'] == 'ok', res[-1]
    collections, tops = _built(res)
    assert collections == mr
    assert tops[0]['collections'] == len(mr)
    # a condition over the IDC index
    store = tmp_path / 'where'
    res = tcia_add(
        where="PatientSex = 'O'", index='idc', source='nbia', **_common(tcia, store)
    )
    assert res[-1]['status'] == 'ok', res[-1]
    collections, tops = _built(res)
    assert collections == {ENC, RT}
    assert tops[0]['status'] == 'ok' and tops[0]['collections'] == 2  # noqa: PLR2004
    top = TopLayout(store).repo
    modules = run_ok(['git', 'config', '-f', '.gitmodules', '--list'], top)
    assert 'submodule.lookalike_rt.path=lookalike_rt' in modules


def test_a_bad_condition_is_refused_and_writes_nothing(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    store = tmp_path / 'store'
    res = tcia_add(
        where="PatientSx = 'F' AND Modality = 'MR'",
        index='idc',
        on_failure='ignore',
        **_common(tcia, store),
    )
    bad = [r for r in res if r.get('type') == 'bad-where']
    assert len(bad) == 1 and bad[0]['status'] == 'impossible'
    assert "no column 'PatientSx'" in bad[0]['message']
    assert "'PatientSex'" in bad[0]['message']
    assert not store.exists() or not any(store.iterdir())
    assert tcia.requests('getImage') == []


@pytest.mark.slow
def test_update_makes_one_version_of_the_changed_collection_and_the_store(
    tmp_path: Path,
) -> None:
    store = tmp_path / 'store'
    with LookalikeServer() as srv:
        for name in (PHI, RT):
            res = tcia_add(collection=name, **_common(srv, store))
            assert res[-1]['status'] == 'ok', res[-1]
        top = TopLayout(store).repo
        repos = {
            n: store / collection_id(n) / 'repos' / 'collection' for n in (PHI, RT)
        }
        before = {n: _tags(r) for n, r in repos.items()}
        top_before = _tags(top)
        assert len(top_before) == 2  # noqa: PLR2004  one per collection added
        # nothing new: nothing at all
        res = tcia_add(update=True, **_common(srv, store))
        assert _tags(top) == top_before
        # RT revised upstream
        coll = srv.archive.collection(RT)
        assert coll is not None
        srv.archive.revise(coll.patients[0].studies[0].series[0].uid)
        res = tcia_add(update=True, **_common(srv, store))
        assert all(r['status'] in ('ok', 'notneeded') for r in res), [
            r['message'] for r in res if r['status'] not in ('ok', 'notneeded')
        ]
        assert _tags(repos[PHI]) == before[PHI]
        assert len(_tags(repos[RT])) == len(before[RT]) + 1
        assert len(_tags(top)) == len(top_before) + 1
        env = fresh_env(tmp_path / 'home')
        clone = tmp_path / 'clone'
        run_ok(
            [DATALAD, 'clone', TopLayout(store).export.bare.as_uri(), str(clone)],
            tmp_path,
            env=env,
        )
        cid = collection_id(RT)
        run_ok([DATALAD, 'get', '-n', f'{cid}/RT-PHANTOM-1'], clone, env=env)
        newest = _tags(repos[RT])[-1]
        described = run_ok(['git', 'describe', '--tags'], clone / cid).strip()
        assert described == newest


@pytest.mark.slow
def test_a_grouped_collection_installs_and_gets_like_a_flat_one(
    tcia: LookalikeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection above ``datalad.tcia.group-above`` patients: its
    patients in group datasets, which plain DataLad and ``tcia-get``
    install on the way to a patient; every file arrives."""
    import datalad

    store = tmp_path / 'store'
    monkeypatch.setenv('DATALAD_TCIA_GROUP__ABOVE', '1')
    datalad.cfg.reload(force=True)
    try:
        res = tcia_add(collection=PHI, **_common(tcia, store))
    finally:
        monkeypatch.undo()
        datalad.cfg.reload(force=True)
    assert res[-1]['status'] == 'ok', res[-1]
    env = fresh_env(tmp_path / 'home')
    clone = tmp_path / 'clone'
    url = TopLayout(store).export.bare.as_uri()
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env=env)
    cid = collection_id(PHI)
    # plain DataLad: the collection, the group, the patient
    run_ok([DATALAD, 'get', '-n', f'{cid}/Pseudo-PHI-00x/Pseudo-PHI-001'], clone, env)
    assert (clone / cid / 'Pseudo-PHI-00x' / 'Pseudo-PHI-001' / '.git').exists()
    # tcia-get: the other patient, through the installed group, with files
    out = run_ok(
        [DATALAD, '-f', 'json', 'tcia-get', f'{cid}/Pseudo-PHI-00x/Pseudo-PHI-002'],
        clone,
        env,
    )
    assert '"status": "error"' not in out, out
    got = list((clone / cid / 'Pseudo-PHI-00x' / 'Pseudo-PHI-002').rglob('*.dcm'))
    assert got and all(p.stat().st_size for p in got)
    # the group dataset is plain git: no annex was made for it
    assert not (clone / cid / 'Pseudo-PHI-00x' / '.git' / 'annex').exists()
