"""Build and update a patient dataset from the metadata records.

No file content is needed: every DICOM file becomes an annexed file whose
``MD5E`` key comes from the recorded MD5 and size, with its sources
registered in the git-annex branch (IDC's object and NBIA's
``getSingleImage`` as web URLs of the ``idc`` and ``nbia`` remotes, the
archive member via ``archivist``, the archive via ``uncurl`` under a
``VURL`` key) and per-file git-annex metadata. Both branches are written by one
``git fast-import`` run, so registration costs no process per file.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalad_tcia.formats import fastimport
from datalad_tcia.formats.annex_branch import (
    hashdirlower,
    merge_location_log,
    merge_url_log,
    merge_uuid_log,
    metadata_line,
    url_log_entry,
)
from datalad_tcia.formats.annex_config import read_config
from datalad_tcia.formats.annex_keys import object_path
from datalad_tcia.store.git import (
    GitError,
    current_branch,
    git,
    rev_parse,
    rev_parse_many,
    text_blobs,
    tree_entries,
)

from .naming import PATH_TEMPLATE_CONFIG as LAYOUT_KEY
from .repository import (
    ALL_REMOTES,
    BRANCH,
    IDC,
    REMOTES,
    NewRepository,
    remote_log,
    remote_of_url,
    remote_uuids,
)

lgr = logging.getLogger('datalad.tcia.dataset.build')


@dataclass(frozen=True)
class AnnexedFile:
    """One file of a dataset, as registered.

    Attributes
    ----------
    path: str
      Relative POSIX path in the dataset.
    key: str
      Its git-annex key.
    urls: tuple of str
      Source URLs (see :func:`~.repository.remote_of_url` for the remote
      that serves each).
    remotes: tuple of str
      Names of the special remotes that can provide it.
    metadata: mapping
      git-annex metadata fields -> values.
    """

    path: str
    key: str
    urls: tuple[str, ...]
    remotes: tuple[str, ...]
    metadata: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceOnlyKey:
    """A key with sources but no file in the tree (a series archive)."""

    key: str
    urls: tuple[str, ...]
    remotes: tuple[str, ...]


@dataclass
class UpdateResult:
    """What :func:`update_dataset` changed."""

    added: int = 0
    changed: int = 0
    #: annexed files no longer in the records (a revised or withdrawn series)
    removed: int = 0
    #: files whose sources changed (path and key unchanged)
    sourced: int = 0
    #: the special remotes' configuration (costs, a new remote) changed
    remotes: bool = False
    commit: str | None = None


@dataclass(frozen=True)
class _Before:
    """A dataset as the update finds it."""

    config: Mapping[str, str]
    uuids: dict[str, str]
    #: path -> (mode, blob sha) of the checked-out commit
    tree: dict[str, tuple[str, str]]
    head: str | None
    annex_tip: str | None


def _before(path: Path, new: NewRepository | None, template: str | None) -> _Before:
    if new is not None:
        return _Before({}, dict(new.remote_uuids), {}, None, None)
    config = read_config(path)
    if template is not None and config.get(LAYOUT_KEY) != template:
        git(path, 'config', LAYOUT_KEY, template)
    _restore_worktree(path)
    head, annex_tip = rev_parse_many(path, 'HEAD', 'refs/heads/git-annex')
    return _Before(
        config, remote_uuids(path, config), tree_entries(path, 'HEAD'), head, annex_tip
    )


def _tree_changes(
    files: Sequence[AnnexedFile],
    git_files: Mapping[str, bytes],
    current: Mapping[str, tuple[str, str]],
    prune: bool,
    result: UpdateResult,
) -> tuple[list[bytes], set[str]]:
    """The main branch's changes (counted in ``result``) and the paths
    they touch."""
    changes: list[bytes] = []
    touched: set[str] = set()
    for f in files:
        target = ('../' * f.path.count('/') + object_path(f.key)).encode()
        old = current.get(f.path)
        if old == (fastimport.SYMLINK, fastimport.blob_sha(target)):
            continue
        if old is None:
            result.added += 1
        else:
            result.changed += 1
        touched.add(f.path)
        changes.append(fastimport.put(f.path, target, fastimport.SYMLINK))
    for name, content in sorted(git_files.items()):
        if current.get(name) != (fastimport.REGULAR, fastimport.blob_sha(content)):
            changes.append(fastimport.put(name, content))
    if prune:
        wanted = {f.path for f in files}
        for fpath, (mode, _sha) in sorted(current.items()):
            if mode == fastimport.SYMLINK and fpath not in wanted:
                result.removed += 1
                changes.append(fastimport.delete(fpath))
    return changes, touched


def update_dataset(
    path: Path,
    files: Sequence[AnnexedFile],
    source_keys: Sequence[SourceOnlyKey],
    git_files: Mapping[str, bytes],
    message: str | Callable[[UpdateResult], str],
    *,
    new: NewRepository | None = None,
    template: str | None = None,
    prune: bool = True,
) -> UpdateResult:
    """Make the dataset at ``path`` hold ``files`` and ``git_files``.

    Files whose path and key are already committed are left alone; new
    paths are added and paths with another key become a new version;
    annexed files not in ``files`` are removed (unless ``prune`` is false:
    the caller could not read all of the dataset's records). The previous
    version keeps them, with their sources. Both
    the main branch and the git-annex branch get one commit each, or none
    if nothing changed, written by one ``git fast-import``
    (:mod:`datalad_tcia.formats.fastimport`). ``new`` is a repository fresh
    from :func:`init_repository`, whose first commits are written in the
    same run. ``template`` is recorded as the path template of the files
    (``datalad-tcia.layout``) where it differs. ``message`` is the commit
    message, or makes it from what the update found.

    The sources, metadata and remote settings of unchanged files are
    compared with the git-annex branch only when they differ from what the
    last update registered (a digest in ``datalad-tcia.registered``): a
    re-run with nothing new reads no log.
    """
    digest = _registration_digest(files, source_keys)
    before = _before(path, new, template)
    result = UpdateResult()
    changes, touched = _tree_changes(files, git_files, before.tree, prune, result)
    if not changes and before.config.get(REGISTERED_KEY) == digest:
        return result

    now = int(time.time())
    # every file's logs are compared, so that sources registered since
    # (IDC URLs) and new remote settings (costs) reach existing datasets
    logs, new_urls = _annex_logs(
        path, files, source_keys, before.uuids, now, before.annex_tip
    )
    if new is not None:
        logs.update(new.annex_logs(now))
    elif before.annex_tip:
        config_logs = _remote_logs(path, before.annex_tip, before.uuids, now)
        result.remotes = bool(config_logs)
        logs.update(config_logs)
    if not changes and not logs:
        git(path, 'config', REGISTERED_KEY, digest)
        return result
    result.sourced = sum(1 for p in new_urls if p not in touched) if before.tree else 0
    if not changes and new is None:
        message = _sources_message(result, new_urls)
    elif callable(message):
        # the message may say what the update found (files removed)
        message = message(result)
    commits = [
        fastimport.Commit(
            'refs/heads/git-annex',
            b'update (datalad-tcia)',
            [
                fastimport.put(lpath, text.encode())
                for lpath, text in sorted(logs.items())
            ],
            before.annex_tip,
        )
    ]
    if new is not None:
        commits.append(
            fastimport.Commit(
                f'refs/heads/{BRANCH}',
                b'[DATALAD] new dataset',
                [fastimport.put(name, c) for name, c in new.files().items()],
            )
        )
    branch = BRANCH if new else current_branch(path)
    commits.append(
        fastimport.Commit(
            f'refs/heads/{branch}', message.encode(), changes, before.head
        )
    )
    fastimport.fast_import(path, commits)
    # bring index and work tree to the new commit (symlinks only: fast)
    git(path, 'reset', '--hard', '--quiet', 'HEAD')
    git(path, 'config', REGISTERED_KEY, digest)
    result.commit = rev_parse(path, 'HEAD')
    return result


#: the working copy's record of what its last update registered
REGISTERED_KEY = 'datalad-tcia.registered'


def _registration_digest(
    files: Sequence[AnnexedFile], source_keys: Sequence[SourceOnlyKey]
) -> str:
    """A digest of everything an update registers in the git-annex branch
    (keys, URLs, remotes, metadata, the remotes' settings)."""
    digest = hashlib.sha1()  # noqa: S324 (a fingerprint, not security)
    for f in files:
        digest.update(repr((f.path, f.key, f.urls, f.remotes)).encode())
        digest.update(
            repr(sorted((k, tuple(v)) for k, v in f.metadata.items())).encode()
        )
    for k in source_keys:
        digest.update(repr((k.key, k.urls, k.remotes)).encode())
    for spec in REMOTES.values():
        digest.update(repr(sorted(spec.log_fields().items())).encode())
    return digest.hexdigest()


def _remote_logs(
    path: Path, annex_tip: str, uuids: dict[str, str], now: int
) -> dict[str, str]:
    """``remote.log`` and ``uuid.log`` where the remotes' settings (cost,
    match expression, a new remote) differ from :data:`REMOTES`."""
    old = text_blobs(path, annex_tip, ['remote.log', 'uuid.log'])
    wanted = {
        'remote.log': remote_log(
            old.get('remote.log', ''),
            now,
            {u: ALL_REMOTES[n] for n, u in uuids.items()},
        ),
        'uuid.log': merge_uuid_log(
            old.get('uuid.log', ''), now, {u: n for n, u in uuids.items()}
        ),
    }
    return {p: c for p, c in wanted.items() if old.get(p, '') != c}


def _sources_message(result: UpdateResult, new_urls: Mapping[str, list[str]]) -> str:
    """The commit message of an update that changes sources only."""
    per_remote: dict[str, int] = {}
    for urls in new_urls.values():
        for name in {remote_of_url(u) for u in urls}:
            per_remote[name] = per_remote.get(name, 0) + 1
    lines = [f'Register new sources of {len(new_urls)} file(s)', '']
    lines += [
        f'- {n} file(s) gain {name} URLs'
        + (' (IDC, the Imaging Data Commons)' if name == IDC else '')
        for name, n in sorted(per_remote.items())
    ]
    if result.remotes:
        lines.append(
            '- special remotes configured anew (retrieval costs: '
            + ', '.join(f'{s.name} {s.cost}' for s in REMOTES.values())
            + ')'
        )
    return '\n'.join(lines) + '\n'


def _restore_worktree(path: Path) -> None:
    """Bring a working copy left behind by an interrupted run (killed
    between ``fast-import`` and ``reset``) back to its commit."""
    try:
        git(path, 'diff', '--quiet', 'HEAD', '--')
    except GitError:
        lgr.debug('resetting interrupted working copy %s', path)
        git(path, 'reset', '--hard', '--quiet', 'HEAD')


def _annex_logs(
    path: Path,
    files: Sequence[AnnexedFile],
    source_keys: Sequence[SourceOnlyKey],
    uuids: Mapping[str, str],
    now: int,
    annex_tip: str | None,
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The git-annex branch files that must change, and the URLs each file
    (by path) gains."""
    entries: list[
        tuple[str | None, str, tuple[str, ...], tuple[str, ...], Mapping[str, Any]]
    ] = [(f.path, f.key, f.urls, f.remotes, f.metadata) for f in files]
    entries += [(None, s.key, s.urls, s.remotes, {}) for s in source_keys]
    wanted = []
    for _path, key, _urls, _remotes, meta in entries:
        base = hashdirlower(key) + key
        wanted += [base + '.log', base + '.log.web']
        if meta:
            wanted.append(base + '.log.met')
    old = text_blobs(path, annex_tip, wanted) if annex_tip else {}
    logs: dict[str, str] = {}
    new_urls: dict[str, list[str]] = {}
    for fpath, key, urls, remotes, meta in entries:
        base = hashdirlower(key) + key
        loc = base + '.log'
        web = base + '.log.web'
        logs[loc] = merge_location_log(
            logs.get(loc, old.get(loc, '')), now, [uuids[r] for r in remotes]
        )
        before_urls = old.get(web, '')
        claims = {u: not ALL_REMOTES[remote_of_url(u)].web for u in urls}
        logs[web] = merge_url_log(logs.get(web, before_urls), now, claims)
        if fpath is not None:
            gained = [
                u
                for u, claimed in claims.items()
                if f' 1 {url_log_entry(u, claimed=claimed)}\n' not in before_urls
            ]
            if gained:
                new_urls[fpath] = gained
        if meta:
            met = base + '.log.met'
            line = metadata_line(now, meta)
            before = logs.get(met, old.get(met, ''))
            # an identical assignment (but for its time) is not repeated
            if line.split(' ', 1)[1] not in {
                ln.split(' ', 1)[1] + '\n' for ln in before.splitlines() if ' ' in ln
            }:
                logs[met] = before + line
    # unchanged logs need no rewrite
    return {p: c for p, c in logs.items() if old.get(p) != c}, new_urls
