"""The per-dataset creation this project used until issue 12, kept for the
benchmarks' side-by-side figures: ``datalad create`` and two ``git annex
initremote`` (autoenabled ``uncurl`` and ``archivist``), about 3 s per
dataset."""

from __future__ import annotations

from pathlib import Path

from datalad_tcia.dataset import ARCHIVIST, UNCURL
from datalad_tcia.dataset.repository import UNCURL_MATCH, UNCURL_URL, create_dataset
from datalad_tcia.store.git import git_line


def create_with_special_remotes(path: Path, description: str) -> None:
    """A DataLad dataset at ``path`` with both special remotes."""
    create_dataset(path, description)
    for name, extra in (
        (UNCURL, [f'match={UNCURL_MATCH}', f'url={UNCURL_URL}']),
        (ARCHIVIST, []),
    ):
        git_line(
            path,
            'annex',
            'initremote',
            name,
            'type=external',
            f'externaltype={name}',
            'encryption=none',
            'autoenable=true',
            *extra,
        )


def remote_uuid(path: Path, name: str) -> str:
    """The annex UUID of the special remote ``name``."""
    return git_line(path, 'config', f'remote.{name}.annex-uuid')
