"""``formats/fastimport.py``: the stream git itself reads as its own.

Two commits on a new branch and one on top of an existing commit: git
shows the same trees, modes, blobs and parents a ``git commit`` would
give, and ``blob_sha`` is ``git hash-object``'s id."""

from __future__ import annotations

import subprocess
from pathlib import Path

from datalad_tcia.formats import fastimport


def _git(repo: Path, *args: str, input: bytes | None = None) -> str:  # noqa: A002
    return subprocess.run(
        ['git', *args], cwd=repo, input=input, capture_output=True, check=True
    ).stdout.decode()


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / 'r'
    repo.mkdir()
    _git(repo, 'init', '-q', '-b', 'main')
    _git(repo, 'config', 'user.name', 'T')
    _git(repo, 'config', 'user.email', 't@example.org')
    return repo


def test_blob_sha_is_gits(tmp_path: Path) -> None:
    for data in (b'', b'x', b'../.git/annex/objects/ab/cd/KEY/KEY', bytes(range(256))):
        want = _git(tmp_path, 'hash-object', '--stdin', input=data).strip()
        assert fastimport.blob_sha(data) == want


def test_commits_written_as_git_writes_them(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    fastimport.fast_import(
        repo,
        [
            fastimport.Commit(
                'refs/heads/git-annex',
                b'update',
                [fastimport.put('abc/def/KEY.log', b'1 1 uuid\n')],
            ),
            fastimport.Commit(
                'refs/heads/main',
                b'first',
                [
                    fastimport.put('a b/f.dcm', b'../.git/annex/K', fastimport.SYMLINK),
                    fastimport.put('LICENSE', b'CC BY 4.0\n'),
                ],
            ),
        ],
    )
    tree = _git(repo, 'ls-tree', '-r', 'main')
    assert f'120000 blob {fastimport.blob_sha(b"../.git/annex/K")}\ta b/f.dcm' in tree
    licence = fastimport.blob_sha(b'CC BY 4.0\n')
    assert f'100644 blob {licence}\tLICENSE' in tree
    assert _git(repo, 'show', 'git-annex:abc/def/KEY.log') == '1 1 uuid\n'
    first = _git(repo, 'rev-parse', 'main').strip()
    fastimport.fast_import(
        repo,
        [
            fastimport.Commit(
                'refs/heads/main',
                'zweite Änderung'.encode(),
                [fastimport.delete('LICENSE')],
                first,
            )
        ],
    )
    assert _git(repo, 'rev-parse', 'main^').strip() == first
    assert _git(repo, 'ls-tree', '-r', '--name-only', 'main') == 'a b/f.dcm\n'
    assert _git(repo, 'log', '-1', '--format=%s %an', 'main') == 'zweite Änderung T\n'
    _git(repo, 'fsck', '--strict')
