"""Write a dataset into the store as a ``datalad-annex::`` deposit.

A deposit is two files, ``<name>_XDLRA--refs`` and
``<name>_XDLRA--repo-export``, written by datalad-next's ``datalad-annex``
git remote helper through its ``uncurl`` special remote. Anyone can
``datalad clone`` it from the store's URL (``file://`` or ``http(s)://``).

The remote helper replaces a deposit by first deleting both files and then
uploading the new ones, so a run killed in between would leave no deposit
at all. Pushes therefore go to a staging deposit beside the real one
(``.<name>.staging_XDLRA--*``), which is then published by two renames:
the repository export first, the refs second. At every instant the final
names hold a deposit that clones: the old one, the new one, or (between
the renames) the new export with the old refs, whose commits the new
export contains. A staging deposit left by a killed run is discarded by
the next push.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from datalad_tcia.dataset.build import GitError, git

lgr = logging.getLogger('datalad.tcia.export.deposit')

REMOTE = 'tcia-store'
STAGING_REMOTE = 'tcia-store-staging'
SUFFIXES = ('_XDLRA--repo-export', '_XDLRA--refs')


def clone_url(base_url: str, relpath: str) -> str:
    """The ``datalad-annex::`` URL of the deposit ``<base_url>/<relpath>``.

    ``{{annex_key}}`` is doubled because the remote helper applies
    ``str.format`` to the URL; a literal ``&`` in the base URL must be
    escaped, which ``quote`` does.

    >>> clone_url('file:///data/store', 'rider/datasets/P1')
    'datalad-annex::?type=external&externaltype=uncurl&encryption=none&url=file:///data/store/rider/datasets/P1_{{annex_key}}'
    """
    url = quote(f'{base_url.rstrip("/")}/{relpath}', safe=':/@%+~=,;')
    return (
        'datalad-annex::?type=external&externaltype=uncurl&encryption=none'
        f'&url={url}_{{{{annex_key}}}}'
    )


def deposit_refs(prefix: Path) -> dict[str, str] | None:
    """The refs recorded in a deposit (``<prefix>_XDLRA--refs``), if any."""
    path = prefix.with_name(prefix.name + '_XDLRA--refs')
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    refs = {}
    for line in text.splitlines():
        sha, _, ref = line.partition(' ')
        if ref.startswith('refs/'):
            refs[ref] = sha
    return refs


@dataclass(frozen=True)
class DepositResult:
    """Outcome of :func:`push_deposit`: ``ok``, ``notneeded`` or
    ``impossible`` (with a message)."""

    status: str
    message: str


def push_deposit(repo: Path, prefix: Path, *, force: bool = False) -> DepositResult:
    """Push ``main`` and ``git-annex`` of ``repo`` to the deposit at
    ``prefix`` (a local path; the files are ``<prefix>_XDLRA--*``).

    An existing deposit with the same refs is left alone; one whose history
    is not an ancestor of the local one is not overwritten unless
    ``force``.
    """
    prefix.parent.mkdir(parents=True, exist_ok=True)
    branch = git(repo, 'symbolic-ref', '--short', 'HEAD').decode().strip()
    local = {
        f'refs/heads/{b}': git(repo, 'rev-parse', f'refs/heads/{b}').decode().strip()
        for b in (branch, 'git-annex')
    }
    remote = deposit_refs(prefix)
    if remote is not None and all(remote.get(r) == s for r, s in local.items()):
        return DepositResult('notneeded', 'deposit is up to date')
    if remote is not None and not force:
        old = remote.get(f'refs/heads/{branch}')
        if old and not _is_ancestor(repo, old, local[f'refs/heads/{branch}']):
            return DepositResult(
                'impossible',
                f'the deposit {prefix}_XDLRA--refs holds another history; '
                'refusing to overwrite it (use --force to replace it)',
            )
    base = prefix.parent.absolute().as_uri()
    staging = staging_prefix(prefix)
    discard_staging(prefix)
    # the helper's cache of the staging remote describes an older staging
    # deposit; start it afresh
    shutil.rmtree(repo / '.git' / 'dl-repoannex' / STAGING_REMOTE, ignore_errors=True)
    # the real deposit stays a remote for fetching; pushes go to staging
    remotes = git(repo, 'remote').decode().split()
    for name, url in (
        (REMOTE, clone_url(base, prefix.name)),
        (STAGING_REMOTE, clone_url(base, staging.name)),
    ):
        git(repo, 'remote', 'set-url' if name in remotes else 'add', name, url)
    # a plain git push: datalad push fails on a deposit that does not exist
    # yet (see the project's datalad-mechanics notes)
    git(repo, 'push', '--quiet', '--force', STAGING_REMOTE, branch, 'git-annex')
    publish(staging, prefix)
    return DepositResult('ok', 'deposit written')


def staging_prefix(prefix: Path) -> Path:
    """Where a new deposit for ``prefix`` is written before publication."""
    return prefix.with_name(f'.{prefix.name}.staging')


def discard_staging(prefix: Path) -> None:
    """Delete a staging deposit of ``prefix`` left by an interrupted run.

    Call only while holding the collection's store lock.
    """
    staging = staging_prefix(prefix)
    for suffix in SUFFIXES:
        staging.with_name(staging.name + suffix).unlink(missing_ok=True)


def publish(staging: Path, prefix: Path) -> None:
    """Move the staging deposit to the final names: export, then refs."""
    for suffix in SUFFIXES:
        src = staging.with_name(staging.name + suffix)
        with src.open('rb') as fp:
            os.fsync(fp.fileno())
        os.replace(src, prefix.with_name(prefix.name + suffix))
    fd = os.open(prefix.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    lgr.debug('published deposit %s', prefix)


def _is_ancestor(repo: Path, old: str, new: str) -> bool:
    try:
        git(repo, 'merge-base', '--is-ancestor', old, new)
    except GitError:
        return False
    return True
