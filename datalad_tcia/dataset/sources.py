"""Which files of a dataset have no registered source.

Before archives are deleted, every file of every patient dataset must have
a source: present in one of the dataset's TCIA remotes (``idc``, ``nbia``,
``uncurl``, ``archivist``) according to the git-annex branch. ``git annex
find`` with ``--not --in`` each answers that, but costs about half a
second per dataset (a LIDC-IDRI collection step would spend ten minutes
on it); the same answer
is read here from the branch (and git-annex's journal of changes not yet
committed to it) with three git processes per dataset. The location logs
are git-annex's own (:mod:`datalad_tcia.formats.annex_branch`); the tests
check the result with git-annex itself (``whereis``, ``fsck``, clone and get).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from datalad_tcia.formats.annex_branch import hashdirlower, journal_name, present_uuids
from datalad_tcia.formats.annex_config import read_config
from datalad_tcia.store.git import cat_blobs, tree_entries

from .repository import ALL_REMOTES


def unsourced_files(repo: Path, ref: str = 'HEAD') -> list[str]:
    """Annexed files of ``ref`` that no TCIA special remote has."""
    config = read_config(repo)
    sources = {
        config[f'remote.{name}.annex-uuid']
        for name in ALL_REMOTES
        if f'remote.{name}.annex-uuid' in config
    }
    links = {
        sha: path
        for path, (mode, sha) in tree_entries(repo, ref).items()
        if mode == '120000'
    }
    targets = cat_blobs(repo, list(links))
    keys: dict[str, str] = {}
    for sha, path in links.items():
        target = PurePosixPath(targets[sha].decode('utf-8', 'surrogateescape'))
        if '.git/annex/objects/' in str(target):
            keys[path] = target.name
    logs = {k: f'{hashdirlower(k)}{k}.log' for k in set(keys.values())}
    blobs = cat_blobs(repo, [f'refs/heads/git-annex:{log}' for log in logs.values()])
    journal = repo / '.git' / 'annex' / 'journal'
    present: dict[str, set[str]] = {}
    for key, log in logs.items():
        # what git-annex has not committed yet supersedes the branch
        pending = journal / journal_name(log)
        if pending.exists():
            text = pending.read_bytes()
        else:
            text = blobs.get(f'refs/heads/git-annex:{log}', b'')
        present[key] = present_uuids(text.decode())
    return sorted(p for p, k in keys.items() if not present.get(k, set()) & sources)
