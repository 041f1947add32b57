"""The Singularity/Apptainer recipe: its header and sections, and its
install steps run into a virtual environment.

``tests/hpc/test_container.py`` builds the image and runs the pipeline in
it; here the recipe's ``%post`` lines are also run into a fresh virtual
environment, followed by its ``%test`` lines, which catches a broken
install step in a minute (no Debian root needed).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
RECIPE = ROOT / 'singularity' / 'datalad-tcia.def'


def header() -> dict[str, str]:
    """The recipe's header keywords (lower case) and values."""
    out = {}
    for line in RECIPE.read_text().splitlines():
        if line.startswith('%'):
            break
        if ':' in line:
            key, value = line.split(':', 1)
            out[key.strip().lower()] = value.strip()
    return out


def sections() -> dict[str, str]:
    """The recipe's ``%section`` bodies, verbatim."""
    out: dict[str, list[str]] = {}
    current = None
    for line in RECIPE.read_text().splitlines():
        if line.startswith('%'):
            current = line[1:].split()[0]
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return {k: '\n'.join(v) for k, v in out.items()}


def test_recipe_structure() -> None:
    """A debootstrap recipe (no container registry needed) of Debian 12
    with what the install steps and git-annex need."""
    head = header()
    assert head['bootstrap'] == 'debootstrap'
    assert head['osversion'] == 'bookworm'
    assert head['mirrorurl'].startswith('http')
    assert set(head['include'].split()) >= {
        'python3',
        'python3-venv',
        'git',
        'ca-certificates',
        'netbase',
    }
    body = sections()
    assert set(body) >= {'post', 'environment', 'runscript', 'test', 'files', 'labels'}
    assert 'datalad.extensions.load next' in body['post']
    assert 'git config --system' in body['post']
    assert '[annex]' in body['post']
    assert body['runscript'].strip() == 'exec datalad "$@"'
    assert 'PATH=/opt/datalad-tcia/venv/bin:$PATH' in body['environment']
    assert body['files'].split() == ['.', '/opt/datalad-tcia/src']


@pytest.mark.slow
def test_recipe_install_steps_work(tmp_path: Path) -> None:
    venv = tmp_path / 'venv'
    system_gitconfig = tmp_path / 'gitconfig'
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('GIT_', 'VIRTUAL_ENV'))
    }
    env.update(
        VENV=str(venv),
        SRC=str(ROOT),
        GIT_CONFIG_SYSTEM=str(system_gitconfig),
        HOME=str(tmp_path),
    )
    post = sections()['post']
    proc = subprocess.run(
        ['bash', '-c', post], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # the %environment, then the %test section
    env['PATH'] = f'{venv / "bin"}{os.pathsep}{env["PATH"]}'
    test = sections()['test']
    proc = subprocess.run(
        ['bash', '-c', test],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert 'datalad' in proc.stdout
