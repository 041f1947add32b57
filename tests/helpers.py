"""Helpers shared by the test modules (no tests here).

Test modules import from this module (and from ``tests/faults/harness.py``,
the fault suite's tools), never from one another.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

#: the ``datalad`` of the test environment
DATALAD = str(Path(sys.executable).parent / 'datalad')


def api(name: str) -> Callable[..., list[dict[str, Any]]]:
    """A ``datalad.api`` command that returns every result, failures too,
    and renders nothing."""
    from datalad import api as dlapi

    return partial(
        getattr(dlapi, name), on_failure='ignore', result_renderer='disabled'
    )


def run(
    args: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run a program; its output as text, whatever its exit code."""
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, **kwargs
    )


def datalad(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``datalad ARGS`` (see :func:`run`)."""
    return run([DATALAD, *args], **kwargs)


def fresh_env(home: Path, *, system_config: bool = False) -> dict[str, str]:
    """An environment with an empty HOME (a user on another machine) that
    has nothing but a git identity; with ``system_config``, git also reads
    the system configuration (a container image's, which loads
    datalad-next)."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / '.gitconfig'
    gitconfig.write_text(
        '[user]\n\tname = Someone Else\n\temail = else@example.org\n'
        '[init]\n\tdefaultBranch = main\n'
        # git-annex's own HTTP client fetches from the loopback look-alikes
        # only when allowed (a clone of the real TCIA needs no such line)
        '[annex "security"]\n\tallowed-ip-addresses = 127.0.0.1 ::1\n'
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('GIT_', 'DATALAD_'))
    }
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig))
    if not system_config:
        env['GIT_CONFIG_NOSYSTEM'] = '1'
    return env


def snapshot(root: Path) -> dict[str, bytes]:
    """Every path below ``root`` with its bytes (directories: empty), git
    internals left out; to show that a failed run changed nothing."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b''
        for p in sorted(root.rglob('*'))
        if '.git' not in p.relative_to(root).parts
    }


def visit_tar(path: Path) -> dict[str, str]:
    """A tarball with two series (as an INM-ICF visit could hold) and a
    README; returns member -> SeriesInstanceUID."""
    import pydicom
    from pydicom.data import get_testdata_file

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


def run_ok(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,  # noqa: A002
) -> str:
    """Run a program that must succeed; its standard output."""
    proc = run(args, cwd=cwd, env=env, input=input)
    assert proc.returncode == 0, f'{args}\n{proc.stdout}\n{proc.stderr}'
    return proc.stdout


def store_state(store: Path, collection_id: str) -> dict[str, Any]:
    """What must be the same whoever built a collection in ``store`` and
    however (one process, shards, cluster jobs): per patient dataset its
    tree (paths, modes, symlink targets: the keys), its git-annex branch
    (sources, metadata; times dropped, UUIDs as remote names), and its
    deposit's refs being its commits; the metadata deposit (download
    times, archive checksums and NBIA's md5hashes.csv dropped); the
    superdataset's subdatasets."""
    import json

    root = store / collection_id
    state: dict[str, Any] = {'patients': {}, 'metadata': {}}
    for path in sorted((root / 'metadata').glob('*.json')):
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            # NBIA builds each archive anew: its bytes differ per download
            for volatile in ('downloaded', 'archive_md5', 'archive_size'):
                data.pop(volatile, None)
        else:
            # NBIA writes md5hashes.csv anew into every archive it builds
            data = [m for m in data if m.get('dicom') is not False]
        state['metadata'][path.name] = data
    for repo in sorted((root / 'repos').iterdir()):
        if repo.name.startswith('.') or repo.name == 'collection':
            continue
        tree = run_ok(['git', 'ls-tree', '-r', 'HEAD'], repo).splitlines()
        tree = [t for t in tree if not t.endswith('\t.datalad/config')]
        names = {}
        for line in run_ok(['git', 'show', 'git-annex:uuid.log'], repo).splitlines():
            names[line.split()[0]] = line.split()[1]
        logs = {}
        for name in run_ok(
            ['git', 'ls-tree', '-r', '--name-only', 'git-annex'], repo
        ).split():
            if name in ('uuid.log', 'remote.log'):
                continue
            text = run_ok(['git', 'show', f'git-annex:{name}'], repo)
            for uuid, label in names.items():
                text = text.replace(uuid, label)
            logs[name] = sorted(line.split(' ', 1)[1] for line in text.splitlines())
        refs = (root / 'datasets' / f'{repo.name}_XDLRA--refs').read_text()
        head = run_ok(['git', 'rev-parse', 'HEAD'], repo).strip()
        assert f'{head} refs/heads/main' in refs, repo
        state['patients'][repo.name] = {'tree': tree, 'annex': logs}
    gitmodules = run_ok(
        ['git', 'config', '-f', '.gitmodules', '--get-regexp', r'\.path$'],
        root / 'repos' / 'collection',
    )
    state['subdatasets'] = sorted(gitmodules.split()[1::2])
    return state


def tcia_add_argv(srv: Any, store: Path, collection: str, *extra: str) -> list[str]:
    """``datalad -f json tcia-add`` of ``collection`` into ``store``
    against the look-alike ``srv``."""
    return [
        DATALAD,
        '-f',
        'json',
        'tcia-add',
        '--collection',
        collection,
        '--store',
        str(store),
        '--api-url',
        srv.api_url,
        '--datacite-url',
        srv.datacite_url,
        *extra,
    ]


def clone_and_get_all(store: Path, collection_id: str, tmp: Path) -> list[str]:
    """Clone the collection deposit in ``store`` as another user would (a
    fresh HOME), ``datalad get -r`` everything; the sorted MD5s of the
    DICOM files got."""
    import hashlib

    env = fresh_env(tmp / 'home')
    url = (
        'datalad-annex::?type=external&externaltype=uncurl&encryption=none'
        f'&url={store.as_uri()}/{collection_id}/collection_{{{{annex_key}}}}'
    )
    clone = tmp / 'clone'
    run_ok([DATALAD, 'clone', url, str(clone)], tmp, env=env)
    got = run([DATALAD, '-f', 'json', 'get', '-r', '.'], cwd=clone, env=env)
    assert got.returncode == 0, got.stdout + got.stderr
    return sorted(
        hashlib.md5(p.read_bytes()).hexdigest()
        for p in clone.rglob('*.dcm')
        if '.git' not in p.relative_to(clone).parts
    )


def enable_remote(repo: Path, env: dict[str, str], name: str, *params: str) -> None:
    """``git annex enableremote NAME PARAMS`` in ``repo`` and, where
    git-annex asks for it (new parameters), the ``verifyremote --safe`` it
    names: what a user does to enable uncurl or archivist in a clone."""
    proc = run(['git', 'annex', 'enableremote', name, *params], repo, env)
    assert proc.returncode == 0, f'{proc.stdout}\n{proc.stderr}'
    safe = re.search(
        rf'git-annex verifyremote {re.escape(name)} --safe (\S+)',
        proc.stdout + proc.stderr,
    )
    if safe:
        run_ok(
            ['git', 'annex', 'verifyremote', name, '--safe', safe.group(1)], repo, env
        )
