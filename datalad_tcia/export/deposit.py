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

from datalad_tcia.gitcmd import current_branch, git, git_succeeds, rev_parse
from datalad_tcia.store import DEPOSIT_SUFFIXES, DepositPaths

lgr = logging.getLogger('datalad.tcia.export.deposit')

REMOTE = 'tcia-store'
STAGING_REMOTE = 'tcia-store-staging'


def store_base_url(store: Path, store_url: str | None = None) -> str:
    """The URL under which others reach ``store``: ``store_url``, or the
    store's ``file://`` URL.

    >>> store_base_url(Path('/data/store'), 'https://example.org/tcia/')
    'https://example.org/tcia'
    >>> store_base_url(Path('/data/store'))
    'file:///data/store'
    """
    return (store_url or store.absolute().as_uri()).rstrip('/')


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
    try:
        text = DepositPaths.refs_of(prefix).read_text()
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


def push_deposit(
    repo: Path, deposit: DepositPaths, *, force: bool = False
) -> DepositResult:
    """Push ``main`` and ``git-annex`` of ``repo`` to ``deposit``.

    An existing deposit with the same refs is left alone; one whose history
    is not an ancestor of the local one is not overwritten unless
    ``force``.
    """
    prefix = deposit.prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    branch = current_branch(repo)
    local = {
        f'refs/heads/{b}': rev_parse(repo, f'refs/heads/{b}')
        for b in (branch, 'git-annex')
    }
    remote = deposit_refs(prefix)
    if remote is not None and all(remote.get(r) == s for r, s in local.items()):
        return DepositResult('notneeded', 'deposit is up to date')
    if remote is not None and not force:
        old = remote.get(f'refs/heads/{branch}')
        if old and not git_succeeds(
            repo, 'merge-base', '--is-ancestor', old, local[f'refs/heads/{branch}']
        ):
            return DepositResult(
                'impossible',
                f'the deposit {deposit.refs} holds another history; '
                'refusing to overwrite it (use --force to replace it)',
            )
    base = prefix.parent.absolute().as_uri()
    staging = deposit.staging
    discard_staging(deposit)
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
    publish(deposit)
    return DepositResult('ok', 'deposit written')


def discard_staging(deposit: DepositPaths) -> None:
    """Delete a staging deposit left by an interrupted run.

    Call only while holding the collection's store lock.
    """
    for suffix in DEPOSIT_SUFFIXES:
        DepositPaths.file(deposit.staging, suffix).unlink(missing_ok=True)


def publish(deposit: DepositPaths) -> None:
    """Move the staging deposit to the final names: export, then refs."""
    for suffix in DEPOSIT_SUFFIXES:
        src = DepositPaths.file(deposit.staging, suffix)
        with src.open('rb') as fp:
            os.fsync(fp.fileno())
        os.replace(src, DepositPaths.file(deposit.prefix, suffix))
    fd = os.open(deposit.prefix.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    lgr.debug('published deposit %s', deposit.prefix)
