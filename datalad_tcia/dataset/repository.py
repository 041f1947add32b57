"""A patient dataset's repository: made by ``git init`` and written whole
(no ``datalad create``, no ``git annex initremote``), or, for the
collection superdataset, by ``datalad create``; and its configuration."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from datalad.distribution.dataset import Dataset

from datalad_tcia.gitcmd import current_branch, git

UNCURL = 'uncurl'
ARCHIVIST = 'archivist'

#: uncurl claims only http(s) URLs and passes them on unchanged. Without a
#: template, uncurl would try every URL of a key in turn and stop at the
#: first it cannot handle (a ``dl+archive:`` URL meant for archivist).
#: Users repair moved TCIA URLs by replacing ``match``/``url`` (see docs).
UNCURL_MATCH = '(?P<tciaurl>https?://.+)'
UNCURL_URL = '{tciaurl}'


BRANCH = 'main'


def create_dataset(path: Path, description: str) -> Dataset:
    """A new DataLad dataset whose branch is ``main`` whatever git's
    ``init.defaultBranch`` (deposits look the same from every machine)."""
    ds = Dataset(path)
    ds.create(result_renderer='disabled', description=description)
    current = current_branch(path)
    if current != BRANCH:
        git(path, 'branch', '-m', current, BRANCH)
    return ds


def ensure_dataset(path: Path, description: str, tmp: Path) -> Dataset:
    """Create a DataLad dataset (the collection superdataset) with
    ``datalad create``, unless it exists.

    The dataset is made complete under the temporary name ``tmp`` beside
    ``path`` and then renamed, so a dataset at ``path`` is never one whose
    creation was interrupted (a kill, a full disk): such leftovers keep
    their temporary name and are removed by :func:`remove_stale_datasets`.
    Patient datasets are made by :func:`init_repository` instead.
    """
    ds = Dataset(path)
    if ds.is_installed():
        return ds
    try:
        create_dataset(tmp, description)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Dataset(path)


def remove_stale_datasets(paths: Iterable[Path]) -> list[Path]:
    """Delete datasets whose creation an interrupted run left unfinished
    (under their temporary names).

    Call only while holding the store lock.
    """
    removed = []
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


#: the files ``datalad create`` commits into a new dataset, but for the id
GITATTRIBUTES = b'* annex.backend=MD5E\n**/.git* annex.largefiles=nothing\n'
DATALAD_GITATTRIBUTES = b'config annex.largefiles=nothing\n'

#: what the store's working copy of a patient dataset checks out
SPARSE_PATTERNS = '/.datalad/\n'


def git_config_value(value: str) -> str:
    """``value`` as ``git config`` writes it (quoted where it must be)."""
    escaped = (
        value.replace('\\', '\\\\')
        .replace('"', '\\"')
        .replace('\n', '\\n')
        .replace('\t', '\\t')
    )
    if value != value.strip() or ';' in value or '#' in value:
        return f'"{escaped}"'
    return escaped


def init_repository(path: Path, description: str, template: str) -> NewRepository:
    """``git init`` a patient dataset at ``path`` and configure it as
    ``git annex init`` and two ``git annex initremote`` would.

    Nothing is committed: :func:`update_dataset` writes the new dataset's
    first commits (``.datalad/config`` with a new dataset id, the
    ``.gitattributes`` of ``datalad create``) and its git-annex branch
    (``uuid.log``, ``remote.log`` with the autoenabled ``uncurl`` and
    ``archivist`` special remotes) in the same ``git fast-import`` that
    registers the files. No git-annex process is run. The working copy is
    sparse: only ``.datalad/`` is checked out (the store needs no symlink
    per file; ``git annex ... --branch=HEAD`` sees every file).
    """
    path.mkdir(parents=True)
    git(path, 'init', '--quiet', f'--initial-branch={BRANCH}')
    repo = NewRepository(
        description=description,
        annex_uuid=str(uuid.uuid4()),
        dataset_id=str(uuid.uuid4()),
        remote_uuids={UNCURL: str(uuid.uuid4()), ARCHIVIST: str(uuid.uuid4())},
    )
    lines = [
        '[annex]',
        f'\tuuid = {repo.annex_uuid}',
        '\tversion = 10',
        '[filter "annex"]',
        '\tsmudge = git-annex smudge -- %f',
        '\tclean = git-annex smudge --clean -- %f',
        '\tprocess = git-annex filter-process',
    ]
    for name, ruuid in repo.remote_uuids.items():
        lines += [
            f'[remote "{name}"]',
            f'\tannex-externaltype = {name}',
            f'\tannex-uuid = {ruuid}',
            '\tskipFetchAll = true',
        ]
    lines += ['[datalad-tcia]', f'\tlayout = {git_config_value(template)}']
    # a sparse working copy: the store needs no symlink per file (millions
    # of them on a shared file system); only .datalad/ is checked out
    lines += ['[core]', '\tsparseCheckout = true']
    with (path / '.git' / 'config').open('a', encoding='utf-8') as fp:
        fp.write('\n'.join(lines) + '\n')
    (path / '.git' / 'info').mkdir(exist_ok=True)
    (path / '.git' / 'info' / 'sparse-checkout').write_text(SPARSE_PATTERNS)
    return repo


@dataclass(frozen=True)
class NewRepository:
    """What :func:`init_repository` chose for a new dataset."""

    description: str
    annex_uuid: str
    dataset_id: str
    remote_uuids: Mapping[str, str]

    def annex_logs(self, now: int) -> dict[str, str]:
        """``uuid.log`` and ``remote.log`` as git-annex writes them."""
        uuids = [(self.annex_uuid, self.description)] + [
            (u, n) for n, u in self.remote_uuids.items()
        ]
        extra = {UNCURL: {'match': UNCURL_MATCH, 'url': UNCURL_URL}, ARCHIVIST: {}}
        remotes = []
        for name, ruuid in self.remote_uuids.items():
            fields = {
                'autoenable': 'true',
                'encryption': 'none',
                'externaltype': name,
                'name': name,
                'type': 'external',
                **extra[name],
            }
            # fields sorted, the timestamp last: as git-annex writes them
            remotes.append(
                f'{ruuid} '
                + ' '.join(f'{k}={v}' for k, v in sorted(fields.items()))
                + f' timestamp={now}s'
            )
        return {
            'uuid.log': ''.join(
                f'{u} {d} timestamp={now}s\n' for u, d in sorted(uuids)
            ),
            'remote.log': ''.join(f'{line}\n' for line in sorted(remotes)),
        }

    def files(self) -> dict[str, bytes]:
        """The files of ``datalad create``'s first commit."""
        return {
            '.datalad/.gitattributes': DATALAD_GITATTRIBUTES,
            '.datalad/config': (
                f'[datalad "dataset"]\n\tid = {self.dataset_id}\n'.encode()
            ),
            '.gitattributes': GITATTRIBUTES,
        }


def read_config(path: Path) -> dict[str, str]:
    """The repository's config (last value of each key), one process."""
    out = git(path, 'config', '--null', '--list')
    config = {}
    for entry in out.split(b'\0'):
        if entry:
            key, _, value = entry.decode('utf-8', 'surrogateescape').partition('\n')
            config[key] = value
    return config
