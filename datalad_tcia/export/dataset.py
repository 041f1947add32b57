"""A dataset exported into the store in both clone-able forms: the plain
bare git repository (:mod:`datalad_tcia.formats.bare`) and the
``datalad-annex::`` deposit beside it (:mod:`datalad_tcia.formats.deposit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from datalad_tcia.formats.bare import PEELED, publish_repository
from datalad_tcia.formats.deposit import (
    deposit_refs,
    discard_staging,
    publish_deposit,
    write_staging,
)
from datalad_tcia.store import ExportPaths
from datalad_tcia.store.git import GitError, git, git_succeeds

lgr = logging.getLogger('datalad.tcia.export.dataset')


@dataclass(frozen=True)
class ExportResult:
    """Outcome of :func:`export_dataset`: ``ok``, ``notneeded`` or
    ``impossible`` (with a message)."""

    status: str
    message: str


def export_dataset(
    repo: Path, target: ExportPaths, *, force: bool = False
) -> ExportResult:
    """Export the checked-out branch, ``git-annex`` and the tags of
    ``repo`` to ``target``: as a bare git repository
    (:mod:`datalad_tcia.formats.bare`) and as a ``datalad-annex::``
    deposit beside it (:mod:`datalad_tcia.formats.deposit`).

    An export whose deposit holds the same refs is left alone (its bare
    repository made if missing); one whose history is not an ancestor of
    the local one is not overwritten unless ``force``.
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
