"""Updating datasets: new series, files changed upstream."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.formats.deposit import deposit_refs
from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, fresh_env, run_ok

tcia_deposit_dataset = api('tcia_deposit_dataset')
tcia_download = api('tcia_download')

PHI = 'Pseudo-PHI-DICOM-Data'


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ['git', *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_new_series_and_changed_files(tmp_path: Path) -> None:
    with LookalikeServer() as srv:
        store = tmp_path / 'store'
        cid = collection_id(PHI)
        coll = srv.archive.collection(PHI)
        assert coll is not None
        ct = coll.patients[0].studies[0].series[0]
        # first only one series of one patient
        res = tcia_download(api_url=srv.api_url, series=[ct.uid], store=str(store))
        assert [r['status'] for r in res] == ['ok']
        res = tcia_deposit_dataset(store=str(store), collection=PHI)
        assert {r['status'] for r in res} == {'ok'}
        p1 = store / cid / 'repos' / 'Pseudo-PHI-001'
        first = _git(p1, 'rev-parse', 'HEAD')
        refs_before = deposit_refs(store / cid / 'datasets' / 'Pseudo-PHI-001')
        assert refs_before is not None
        superds = store / cid / 'repos' / 'collection'
        super_first = _git(superds, 'rev-parse', 'HEAD')

        # then the whole collection: one new commit for patient 1, a new
        # dataset for patient 2, refreshed deposits
        res = tcia_download(api_url=srv.api_url, collection=PHI, store=str(store))
        assert sorted(r['status'] for r in res) == ['notneeded', 'ok', 'ok', 'ok']
        res = tcia_deposit_dataset(store=str(store), collection=PHI)
        by_pid = {r.get('PatientID'): r for r in res}
        assert by_pid['Pseudo-PHI-001']['status'] == 'ok'
        assert by_pid['Pseudo-PHI-001']['message'].startswith('1 file(s) added')
        assert by_pid['Pseudo-PHI-002']['status'] == 'ok'
        assert _git(p1, 'rev-parse', 'HEAD~1') == first
        assert _git(p1, 'rev-list', '--count', 'HEAD') == '3'  # create + 2
        refs_after = deposit_refs(store / cid / 'datasets' / 'Pseudo-PHI-001')
        assert refs_after is not None
        assert refs_after['refs/heads/main'] == _git(p1, 'rev-parse', 'HEAD')
        assert refs_after != refs_before
        assert _git(superds, 'rev-parse', 'HEAD~1') == super_first
        gitmodules = (superds / '.gitmodules').read_text()
        assert 'Pseudo-PHI-002' in gitmodules

        # NBIA revises the series: one file changed, one removed. No
        # --force: the series is downloaded again, the previous records kept
        inst = ct.instances[0]
        data = inst.data + b'\x00\x00'
        gone = ct.instances.pop()
        ct.instances[0] = replace(
            inst, parts=(data,), md5=hashlib.md5(data).hexdigest()
        )
        srv.archive.reindex()
        res = tcia_download(api_url=srv.api_url, series=[ct.uid], store=str(store))
        assert [r['status'] for r in res] == ['ok']
        assert res[0]['message'].startswith('revised on NBIA (ImageCount 3 -> 2')
        superseded = sorted((store / cid / 'metadata' / 'superseded').iterdir())
        assert [p.name.split('_', 1)[0] for p in superseded] == [ct.uid, ct.uid]
        old_records = json.loads(
            next(p for p in superseded if p.name.endswith('_dicoms.json')).read_text()
        )
        assert gone.sop_uid in {r.get('SOPInstanceUID') for r in old_records}
        before = _git(p1, 'rev-parse', 'HEAD')
        res = tcia_deposit_dataset(store=str(store), collection=PHI)
        by_pid = {r.get('PatientID'): r for r in res}
        assert by_pid['Pseudo-PHI-001']['message'].startswith(
            '0 file(s) added, 1 changed, 1 removed'
        )
        assert by_pid['Pseudo-PHI-002']['status'] == 'notneeded'
        # the old version stays in the history, the commit says what changed
        changed = _git(p1, 'diff', '--name-status', before, 'HEAD').splitlines()
        assert sorted(c.split('\t')[0] for c in changed) == ['D', 'M']
        modified = [c.split('\t')[1] for c in changed if c.startswith('M')][0]
        assert modified.endswith('1-1.dcm')
        message = _git(p1, 'log', '-1', '--format=%B')
        assert '1 file(s) changed and 1 removed upstream' in message
        assert f'- {ct.uid} (NBIA): ImageCount 3 -> 2' in message
        # (the store's working copy is sparse: the symlink is in git)
        link = _git(p1, 'cat-file', '-p', f'HEAD:{modified}')
        assert hashlib.md5(data).hexdigest() in link
        # the same again changes nothing
        res = tcia_download(api_url=srv.api_url, series=[ct.uid], store=str(store))
        assert [r['status'] for r in res] == ['notneeded']
        res = tcia_deposit_dataset(store=str(store), collection=PHI)
        assert {r['status'] for r in res} == {'notneeded'}


def _one_series_dataset(store: Path) -> Path:
    """The working copy of Pseudo-PHI-001 built from one of its series."""
    with LookalikeServer() as srv:
        coll = srv.archive.collection(PHI)
        assert coll is not None
        uid = coll.patients[0].studies[0].series[0].uid
        tcia_download(api_url=srv.api_url, series=[uid], store=str(store))
        res = tcia_deposit_dataset(store=str(store), collection=PHI)
    assert {r['status'] for r in res} == {'ok'}
    return store / collection_id(PHI) / 'repos' / 'Pseudo-PHI-001'


def test_interrupted_working_copy_is_restored(tmp_path: Path) -> None:
    """Killed between fast-import and reset, a working copy is behind its
    commit; the next run brings it back and changes nothing else."""
    store = tmp_path / 'store'
    repo = _one_series_dataset(store)
    head = _git(repo, 'rev-parse', 'HEAD')
    # what a kill after fast-import leaves: the index and tree lag behind,
    # and no built record says the dataset is done
    _git(repo, 'read-tree', 'HEAD~1')
    (store / collection_id(PHI) / 'built.json').unlink()
    assert _git(repo, 'status', '--porcelain') != ''
    res = tcia_deposit_dataset(store=str(store), collection=PHI)
    assert {r['status'] for r in res} == {'notneeded'}
    assert _git(repo, 'rev-parse', 'HEAD') == head
    assert _git(repo, 'status', '--porcelain') == ''
    # back to the sparse checkout of .datalad/ only
    assert sorted(p.name for p in repo.iterdir()) == ['.datalad', '.git']


def test_unsourced_files_agree_with_git_annex(tmp_path: Path) -> None:
    """The archive deletion's check (files without a TCIA source, read
    from the git-annex branch) says what ``git annex find`` says."""
    from datalad_tcia.dataset.sources import unsourced_files

    repo = _one_series_dataset(tmp_path / 'store')
    find = [
        'git', 'annex', 'find', '--branch=HEAD', '--not', '--in', 'archivist',
        '--and', '--not', '--in', 'uncurl', '--and', '--not', '--in', 'nbia',
        '--and', '--not', '--in', 'idc', '--format=${file}\\n',
    ]  # fmt: skip
    assert unsourced_files(repo) == []
    assert _git(repo, *find[1:]) == ''
    # git-annex itself records that neither remote has one file any more
    names = _git(repo, 'ls-tree', '-r', '--name-only', 'HEAD').splitlines()
    path = next(n for n in names if n.endswith('.dcm'))
    key = Path(_git(repo, 'cat-file', '-p', f'HEAD:{path}')).name
    for remote in ('archivist', 'uncurl', 'nbia'):
        uuid = _git(repo, 'config', f'remote.{remote}.annex-uuid')
        _git(repo, 'annex', 'setpresentkey', key, uuid, '0')
    assert unsourced_files(repo) == [path]
    assert _git(repo, *find[1:]).splitlines() == [path]


def _set_annex_files(repo: Path, files: dict[str, str]) -> None:
    """Commit ``files`` (path -> text) to the git-annex branch, the way an
    earlier version of datalad-tcia left it."""
    env = {'GIT_INDEX_FILE': str(repo / '.git' / 'tmp-index')}
    run = partial(subprocess.run, cwd=repo, capture_output=True, text=True, check=True)
    run(['git', 'read-tree', 'git-annex'], env={**os.environ, **env})
    for name, text in files.items():
        sha = run(['git', 'hash-object', '-w', '--stdin'], input=text).stdout.strip()
        run(
            ['git', 'update-index', '--add', '--cacheinfo', f'100644,{sha},{name}'],
            env={**os.environ, **env},
        )
    tree = run(['git', 'write-tree'], env={**os.environ, **env}).stdout.strip()
    parent = _git(repo, 'rev-parse', 'git-annex')
    commit = run(['git', 'commit-tree', tree, '-p', parent, '-m', 'old']).stdout
    _git(repo, 'update-ref', 'refs/heads/git-annex', commit.strip())
    (repo / '.git' / 'tmp-index').unlink()


@pytest.mark.slow
def test_datasets_of_earlier_versions_get_the_costs(tmp_path: Path) -> None:
    """A dataset made before retrieval costs (no ``cost=``, uncurl claiming
    every http URL, no ``idc`` remote) is configured anew on its next
    update, in one commit that says so; a clone sees the costs."""
    store = tmp_path / 'store'
    repo = _one_series_dataset(store)
    lines = _git(repo, 'show', 'git-annex:remote.log').splitlines()
    old = []
    for line in lines:
        fields = dict(f.split('=', 1) for f in line.split()[1:])
        if fields['name'] in ('idc', 'nbia'):
            continue
        fields.pop('cost')
        if fields['name'] == 'uncurl':
            fields['match'] = '(?P<tciaurl>https?://.+)'
        old.append(
            line.split()[0]
            + ' '
            + ' '.join(
                f'{k}={v}' for k, v in sorted(fields.items()) if k != 'timestamp'
            )
            + f' timestamp={fields["timestamp"]}'
        )
    web_uuids = [
        _git(repo, 'config', f'remote.{n}.annex-uuid') for n in ('idc', 'nbia')
    ]
    uuid_log = [
        ln
        for ln in _git(repo, 'show', 'git-annex:uuid.log').splitlines()
        if not ln.startswith(tuple(web_uuids))
    ]
    _set_annex_files(
        repo,
        {'remote.log': '\n'.join(old) + '\n', 'uuid.log': '\n'.join(uuid_log) + '\n'},
    )
    _git(repo, 'config', '--remove-section', 'remote.idc')
    _git(repo, 'config', '--remove-section', 'remote.nbia')
    # made before the working copy recorded what it registered, and before
    # built records
    _git(repo, 'config', '--unset', 'datalad-tcia.registered')
    shutil.rmtree(store / collection_id(PHI) / 'built')
    (store / collection_id(PHI) / 'built.json').unlink()
    head = _git(repo, 'rev-parse', 'HEAD')

    res = tcia_deposit_dataset(store=str(store), collection=PHI)
    patient = [r for r in res if r.get('PatientID') == 'Pseudo-PHI-001']
    assert [r['status'] for r in patient] == ['ok']
    assert _git(repo, 'rev-parse', 'HEAD~1') == head
    assert _git(repo, 'diff', '--stat', 'HEAD~1', 'HEAD') == ''
    message = _git(repo, 'log', '-1', '--format=%B')
    assert 'special remotes configured anew' in message
    assert 'uncurl 175' in message
    remote_log = _git(repo, 'show', 'git-annex:remote.log')
    assert 'name=idc' in remote_log
    assert 'name=nbia' in remote_log
    assert remote_log.count('cost=') == 4
    # the same again changes nothing
    res = tcia_deposit_dataset(store=str(store), collection=PHI)
    assert {r['status'] for r in res} == {'notneeded'}
    clone = tmp_path / 'clone'
    env = fresh_env(tmp_path / 'home')
    url = patient[0]['url']
    run_ok([DATALAD, 'clone', url, str(clone)], tmp_path, env)
    cost = json.loads(run_ok(['git', 'annex', 'info', '--json', 'nbia'], clone, env))
    assert cost['cost'] == '150.0'


def test_remote_log_keeps_what_users_set() -> None:
    """An update adds the costs and replaces the earlier default match, but
    keeps a user's repair and cost; lines that need nothing keep their
    time."""
    from datalad_tcia.dataset.repository import REMOTES
    from datalad_tcia.dataset.repository import remote_log as merge_remote_log

    old = (
        'u-arch autoenable=true encryption=none externaltype=archivist '
        'name=archivist type=external timestamp=5s\n'
        'u-other name=elsewhere type=directory timestamp=6s\n'
        'u-unc autoenable=true cost=50 encryption=none externaltype=uncurl '
        'match=https://moved/(?P<call>.+) name=uncurl type=external '
        'url=https://new/{call} timestamp=7s\n'
    )
    new = merge_remote_log(
        old, 99, {'u-arch': REMOTES['archivist'], 'u-unc': REMOTES['uncurl']}
    )
    lines = {ln.split()[0]: ln for ln in new.splitlines()}
    assert 'cost=200' in lines['u-arch'] and lines['u-arch'].endswith('timestamp=99s')
    assert lines['u-other'] == 'u-other name=elsewhere type=directory timestamp=6s'
    # the user's cost and repair stay; only autoenable (an earlier default:
    # a process in every clone) is turned off
    assert lines['u-unc'] == (
        old.splitlines()[2]
        .replace('autoenable=true', 'autoenable=false')
        .replace('timestamp=7s', 'timestamp=99s')
    )
    legacy = old.replace(
        'match=https://moved/(?P<call>.+)', 'match=(?P<tciaurl>https?://.+)'
    )
    legacy_line = merge_remote_log(legacy, 99, {'u-unc': REMOTES['uncurl']})
    assert 'match=(?P<tciaurl>https?://[^?#]+[?].+)' in legacy_line
    assert 'cost=50' in legacy_line
    assert merge_remote_log(new, 100, {'u-arch': REMOTES['archivist']}) == new
