"""Group datasets: how a collection of many patients stays as quick to use
as a small one.

DataLad's ``get`` lists a superdataset's subdatasets with one ``git
ls-files --stage`` given every subdataset's path as a pathspec, which git
matches against every entry: the cost grows with the square of the
subdatasets. Measured (``benchmarks/bench_scale.py``): ``datalad get -n`` of
one subdataset costs 0.26 s beside 32 others, 0.35 s beside 2,000, 0.54 s
beside 5,000 and 5.7 s beside 26,254 (NLST). A collection with more than
:data:`~.naming.GROUP_ABOVE` patients therefore holds them in group
datasets of up to a thousand, named after the patients' slugs
(``nlst/100xxx/100012``: :func:`~.naming.group_of`; NLST: 54 groups), as the HCP dataset
nests its subjects. A group dataset is a plain git DataLad dataset (no
annex: nothing for ``git annex init`` to do when it is installed) whose
subdatasets are its patients, at the URLs of their git repositories in the
store; its own plain git repository is ``<collection-id>/groups/<group>.git``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from datalad_tcia.export import clone_url
from datalad_tcia.formats.bare import publish_repository
from datalad_tcia.store import StoreLayout, temp_path_for
from datalad_tcia.store.git import tree_links

from .collection import (
    SubdatasetEntry,
    dataset_id_in,
    format_gitmodules,
    update_superdataset,
)
from .naming import group_of
from .repository import BRANCH, ensure_dataset


def update_groups(
    layout: StoreLayout,
    entries: Sequence[SubdatasetEntry],
    base_url: str,
    digits: int,
) -> list[SubdatasetEntry]:
    """Register each patient of ``entries`` in its group dataset (a group
    whose commit already records its patients, at their URLs, is left
    alone: read in-process, no git process), publish each group's git
    repository, and return the groups as the collection dataset's
    subdatasets."""
    by_group: dict[str, list[SubdatasetEntry]] = {}
    for entry in entries:
        by_group.setdefault(group_of(entry.slug, digits), []).append(entry)
    return [
        _update_group(layout, group, members, base_url)
        for group, members in sorted(by_group.items())
    ]


def _update_group(
    layout: StoreLayout, group: str, members: list[SubdatasetEntry], base_url: str
) -> SubdatasetEntry:
    repo = layout.group_repo(group)
    if not (repo / '.git').exists():
        repo.parent.mkdir(parents=True, exist_ok=True)
        for stale in repo.parent.glob(f'.{group}.*.part'):
            shutil.rmtree(stale, ignore_errors=True)
        ensure_dataset(
            repo,
            f'TCIA {layout.collection} patients {group}',
            temp_path_for(repo),
            annex=False,
        )
    state = tree_links(repo, 'HEAD', ['.gitmodules', '.datalad/config'])
    assert state is not None  # noqa: S101 - datalad create commits
    head, links, blobs = state
    if not _records(links, blobs.get('.gitmodules', b''), members):
        update_superdataset(
            repo,
            members,
            {},
            f'Register {len(members)} patient dataset(s) of TCIA collection '
            f'{layout.collection} in group {group}',
        )
        state = tree_links(repo, 'HEAD', ['.datalad/config'])
        assert state is not None  # noqa: S101
        head = state[0]
    target = layout.group_export(group)
    target.bare.parent.mkdir(parents=True, exist_ok=True)
    ref = f'refs/heads/{BRANCH}'
    publish_repository(repo / '.git', target.bare, ref, {ref: head})
    ident = dataset_id_in(blobs.get('.datalad/config', b''))
    if ident is None:
        msg = f'{repo} records no DataLad dataset ID'
        raise ValueError(msg)
    return SubdatasetEntry(group, clone_url(base_url, target.relpath), ident, head)


def _records(
    links: dict[str, str], gitmodules: bytes, members: Sequence[SubdatasetEntry]
) -> bool:
    """Whether a group's commit records exactly ``members`` (as far as they
    go: every member at its commit, URL and ID)."""
    if any(links.get(m.slug) != m.commit for m in members):
        return False
    stanzas = set(gitmodules.decode('utf-8', 'surrogateescape').split('[submodule '))
    return all(
        format_gitmodules(
            {m.slug: {'path': m.slug, 'url': m.url, 'datalad-id': m.dataset_id}}
        ).removeprefix('[submodule ')
        in stanzas
        for m in members
    )


def patient_commits(
    layout: StoreLayout, digits: int | None, ref: str = 'HEAD'
) -> dict[str, str]:
    """Patient slug -> the commit the collection dataset's ``ref`` records
    for it (through its group datasets, if it has them; a version made
    before the collection was grouped records its patients directly)."""
    state = tree_links(layout.collection_repo, ref)
    if state is None:
        return {}
    if digits is None:
        return state[1]
    out: dict[str, str] = {}
    for name, commit in state[1].items():
        group = layout.group_repo(name)
        inner = tree_links(group, commit) if (group / '.git').exists() else None
        if inner is None:
            out[name] = commit
        else:
            out.update(inner[1])
    return out


def patient_path(slug: str, digits: int | None) -> str:
    """Where a patient's dataset is in the collection dataset.

    >>> patient_path('100012', 3), patient_path('LIDC-IDRI-0001', None)
    ('100xxx/100012', 'LIDC-IDRI-0001')
    """
    return slug if digits is None else f'{group_of(slug, digits)}/{slug}'


def group_paths(layout: StoreLayout) -> list[Path]:
    """The working copies of the collection's group datasets."""
    folder = layout.repos / '.groups'
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / '.git').exists())
