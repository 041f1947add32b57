"""A patient dataset's repository and its special remotes: made by ``git
init`` and written whole (no ``datalad create``, no ``git annex
initremote``; the formats are :mod:`datalad_tcia.formats`'s), or, for the
collection superdataset, by ``datalad create``."""

from __future__ import annotations

import fnmatch
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from datalad.distribution.dataset import Dataset

from datalad_tcia.formats.annex_branch import merge_remote_log, merge_uuid_log
from datalad_tcia.formats.annex_config import (
    annex_config_lines,
    git_config_value,
    read_config,
    remote_config_lines,
)
from datalad_tcia.store.git import GitError, current_branch, git

UNCURL = 'uncurl'
ARCHIVIST = 'archivist'
IDC = 'idc'
NBIA = 'nbia'
#: the IDC remote of earlier versions (an uncurl remote named ``idc``),
#: renamed when a dataset is updated so that ``idc`` names IDC's web remote
IDC_UNCURL = 'idc-uncurl'

#: uncurl claims only http(s) URLs with a query (NBIA's ``getImage``, and
#: ``getSingleImage`` once enabled) and passes them on unchanged. Without a
#: template, uncurl would try every URL of a key in turn and stop at the
#: first it cannot handle (a ``dl+archive:`` URL meant for archivist).
#: Users repair moved TCIA URLs by replacing ``match``/``url`` (see docs).
UNCURL_MATCH = '(?P<tciaurl>https?://[^?#]+[?].+)'
UNCURL_URL = '{tciaurl}'
#: the uncurl remote of earlier versions that claimed IDC's object URLs
IDC_MATCH = '(?P<idcurl>https?://[^?#]+[.]dcm)$'
IDC_URL = '{idcurl}'
#: git-annex glob of IDC's per-file object URLs,
#: ``<endpoint>/<bucket>/<series uuid>/<instance uuid>.dcm``, for the ``idc``
#: instance of git-annex's built-in web remote
IDC_GLOB = '*.dcm'
#: git-annex glob of NBIA's ``getSingleImage`` URLs, for the ``nbia``
#: instance of the web remote
NBIA_GLOB = '*/getSingleImage?*'


@dataclass(frozen=True)
class RemoteSpec:
    """How a special remote of a patient dataset is configured.

    Attributes
    ----------
    name: str
      Its name (also in clones).
    externaltype: str
      The datalad-next special remote that implements it, or ``''`` for an
      instance of git-annex's built-in ``web`` remote (no process of its
      own, enabled at ``git annex init`` for free).
    cost: int
      git-annex's retrieval cost: lower is tried first. It is stored in
      ``remote.log`` and so travels to every clone.
    fields: mapping
      Further ``initremote`` parameters.
    autoenable: bool
      Whether ``git annex init`` of a clone enables it. External remotes
      are not: each would start a Python process in every clone; they are
      enabled by ``git annex enableremote NAME`` where needed (see docs).
    """

    name: str
    externaltype: str
    cost: int
    fields: Mapping[str, str]
    autoenable: bool = False

    @property
    def web(self) -> bool:
        """Whether it is an instance of git-annex's built-in web remote
        (its URLs are logged unclaimed, without a leading ``:``)."""
        return not self.externaltype

    def config_lines(self, ruuid: str) -> list[str]:
        """Its section of a working copy's ``.git/config``."""
        return remote_config_lines(self.name, ruuid, self.externaltype)

    def log_fields(self) -> dict[str, str]:
        """The fields of its ``remote.log`` line (without timestamp)."""
        kind = (
            {'type': 'web'}
            if self.web
            else {
                'encryption': 'none',
                'externaltype': self.externaltype,
                'type': 'external',
            }
        )
        return {
            'autoenable': 'true' if self.autoenable else 'false',
            'cost': str(self.cost),
            'name': self.name,
            **kind,
            **self.fields,
        }


#: the special remotes, in retrieval order: IDC's single files and NBIA's
#: single files (``getSingleImage``), both through git-annex's own web
#: remote; then NBIA through uncurl (the series archive key, and the repair
#: path when NBIA moves its API), and last the archive members (archivist
#: must fetch and keep the whole series archive to extract one file)
REMOTES = {
    IDC: RemoteSpec(IDC, '', 100, {'urlinclude': IDC_GLOB}, autoenable=True),
    NBIA: RemoteSpec(NBIA, '', 150, {'urlinclude': NBIA_GLOB}, autoenable=True),
    UNCURL: RemoteSpec(
        UNCURL, 'uncurl', 175, {'match': UNCURL_MATCH, 'url': UNCURL_URL}
    ),
    ARCHIVIST: RemoteSpec(ARCHIVIST, 'archivist', 200, {}),
}
#: remotes of earlier versions, kept (not autoenabled) in updated datasets
LEGACY_REMOTES = {
    IDC_UNCURL: RemoteSpec(
        IDC_UNCURL, 'uncurl', 100, {'match': IDC_MATCH, 'url': IDC_URL}
    ),
}
ALL_REMOTES = {**REMOTES, **LEGACY_REMOTES}


def remote_of_url(url: str) -> str:
    """The special remote that claims ``url``.

    >>> remote_of_url('https://s3.amazonaws.com/idc-open-data/u/i.dcm')
    'idc'
    >>> remote_of_url('https://x/v4/getSingleImage?SeriesInstanceUID=1&SOPInstanceUID=2')
    'nbia'
    >>> remote_of_url('https://x/nbia-api/services/v4/getImage?SeriesInstanceUID=1')
    'uncurl'
    """
    if url.startswith('dl+archive:'):
        return ARCHIVIST
    for name in (IDC, NBIA):
        if fnmatch.fnmatchcase(url, REMOTES[name].fields['urlinclude']):
            return name
    return UNCURL


BRANCH = 'main'


def create_dataset(path: Path, description: str, *, annex: bool = True) -> Dataset:
    """A new DataLad dataset whose branch is ``main`` whatever git's
    ``init.defaultBranch`` (exports look the same from every machine);
    a plain git one without ``annex``."""
    ds = Dataset(path)
    if annex:
        ds.create(result_renderer='disabled', description=description)
    else:
        ds.create(result_renderer='disabled', annex=False)
    current = current_branch(path)
    if current != BRANCH:
        git(path, 'branch', '-m', current, BRANCH)
    return ds


def ensure_dataset(
    path: Path, description: str, tmp: Path, *, annex: bool = True
) -> Dataset:
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
        create_dataset(tmp, description, annex=annex)
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


def init_repository(path: Path, description: str, template: str) -> NewRepository:
    """``git init`` a patient dataset at ``path`` and configure it as
    ``git annex init`` and ``git annex initremote`` of each remote would.

    Nothing is committed: :func:`update_dataset` writes the new dataset's
    first commits (``.datalad/config`` with a new dataset id, the
    ``.gitattributes`` of ``datalad create``) and its git-annex branch
    (``uuid.log``, ``remote.log`` with the special remotes of
    :data:`REMOTES`) in the same ``git fast-import`` that
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
        remote_uuids={name: str(uuid.uuid4()) for name in REMOTES},
    )
    lines = annex_config_lines(repo.annex_uuid)
    for name, ruuid in repo.remote_uuids.items():
        lines += REMOTES[name].config_lines(ruuid)
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
        uuids = {self.annex_uuid: self.description}
        uuids.update({u: n for n, u in self.remote_uuids.items()})
        return {
            'uuid.log': merge_uuid_log('', now, uuids),
            'remote.log': remote_log(
                '', now, {u: REMOTES[n] for n, u in self.remote_uuids.items()}
            ),
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


def legacy_remote_names(config: Mapping[str, str]) -> dict[str, str]:
    """Remotes of a working copy's ``config`` that earlier versions
    configured under a name that now means another remote: old name ->
    new name (the uncurl remote ``idc`` becomes ``idc-uncurl``).

    >>> legacy_remote_names({'remote.idc.annex-externaltype': 'uncurl'})
    {'idc': 'idc-uncurl'}
    >>> legacy_remote_names({'remote.idc.annex-web': 'true'})
    {}
    """
    if config.get(f'remote.{IDC}.annex-externaltype') == 'uncurl':
        return {IDC: IDC_UNCURL}
    return {}


#: settings of earlier versions, replaced when a dataset is updated
#: (other values were set by a user: ``enableremote`` repairs are kept).
#: Earlier versions autoenabled the external remotes (a Python process
#: each at every clone's ``git annex init``) and named the uncurl remote
#: for IDC's URLs ``idc``.
LEGACY_FIELDS = {
    (UNCURL, 'match'): {'(?P<tciaurl>https?://.+)'},
    (UNCURL, 'cost'): {'150'},
    (UNCURL, 'autoenable'): {'true'},
    (ARCHIVIST, 'autoenable'): {'true'},
    (IDC_UNCURL, 'name'): {IDC},
    (IDC_UNCURL, 'autoenable'): {'true'},
}


def remote_log(old: str, now: int, remotes: Mapping[str, RemoteSpec]) -> str:
    """``remote.log`` with ``remotes`` (uuid -> spec) configured, values of
    earlier versions (:data:`LEGACY_FIELDS`) replaced, what a user set
    kept (:func:`~datalad_tcia.formats.annex_branch.merge_remote_log`)."""
    return merge_remote_log(
        old, now, {u: s.log_fields() for u, s in remotes.items()}, LEGACY_FIELDS
    )


def remote_uuids(path: Path, config: Mapping[str, str]) -> dict[str, str]:
    """The special remotes' UUIDs of an existing working copy (``config``:
    its configuration). A remote that earlier versions named otherwise is
    renamed (:func:`legacy_remote_names`); a remote added since the
    working copy was made (``idc``, ``nbia``) is configured here."""
    missing = [n for n in (UNCURL, ARCHIVIST) if f'remote.{n}.annex-uuid' not in config]
    if missing:
        msg = (
            f'{path} lacks the special remote(s) {", ".join(missing)}: '
            'remove this working copy and its export, then run again'
        )
        raise GitError(msg)
    renamed = legacy_remote_names(config)
    for old, new in renamed.items():
        git(path, 'config', '--rename-section', f'remote.{old}', f'remote.{new}')
    if renamed:
        config = read_config(path)
    uuids = {
        n: config[f'remote.{n}.annex-uuid']
        for n in ALL_REMOTES
        if f'remote.{n}.annex-uuid' in config
    }
    added = [n for n in REMOTES if n not in uuids]
    if added:
        lines: list[str] = []
        for name in added:
            uuids[name] = str(uuid.uuid4())
            lines += REMOTES[name].config_lines(uuids[name])
        with (path / '.git' / 'config').open('a', encoding='utf-8') as fp:
            fp.write('\n'.join(lines) + '\n')
    return uuids
