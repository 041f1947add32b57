"""The Singularity/Apptainer recipe: parsed, and its install steps run.

No container runtime is available here, so the recipe is parsed with
spython and its ``%post`` lines are run into a fresh virtual environment,
followed by its ``%test`` lines: a broken recipe fails CI.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from spython.main.parse.parsers import SingularityParser

ROOT = Path(__file__).parents[1]
RECIPE = ROOT / 'singularity' / 'datalad-tcia.def'


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


@pytest.fixture(scope='module')
def recipe():
    return SingularityParser(str(RECIPE)).recipe['spython-base']


def test_recipe_structure(recipe) -> None:
    assert recipe.fromHeader.startswith('debian:')
    post = '\n'.join(recipe.install)
    assert 'datalad.extensions.load next' in post
    assert 'git config --system' in post
    assert '[annex]' in post
    assert recipe.cmd == 'exec datalad "$@"'
    assert 'PATH=/opt/datalad-tcia/venv/bin:$PATH' in recipe.environ
    assert recipe.files == ['. /opt/datalad-tcia/src']
    assert set(sections()) >= {'post', 'environment', 'runscript', 'test', 'files'}


@pytest.mark.slow
def test_recipe_install_steps_work(recipe, tmp_path: Path) -> None:
    venv = tmp_path / 'venv'
    system_gitconfig = tmp_path / 'gitconfig'
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('GIT_', 'VIRTUAL_ENV'))
    }
    env.update(
        VENV=str(venv),
        SRC=str(ROOT),
        TCIA_SKIP_APT='1',
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
