"""The collection superdataset: one subdataset per patient dataset."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datalad.distribution.dataset import Dataset

from datalad_tcia.formats.annex_config import git_config_value
from datalad_tcia.store.git import git, git_succeeds, rev_parse

from .repository import ensure_dataset


@dataclass(frozen=True)
class SubdatasetEntry:
    """A subdataset as its superdataset records it (a patient in a
    collection, a collection in the top-level dataset)."""

    slug: str
    url: str
    dataset_id: str
    commit: str


def ensure_superdataset(path: Path, description: str, tmp: Path) -> Dataset:
    """Create the collection dataset unless it exists (under the temporary
    name ``tmp`` first)."""
    return ensure_dataset(path, description, tmp)


def update_superdataset(
    path: Path,
    patients: Sequence[SubdatasetEntry],
    git_files: dict[str, bytes],
    message: str,
    drop: Sequence[str] = (),
) -> str | None:
    """Register ``patients`` as (uninstalled) subdatasets, and no longer
    the subdatasets ``drop`` names; commit if anything changed and return
    the new commit, else ``None``.

    Each ``.gitmodules`` URL is the patient's plain git repository in the
    store (:func:`~datalad_tcia.export.clone_url`), so that a
    clone of the collection can ``datalad get -n`` any patient. The whole
    ``.gitmodules`` is written at once and every gitlink staged by one
    ``git update-index``: a handful of processes, however many patients.
    """
    modules = _read_gitmodules(path)
    gone = [modules.pop(n).get('path', n) for n in drop if n in modules]
    if gone:
        git(
            path,
            'update-index',
            '--force-remove',
            '-z',
            '--stdin',
            input=''.join(f'{p}\0' for p in gone).encode(),
        )
    for p in patients:
        entry = modules.setdefault(p.slug, {})
        entry.update({'path': p.slug, 'url': p.url, 'datalad-id': p.dataset_id})
    if patients or gone:
        (path / '.gitmodules').write_text(format_gitmodules(modules), encoding='utf-8')
        git(
            path,
            'update-index',
            '--add',
            '--index-info',
            input=''.join(f'160000 {p.commit}\t{p.slug}\n' for p in patients).encode(),
        )
    for name, content in git_files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(content)
    staged = [*git_files, *(['.gitmodules'] if patients or gone else [])]
    if staged:
        git(path, 'add', '--', *staged)
    if git_succeeds(path, 'diff', '--cached', '--quiet'):
        return None
    git(path, 'commit', '--quiet', '-m', message)
    return rev_parse(path, 'HEAD')


_DATASET_ID = re.compile(rb'^\s*id\s*=\s*(\S+)\s*$', re.MULTILINE)


def dataset_id_in(config: bytes) -> str | None:
    """The DataLad dataset ID a ``.datalad/config`` (its bytes, e.g. read
    from a commit without a git process) records.

    >>> dataset_id_in(b'[datalad "dataset"]\\n\\tid = 1234\\n')
    '1234'
    """
    found = _DATASET_ID.search(config)
    return found.group(1).decode() if found else None


def gitmodule_urls(path: Path) -> dict[str, str]:
    """Subdataset name -> URL, as the working tree's ``.gitmodules`` of the
    dataset at ``path`` has them."""
    return {
        name: entry['url']
        for name, entry in _read_gitmodules(path).items()
        if 'url' in entry
    }


def _read_gitmodules(path: Path) -> dict[str, dict[str, str]]:
    """name -> {variable: value} of ``.gitmodules``, in file order."""
    if not (path / '.gitmodules').exists():
        return {}
    out = git(path, 'config', '--null', '--file', '.gitmodules', '--list')
    modules: dict[str, dict[str, str]] = {}
    for entry in out.split(b'\0'):
        if not entry:
            continue
        key, _, value = entry.decode('utf-8', 'surrogateescape').partition('\n')
        section, _, rest = key.partition('.')
        name, _, variable = rest.rpartition('.')
        if section == 'submodule' and name:
            modules.setdefault(name, {})[variable] = value
    return modules


def format_gitmodules(modules: dict[str, dict[str, str]]) -> str:
    """``.gitmodules`` as ``git config --file`` would write it."""
    lines = []
    for name, variables in modules.items():
        quoted = name.replace('\\', '\\\\').replace('"', '\\"')
        lines.append(f'[submodule "{quoted}"]')
        lines += [f'\t{k} = {git_config_value(v)}' for k, v in variables.items()]
    return ''.join(f'{line}\n' for line in lines)
