"""Write a dataset into the store as a ``datalad-annex::`` deposit.

A deposit is two files in the format of datalad-next's ``datalad-annex``
git remote helper: ``<name>_XDLRA--repo-export``, a ZIP archive of a bare
git repository holding the dataset's ``main`` and ``git-annex`` branches,
and ``<name>_XDLRA--refs``, the list of its refs (``<sha> <ref>`` lines
and ``@<ref> HEAD``). Anyone can ``datalad clone`` it from the store's URL
(``file://`` or ``http(s)://``) with stock datalad-next.

Both files are written here directly from the working copy's object
store, instead of by a ``git push`` through the remote helper (which
costs several git-annex processes and a ``git gc`` per dataset). They are
written under staging names beside the real ones
(``.<name>.staging_XDLRA--*``) and published by two renames: the
repository export first, the refs second. At every instant the final
names hold a deposit that clones: the old one, the new one, or (between
the renames) the new export with the old refs, whose commits the new
export contains. A staging deposit left by a killed run is discarded by
the next write.
"""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from datalad_tcia.store import DEPOSIT_SUFFIXES, ExportPaths
from datalad_tcia.store.git import GitError, git, git_succeeds

from .bare import PEELED, packed_refs, publish_repository

lgr = logging.getLogger('datalad.tcia.export.deposit')


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
    """The URL a person clones: the plain git repository of the dataset
    ``<base_url>/<relpath>`` (``<relpath>.git``, see :mod:`.bare`).

    >>> clone_url('file:///data/store', 'rider/datasets/P1')
    'file:///data/store/rider/datasets/P1.git'
    >>> clone_url('https://example.org/tcia', 'rider/datasets/P 1')
    'https://example.org/tcia/rider/datasets/P%201.git'
    """
    return quote(f'{base_url.rstrip("/")}/{relpath}.git', safe=':/@%+~=,;')


def deposit_url(base_url: str, relpath: str) -> str:
    """The ``datalad-annex::`` URL of the deposit ``<base_url>/<relpath>``
    (the form for stores that hold only keys, and for clones made before
    the store had plain git repositories).

    ``{{annex_key}}`` is doubled because the remote helper applies
    ``str.format`` to the URL; a literal ``&`` in the base URL must be
    escaped, which ``quote`` does.

    >>> deposit_url('file:///data/store', 'rider/datasets/P1')
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
        text = ExportPaths.refs_of(prefix).read_text()
    except FileNotFoundError:
        return None
    refs = {}
    for line in text.splitlines():
        sha, _, ref = line.partition(' ')
        if ref.startswith('refs/'):
            refs[ref] = sha
    return refs


@dataclass(frozen=True)
class ExportResult:
    """Outcome of :func:`export_dataset`: ``ok``, ``notneeded`` or
    ``impossible`` (with a message)."""

    status: str
    message: str


def export_dataset(
    repo: Path, target: ExportPaths, *, force: bool = False
) -> ExportResult:
    """Deposit the checked-out branch, ``git-annex`` and the tags of
    ``repo``: as a ``datalad-annex::`` deposit and as a bare git
    repository (:mod:`.bare`) beside it.

    An existing deposit with the same refs is left alone; one whose history
    is not an ancestor of the local one is not overwritten unless
    ``force``.
    """
    prefix = target.prefix
    head, local = local_refs(repo)
    remote = deposit_refs(prefix)
    if remote is not None and all(
        remote.get(r) == s for r, s in local.items() if not r.endswith(PEELED)
    ):
        if publish_repository(repo / '.git', target.bare, head, local):
            return ExportResult('ok', 'git repository written')
        return ExportResult('notneeded', 'export is up to date')
    if remote is not None and not force:
        old = remote.get(head)
        if old and not git_succeeds(
            repo, 'merge-base', '--is-ancestor', old, local[head]
        ):
            return ExportResult(
                'impossible',
                f'the deposit {target.refs} holds another history; '
                'refusing to overwrite it (use --force to replace it)',
            )
    prefix.parent.mkdir(parents=True, exist_ok=True)
    publish_repository(repo / '.git', target.bare, head, local)
    discard_staging(target)
    write_staging(repo / '.git', head, local, target)
    publish_deposit(target)
    return ExportResult('ok', 'export written')


def local_refs(repo: Path) -> tuple[str, dict[str, str]]:
    """The checked-out branch of ``repo`` and the commits of it, of
    ``git-annex`` and of every tag (one process); an annotated tag also
    has its commit under ``<tag>^{}``, as ``git ls-remote`` shows it."""
    head = (repo / '.git' / 'HEAD').read_text().strip()
    if not head.startswith('ref: refs/heads/'):
        msg = f'{repo} has no branch checked out (HEAD is {head})'
        raise GitError(msg)
    head = head[5:]
    out = git(
        repo,
        'for-each-ref',
        '--format=%(objectname) %(refname) %(*objectname)',
        'refs/heads/',
        'refs/tags/',
    )
    refs = {}
    tags = {}
    for line in out.decode().splitlines():
        sha, ref, peeled = (line.split(' ') + ['', ''])[:3]
        if ref.startswith('refs/tags/'):
            tags[ref] = sha
            if peeled:
                tags[ref + PEELED] = peeled
        else:
            refs[ref] = sha
    wanted = {r: refs[r] for r in (head, 'refs/heads/git-annex') if r in refs}
    if len(wanted) != 2:  # noqa: PLR2004
        msg = f'{repo} lacks {head} or refs/heads/git-annex'
        raise GitError(msg)
    return head, {**wanted, **tags}


#: a bare repository as the remote helper unpacks it
_BARE_CONFIG = (
    b'[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n'
)
_DIRS = ('refs/', 'refs/heads/', 'refs/tags/', 'objects/info/', 'objects/pack/')


def write_staging(
    gitdir: Path, head: str, refs: dict[str, str], target: ExportPaths
) -> None:
    """Write the staging deposit of ``deposit``: every object of
    ``gitdir`` (packs as they are, stored without recompression) and
    ``refs`` as the only refs (``<tag>^{}``: an annotated tag's commit)."""
    export = ExportPaths.export_of(target.staging)
    listing = ''.join(
        f'{sha} {ref}\n'
        for ref, sha in sorted(refs.items())
        if not ref.endswith(PEELED)
    )
    with zipfile.ZipFile(export, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('HEAD', f'ref: {head}\n')
        zf.writestr('config', _BARE_CONFIG)
        zf.writestr('description', 'datalad-tcia deposit\n')
        zf.writestr('packed-refs', packed_refs(refs))
        for empty in _DIRS:
            zf.writestr(empty, b'')
        objects = gitdir / 'objects'
        for directory, _dirs, names in os.walk(objects):
            for name in sorted(names):
                if name.startswith('tmp_') or name in ('alternates', 'packs'):
                    continue
                full = Path(directory) / name
                zf.write(
                    full,
                    full.relative_to(gitdir).as_posix(),
                    compress_type=zipfile.ZIP_STORED,
                )
    ExportPaths.refs_of(target.staging).write_text(listing + f'@{head} HEAD\n')


def discard_staging(target: ExportPaths) -> None:
    """Delete a staging deposit left by an interrupted run.

    Call only while holding the collection's store lock.
    """
    for suffix in DEPOSIT_SUFFIXES:
        ExportPaths.file(target.staging, suffix).unlink(missing_ok=True)


def publish_deposit(target: ExportPaths) -> None:
    """Move the staging deposit to the final names: export, then refs."""
    for suffix in DEPOSIT_SUFFIXES:
        src = ExportPaths.file(target.staging, suffix)
        with src.open('rb') as fp:
            os.fsync(fp.fileno())
        os.replace(src, ExportPaths.file(target.prefix, suffix))
    fd = os.open(target.prefix.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    lgr.debug('published deposit %s', target.prefix)
