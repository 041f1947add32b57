"""Subdatasets installed as ``datalad get -n`` installs them, many at once.

A subdataset whose URL git can clone by itself (``file://``, a path,
``http(s)://``, ``ssh``: the store's plain repositories) is installed with
``git clone``, the commit the superdataset records checked out, ``git
annex init`` where it has an annex (which enables the web remotes ``idc``
and ``nbia`` and no process of its own; a group dataset has none) and
``git submodule init`` in the superdataset, so that DataLad sees it
installed as if it had done it. Any other URL (the
``datalad-annex::`` deposits of earlier stores) is installed by DataLad
itself. A failed install leaves nothing at the subdataset's path.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from datalad_tcia.store.git import GitError, git

lgr = logging.getLogger('datalad.tcia.retrieve.install')

#: installs at once by default (each is mostly ``git annex init``'s CPU)
INSTALL_JOBS = 8


@dataclass(frozen=True)
class Subdataset:
    """A subdataset as its superdataset records it.

    Attributes
    ----------
    parent: Path
      The superdataset.
    path: str
      Where it lives, relative to ``parent``.
    name: str
      Its ``.gitmodules`` name.
    url: str
      Its URL in ``.gitmodules``.
    commit: str
      The commit the superdataset records.
    """

    parent: Path
    path: str
    name: str
    url: str
    commit: str

    @property
    def location(self) -> Path:
        return self.parent / self.path

    @property
    def installed(self) -> bool:
        return (self.location / '.git').exists()


@dataclass(frozen=True)
class InstallResult:
    """One subdataset installed (``error`` is ``None``) or not."""

    subdataset: Subdataset
    error: str | None = None


def subdatasets(repo: Path) -> list[Subdataset]:
    """The subdatasets ``repo`` records (``.gitmodules`` and the index)."""
    if not (repo / '.gitmodules').is_file():
        return []
    try:
        config = git(repo, 'config', '-z', '-f', '.gitmodules', '--list')
        index = git(repo, 'ls-files', '-s', '-z')
    except GitError:
        return []
    modules: dict[str, dict[str, str]] = {}
    for entry in config.decode('utf-8', 'surrogateescape').split('\0'):
        name_key, _, value = entry.partition('\n')
        if not name_key.startswith('submodule.'):
            continue
        name, _, field = name_key[len('submodule.') :].rpartition('.')
        modules.setdefault(name, {})[field] = value
    commits = {}
    for entry in index.decode('utf-8', 'surrogateescape').split('\0'):
        meta, _, path = entry.partition('\t')
        if meta.startswith('160000 '):
            commits[path] = meta.split()[1]
    return [
        Subdataset(repo, m['path'], name, m.get('url', ''), commits[m['path']])
        for name, m in sorted(modules.items())
        if 'path' in m and m['path'] in commits
    ]


def install_subdatasets(
    subs: Sequence[Subdataset], jobs: int = INSTALL_JOBS
) -> Iterator[InstallResult]:
    """Install ``subs`` (``jobs`` at once); one result each, as they end."""
    plain = [s for s in subs if _plain_git_url(_resolve_url(s))]
    other = [s for s in subs if s not in plain]
    results: list[InstallResult] = []
    if plain:
        with ThreadPoolExecutor(max(1, min(jobs, len(plain)))) as pool:
            results.extend(pool.map(_clone, plain))
        done = [r.subdataset for r in results if r.error is None]
        for parent in sorted({s.parent for s in done}):
            paths = [s.path for s in done if s.parent == parent]
            try:
                git(parent, 'submodule', '--quiet', 'init', '--', *paths)
            except GitError as e:
                lgr.debug('git submodule init in %s: %s', parent, e)
    yield from results
    for sub in other:
        yield _datalad_install(sub)


def _resolve_url(sub: Subdataset) -> str:
    """The URL to clone from (a relative one against the superdataset's
    ``origin``, as DataLad resolves it)."""
    url = sub.url
    if not url.startswith(('./', '../')):
        return url
    try:
        base = git(sub.parent, 'config', 'remote.origin.url').decode().strip()
    except GitError:
        base = str(sub.parent)
    return f'{base.rstrip("/")}/{url}'


def _plain_git_url(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme in ('', 'file', 'http', 'https', 'ssh', 'git') and '::' not in url


def _clone(sub: Subdataset) -> InstallResult:
    target = sub.location
    url = _resolve_url(sub)
    existed = target.exists()
    if existed and any(target.iterdir()):
        return InstallResult(sub, f'{target} exists and is not empty')
    try:
        git(sub.parent, 'clone', '--quiet', url, sub.path)
        head = git(target, 'rev-parse', 'HEAD').decode().strip()
        if head != sub.commit:
            git(target, 'checkout', '--quiet', sub.commit)
        if _has_annex(target):
            # a group dataset of a big collection is plain git
            git(target, 'annex', 'init', '--quiet')
    except GitError as e:
        _remove(target, existed)
        return InstallResult(sub, str(e))
    return InstallResult(sub)


def _has_annex(clone: Path) -> bool:
    """Whether a fresh clone's remote has a ``git-annex`` branch (read from
    the refs git clone wrote, whatever the remote's name: no process)."""
    git_dir = clone / '.git'
    if any(git_dir.glob('refs/remotes/*/git-annex')):
        return True
    try:
        packed = (git_dir / 'packed-refs').read_text()
    except FileNotFoundError:
        return False
    return any(
        ref.startswith('refs/remotes/') and ref.endswith('/git-annex')
        for ref in (line.partition(' ')[2] for line in packed.splitlines())
    )


def _datalad_install(sub: Subdataset) -> InstallResult:
    from datalad.api import get

    results = get(
        path=str(sub.location),
        dataset=str(sub.parent),
        get_data=False,
        result_renderer='disabled',
        on_failure='ignore',
        return_type='list',
    )
    failed = [r for r in results if r.get('status') not in ('ok', 'notneeded')]
    if failed or not sub.installed:
        why = '; '.join(str(r.get('message')) for r in failed) or 'not installed'
        return InstallResult(sub, why)
    return InstallResult(sub)


def _remove(target: Path, existed: bool) -> None:
    if not target.exists():
        return
    if existed:
        for child in target.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()
    else:
        shutil.rmtree(target, ignore_errors=True)
