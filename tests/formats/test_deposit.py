"""``formats/deposit.py`` and ``formats/bare.py`` through
``export_dataset``: what is written by hand is what stock tools clone —
plain ``git clone`` of the bare repository, and datalad-next's
``datalad-annex::`` remote helper of the deposit — with the same branches
and tags as the working copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalad_tcia.export import deposit_url, export_dataset, local_refs
from datalad_tcia.formats.deposit import deposit_refs
from datalad_tcia.store import ExportPaths
from tests.helpers import DATALAD, fresh_env, run_ok


def _working_copy(path: Path) -> Path:
    path.mkdir()
    run_ok(['git', 'init', '-q', '-b', 'main'], path)
    run_ok(['git', 'config', 'user.name', 'T'], path)
    run_ok(['git', 'config', 'user.email', 't@example.org'], path)
    run_ok(['git', 'annex', 'init', '-q'], path)
    (path / 'README').write_text('hello\n')
    run_ok(['git', 'add', 'README'], path)
    run_ok(['git', 'commit', '-q', '-m', 'first'], path)
    run_ok(['git', 'tag', '-a', '-m', 'v1', 'v1'], path)
    return path


@pytest.mark.slow
def test_both_forms_clone_with_stock_tools(tmp_path: Path) -> None:
    repo = _working_copy(tmp_path / 'wc')
    store = tmp_path / 'store'
    target = ExportPaths(store / 'c' / 'datasets' / 'P1', 'c/datasets/P1')
    assert export_dataset(repo, target).status == 'ok'
    head, refs = local_refs(repo)
    assert head == 'refs/heads/main'
    assert deposit_refs(target.prefix) == {
        r: sha for r, sha in refs.items() if not r.endswith('^{}')
    }
    # again: nothing to do
    assert export_dataset(repo, target).status == 'notneeded'
    env = fresh_env(tmp_path / 'home')
    plain = tmp_path / 'plain'
    run_ok(['git', 'clone', '-q', target.bare.as_uri(), str(plain)], tmp_path, env)
    helper = tmp_path / 'helper'
    url = deposit_url(store.as_uri(), target.relpath)
    run_ok([DATALAD, 'clone', url, str(helper)], tmp_path, env)
    for clone in (plain, helper):
        assert (clone / 'README').read_text() == 'hello\n'
        assert run_ok(['git', 'rev-parse', 'HEAD'], clone).strip() == refs[head]
        assert run_ok(['git', 'tag', '--list'], clone).split() == ['v1']
