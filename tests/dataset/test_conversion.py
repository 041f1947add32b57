"""A store built by the previous version (its code in a git worktree) is
moved to plain git repositories and web remotes by the next ``tcia-add``,
without changing any file's key; a clone made before keeps getting files,
before and after it merges the new state."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.export import deposit_url
from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, api, fresh_env, run, run_ok

#: the last version whose clone URLs were datalad-annex:: deposits and
#: whose special remotes were all external and autoenabled
BASELINE = '2660dbf'
ROOT = Path(__file__).resolve().parents[2]
PHI = 'Pseudo-PHI-DICOM-Data'
CID = collection_id(PHI)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The previous version's code, checked out beside this one."""
    known = run(['git', 'cat-file', '-e', f'{BASELINE}^{{commit}}'], ROOT)
    if known.returncode:
        pytest.skip(f'this clone lacks the history of {BASELINE}')
    tree = tmp_path_factory.mktemp('baseline') / 'code'
    run_ok(['git', 'worktree', 'add', '--detach', str(tree), BASELINE], ROOT)
    yield tree
    run(['git', 'worktree', 'remove', '--force', str(tree)], ROOT)


def _keys(store: Path) -> dict[str, dict[str, str]]:
    """Per working copy: path -> key of every annexed file."""
    out = {}
    for repo in sorted((store / CID / 'repos').iterdir()):
        if repo.name == 'collection':
            continue
        listing = run_ok(['git', 'ls-tree', '-r', 'HEAD'], repo)
        keys = {}
        for line in listing.splitlines():
            meta, path = line.split('\t', 1)
            mode, _type, sha = meta.split()
            if mode == '120000':
                target = run_ok(['git', 'cat-file', 'blob', sha], repo)
                keys[path] = Path(target).name
        out[repo.name] = keys
    return out


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_old_store_and_old_clone_after_conversion(
    old_code: Path, lookalike_session: LookalikeServer, tmp_path: Path
) -> None:
    srv = lookalike_session
    srv.reset()
    store = tmp_path / 'store'
    old_env = dict(os.environ, PYTHONPATH=str(old_code))
    args = [
        'tcia-add',
        '--api-url',
        srv.api_url,
        '--datacite-url',
        srv.datacite_url,
        '--collection',
        PHI,
        '--store',
        str(store),
    ]
    run_ok([DATALAD, *args], tmp_path, old_env)
    modules = (store / CID / 'repos' / 'collection' / '.gitmodules').read_text()
    assert 'datalad-annex::' in modules  # the old form indeed
    assert not list((store / CID / 'datasets').glob('*.git'))
    before = _keys(store)

    # a user's clone of the old form, one patient installed, one file got
    user = fresh_env(tmp_path / 'home')
    old_clone = tmp_path / 'old-clone'
    run_ok(
        [
            DATALAD,
            'clone',
            deposit_url(store.as_uri(), f'{CID}/collection'),
            str(old_clone),
        ],
        tmp_path,
        user,
    )
    run_ok([DATALAD, 'get', '-n', 'Pseudo-PHI-001'], old_clone, user)
    patient = old_clone / 'Pseudo-PHI-001'
    files = sorted(
        p for p in patient.rglob('*.dcm') if '.git' not in p.relative_to(patient).parts
    )
    run_ok([DATALAD, 'get', str(files[0])], patient, user)

    # the next run of this version moves the store to the new form
    res = api('tcia_add')(
        api_url=srv.api_url,
        datacite_url=srv.datacite_url,
        collection=PHI,
        store=str(store),
    )
    patients = [
        r for r in res if r.get('PatientID') and r['action'] == 'tcia_deposit_dataset'
    ]
    assert {r['status'] for r in patients} == {'ok'}, patients
    assert all('special remotes configured anew' in r['message'] for r in patients)
    assert _keys(store) == before  # no file's key changed
    assert all(
        (store / CID / 'datasets' / f'{p}.git' / 'info' / 'refs').exists()
        for p in before
    )
    modules = (store / CID / 'repos' / 'collection' / '.gitmodules').read_text()
    assert 'datalad-annex::' not in modules
    assert f'url = {store.as_uri()}/{CID}/datasets/Pseudo-PHI-001.git' in modules
    work = store / CID / 'repos' / 'Pseudo-PHI-001'
    remote_log = run_ok(['git', 'show', 'git-annex:remote.log'], work)
    assert re.search(r'autoenable=true cost=100 name=idc type=web', remote_log)
    assert re.search(r'autoenable=false cost=100 .*name=idc-uncurl', remote_log)
    assert re.search(r'autoenable=false cost=175 .*name=uncurl', remote_log)
    # the same again: nothing to do
    again = api('tcia_add')(
        api_url=srv.api_url,
        datacite_url=srv.datacite_url,
        collection=PHI,
        store=str(store),
    )
    assert {r['status'] for r in again if r['action'] != 'tcia_add'} == {'notneeded'}

    # a new clone installs from the plain repositories, no external remote
    new_clone = tmp_path / 'new-clone'
    url = [r for r in res if r['path'].endswith('/collection')][0]['url']
    assert url == f'{store.as_uri()}/{CID}/collection.git'
    run_ok([DATALAD, 'clone', url, str(new_clone)], tmp_path, user)
    run_ok([DATALAD, 'get', '-r', '.'], new_clone, user)
    config = run_ok(['git', 'config', '-l'], new_clone / 'Pseudo-PHI-001')
    assert 'annex-externaltype' not in config
    assert 'remote.nbia.annex-web=true' in config
    truth = {
        i.md5 for s in srv.archive.iter_series() if s.collection.name == PHI
        for i in s.instances
    }  # fmt: skip
    got = [
        p
        for p in new_clone.rglob('*.dcm')
        if '.git' not in p.relative_to(new_clone).parts
    ]
    assert got and {_md5(p) for p in got} <= truth
    assert len(got) == sum(len(k) for k in before.values())

    # the old clone: still gets files as it is ...
    run_ok([DATALAD, 'get', str(files[1])], patient, user)
    assert _md5(files[1]) in truth
    # ... and after merging the new state, also through the web remote
    run_ok([DATALAD, 'update', '--how', 'merge', '-r'], old_clone, user)
    run_ok(['git', 'annex', 'enableremote', 'nbia'], patient, user)
    run_ok(['git', 'annex', 'drop', '--force', str(files[1])], patient, user)
    out = run_ok(['git', 'annex', 'get', str(files[1])], patient, user)
    assert '(from nbia...)' in out
    assert _md5(files[1]) in truth
    run_ok([DATALAD, 'get', str(files[2])], patient, user)
    assert _md5(files[2]) in truth
    # the patient not installed before now comes from the plain repository
    run_ok([DATALAD, 'get', '-n', 'Pseudo-PHI-002'], old_clone, user)
    origin = run_ok(
        ['git', 'remote', 'get-url', 'origin'], old_clone / 'Pseudo-PHI-002'
    ).strip()
    assert origin.endswith('/datasets/Pseudo-PHI-002.git')
    srv.reset()
