"""Configured credentials never leak.

A bearer token (``DATALAD_TCIA_TOKEN``) and a password in the API URL
(``datalad.tcia.api-url`` in the user's git config) are used for the NBIA
requests, and then searched for in everything the runs produced: result
records, debug logs, every file of the store, every git object of the
working copies, of a clone of each deposit and of the clone at PATH
(decompressed with ``git cat-file``), and the catalog.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, fresh_env

from .harness import (
    Row,
    datalad,
    deposit_url,
    expected_md5s,
    lost_files,
    partial_files,
    record,
)

pytestmark = pytest.mark.slow

PHI = 'Pseudo-PHI-DICOM-Data'
RT = 'LOOKALIKE-RT'


def _git_objects(repo: Path) -> bytes:
    """Every object of ``repo``, decompressed."""
    return subprocess.run(
        ['git', 'cat-file', '--batch-all-objects', '--batch'],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout


def _leaks(blob: bytes, needles: list[bytes]) -> list[bytes]:
    return [n for n in needles if n in blob]


def test_credentials_never_leak(tcia: LookalikeServer, tmp_path: Path) -> None:
    token = f'tok-{secrets.token_hex(16)}'
    password = f'pw-{secrets.token_hex(16)}'
    user = 'alice-tcia'
    basic = base64.b64encode(f'{user}:{password}'.encode()).decode()
    needles = [s.encode() for s in (token, password, basic)]
    row = Row('secrets', 'token and URL password configured', 2)
    store = tmp_path / 'store'
    env = fresh_env(tmp_path / 'home')
    # fast retries; the password travels in the configured API URL
    api = tcia.api_url.replace('://', f'://{user}:{password}@', 1)
    subprocess.run(
        ['git', 'config', '--global', 'datalad.tcia.api-url', api],
        env=env,
        check=True,
    )
    outputs = []
    # run 1: a bearer token from the environment (and the URL password,
    # which the token wins over); run 2: the URL password alone
    for collection, extra in ((PHI, {'DATALAD_TCIA_TOKEN': token}), (RT, {})):
        tcia.reset()
        run = datalad(
            [
                '-l',
                'debug',
                '-f',
                'json',
                'tcia-add',
                '--datacite-url',
                tcia.datacite_url,
                '--store',
                str(store),
                '--collection',
                collection,
                str(tmp_path / f'clone-{collection}'),
            ],
            cwd=tmp_path,
            env={**env, **extra},
        )
        row.add(run)
        assert run.complete(), run.stdout + run.stderr
        outputs += [run.stdout.encode(), run.stderr.encode()]
        # the credentials were used, and only with NBIA
        nbia = [r for r in tcia.requests() if r.endpoint != 'dois']
        assert nbia
        want = f'Bearer {token}' if extra else f'Basic {basic}'
        assert {r.authorization for r in nbia} == {want}
        assert all(r.authorization is None for r in tcia.requests('dois'))

    found: dict[str, list[bytes]] = {}

    def check(label: str, blob: bytes) -> None:
        hits = _leaks(blob, needles)
        if hits:
            found[label] = hits

    for i, blob in enumerate(outputs):
        check(f'output {i}', blob)
    # every file of the store (metadata, deposits, catalog, working copies
    # with their .git, the remote helpers' caches) and of the clones
    for root in (store, *tmp_path.glob('clone-*')):
        for path in root.rglob('*'):
            if path.is_file() and not path.is_symlink():
                check(str(path), path.read_bytes())
    repos = [p.parent for p in store.glob('*/repos/*/.git')] + [
        p.parent for p in tmp_path.glob('clone-*/.git')
    ]
    # every deposit, cloned afresh: what anyone gets
    probe = tmp_path / 'probe'
    probe.mkdir()
    for n, refs in enumerate(sorted(store.rglob('*_XDLRA--refs'))):
        if refs.name.startswith('.'):
            continue
        target = probe / str(n)
        prefix = refs.with_name(refs.name[: -len('_XDLRA--refs')])
        subprocess.run(
            ['git', 'clone', '--quiet', deposit_url(prefix), str(target)],
            cwd=probe,
            env=env,
            check=True,
            capture_output=True,
        )
        repos.append(target)
    assert len(repos) >= 8
    for repo in repos:
        check(f'git objects of {repo}', _git_objects(repo))
    assert found == {}, json.dumps(
        {k: [v.decode() for v in vs] for k, vs in found.items()}
    )
    row.partial = len(partial_files(store))
    row.lost = sum(
        lost_files(store, collection_id(c), expected_md5s(tcia, c), tmp_path / c)
        for c in (PHI, RT)
    )
    assert row.partial == 0
    assert row.lost == 0
    record(row)


def test_store_url_with_credentials_is_refused(
    tcia: LookalikeServer, tmp_path: Path
) -> None:
    password = f'pw-{secrets.token_hex(8)}'
    proc = subprocess.run(
        [
            DATALAD,
            '-f',
            'json',
            'tcia-add',
            '--api-url',
            tcia.api_url,
            '--store',
            str(tmp_path / 'store'),
            '--store-url',
            f'https://bob:{password}@data.example.org/tcia',
            '--collection',
            PHI,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    # a parameter constraint violation: DataLad reports it on stderr, with
    # the URL redacted
    assert 'carries credentials' in proc.stderr
    assert 'https://***@data.example.org/tcia' in proc.stderr
    assert password not in proc.stdout + proc.stderr
    assert not (tmp_path / 'store').exists()
    assert tcia.requests() == []
