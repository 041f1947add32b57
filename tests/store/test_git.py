"""``store/git.py``: the one git runner; its errors carry what datalad's
``CommandError`` carries (command, exit code, stderr, directory) and say
in one line what failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from datalad.runner.exception import CommandError

from datalad_tcia.store.git import GitError, cat_blobs, git, git_succeeds, rev_parse


def test_a_failing_command_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as info:
        git(tmp_path, 'rev-parse', 'no-such-ref')
    e = info.value
    assert isinstance(e, GitError)
    assert e.cmd == ['git', 'rev-parse', 'no-such-ref']
    assert e.code == 128
    assert 'not a git repository' in e.stderr
    assert e.cwd == str(tmp_path)
    assert str(e).startswith(f'git rev-parse no-such-ref failed in {tmp_path}: ')
    assert '\n' not in str(e)
    assert not git_succeeds(tmp_path, 'rev-parse', 'HEAD')


def test_bytes_in_and_out(tmp_path: Path) -> None:
    git(tmp_path, 'init', '-q')
    sha = git(tmp_path, 'hash-object', '-w', '--stdin', input=b'\x00\xff').strip()
    assert cat_blobs(tmp_path, [sha.decode(), '0' * 40]) == {sha.decode(): b'\x00\xff'}
    with pytest.raises(GitError):
        rev_parse(tmp_path, 'HEAD')
