"""The collection superdataset: one subdataset per patient deposit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datalad.distribution.dataset import Dataset

from datalad_tcia.gitcmd import git, git_succeeds, rev_parse

from .build import ensure_dataset


@dataclass(frozen=True)
class PatientEntry:
    """A patient subdataset as the superdataset records it."""

    slug: str
    url: str
    dataset_id: str
    commit: str


def ensure_superdataset(path: Path, description: str, tmp: Path) -> Dataset:
    """Create the collection dataset unless it exists (under the temporary
    name ``tmp`` first)."""
    return ensure_dataset(path, description, tmp, special_remotes=False)


def update_superdataset(
    path: Path,
    patients: Sequence[PatientEntry],
    git_files: dict[str, bytes],
    message: str,
) -> str | None:
    """Register ``patients`` as (uninstalled) subdatasets; commit if
    anything changed and return the new commit, else ``None``.

    Each ``.gitmodules`` URL is the patient's deposit clone URL, so that a
    clone of the collection can ``datalad get -n`` any patient.
    """
    for p in patients:
        for key, value in (
            ('path', p.slug),
            ('url', p.url),
            ('datalad-id', p.dataset_id),
        ):
            git(path, 'config', '-f', '.gitmodules', f'submodule.{p.slug}.{key}', value)
        git(path, 'update-index', '--add', '--cacheinfo', f'160000,{p.commit},{p.slug}')
    for name, content in git_files.items():
        (path / name).write_bytes(content)
        git(path, 'add', name)
    if patients:
        git(path, 'add', '.gitmodules')
    if git_succeeds(path, 'diff', '--cached', '--quiet'):
        return None
    git(path, 'commit', '--quiet', '-m', message)
    return rev_parse(path, 'HEAD')
