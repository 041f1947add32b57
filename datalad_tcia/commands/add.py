"""``datalad tcia-add``: a selection, end to end."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad.utils import bytes2human
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureStr

from datalad_tcia.dataset import GitError, git
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked

from .catalog import write_catalog
from .common import nbia_client, store_path, store_url_problem
from .deposit_dataset import deposit_datasets
from .download import download_selection
from .params import (
    api_url_param,
    datacite_url_param,
    jobs_param,
    make_selection,
    output_format_param,
    selection_constraints,
    selection_params,
    store_param,
    store_url_param,
)

lgr = logging.getLogger('datalad.tcia.commands.add')

ACTION = 'tcia_add'


@build_doc
class TciaAdd(ValidatedInterface):
    """Add TCIA series to a store: download, datasets, deposits, catalog

    For a selection (collection, patient, study, series, manifest, and
    filters): download and verify the series archives with their metadata
    (tcia-download), build and deposit the DataLad datasets of every
    affected collection (tcia-deposit-dataset), write their catalogs
    (tcia-catalog), and then -- unless --keep-archives -- delete the
    archives, but only after checking that every DICOM file of each
    affected dataset has its TCIA sources registered and that the
    collection deposit clones. With PATH (and a selection within one
    collection), the collection dataset is cloned there (patients install
    with 'datalad get -n').

    Re-running is cheap: what is done is skipped. One summary result comes
    last; the exit status is non-zero when anything failed.
    """

    _params_ = {
        'path': Parameter(
            args=('path',),
            metavar='PATH',
            nargs='?',
            doc="""where to clone the collection dataset (optional).""",
        ),
        **selection_params,
        'store': store_param,
        'store_url': store_url_param,
        'api_url': api_url_param,
        'datacite_url': datacite_url_param,
        'keep_archives': Parameter(
            args=('--keep-archives',),
            action='store_true',
            doc="""keep the downloaded archives in the store.""",
        ),
        'jobs': jobs_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            **selection_constraints,
            'path': EnsureStr(min_len=1),
            'store_url': EnsureStr(min_len=1),
            'datacite_url': EnsureStr(min_len=1),
            'keep_archives': EnsureBool(),
        },
    )

    _examples_ = [
        {
            'text': 'Add a collection to the default store and clone it',
            'code_py': "tcia_add('pseudo-phi', collection='Pseudo-PHI-DICOM-Data')",
            'code_cmd': 'datalad tcia-add --collection Pseudo-PHI-DICOM-Data '
            'pseudo-phi',
        },
        {
            'text': 'Add the CT series of a manifest, four downloads at a time',
            'code_py': "tcia_add(manifest='cart.tcia', modality='CT', jobs=4)",
            'code_cmd': 'datalad tcia-add --manifest cart.tcia --modality CT -J 4',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        path: str | None = None,
        *,
        collection: str | None = None,
        patient: str | None = None,
        study: str | None = None,
        series: list[str] | None = None,
        manifest: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        store: str | None = None,
        store_url: str | None = None,
        api_url: str | None = None,
        datacite_url: str | None = None,
        keep_archives: bool = False,
        jobs: int = 1,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        problem = store_url_problem(store_url)
        if problem:
            yield get_status_dict(
                action=ACTION, status='impossible', message=problem, logger=lgr
            )
            return
        store_dir = store_path(store)
        selection = make_selection(
            collection,
            patient,
            study,
            series,
            manifest,
            modality,
            body_part,
            manufacturer,
        )
        client = nbia_client(api_url)
        summary = _Summary()
        resolved: list[SeriesInfo] = []
        for res in download_selection(
            client, store_dir, selection, jobs, False, resolved
        ):
            summary.download(res)
            yield res
        collections = sorted({s.collection for s in resolved if s.collection})
        if summary.failed_input or not collections:
            yield summary.record(store_dir, path)
            return
        for name in collections:
            clone = None
            for res in deposit_datasets(store_dir, name, store_url, None, jobs):
                summary.dataset(res)
                if str(res.get('path', '')).endswith('/collection'):
                    clone = res.get('url')
                yield res
            summary.clone_urls[name] = clone
            if clone is None:
                # no collection dataset: the errors above say why; a
                # catalog of nothing would only add noise
                continue
            for res in write_catalog(store_dir, name, store_url, datacite_url):
                summary.catalog(res)
                yield res
            layout = StoreLayout(store_dir, name)
            if not keep_archives and not summary.failed:
                yield from _delete_archives(layout, clone, summary)
        if path and len(collections) == 1 and not summary.failed:
            yield from _clone(summary.clone_urls[collections[0]], Path(path), summary)
        yield summary.record(store_dir, path)


class _Summary:
    """Counts for the final result."""

    def __init__(self) -> None:
        self.downloaded = self.skipped = self.failed_series = 0
        self.bytes = 0
        self.files = 0
        self.failed = False
        self.failed_input = False
        self.clone_urls: dict[str, str | None] = {}
        self.catalogs: list[str] = []
        self.deposits: list[str] = []
        self.deleted = 0

    def download(self, res: dict[str, Any]) -> None:
        status = res.get('status')
        if status == 'ok':
            self.downloaded += 1
            self.bytes += int(res.get('archive_size') or 0)
        elif status == 'notneeded':
            self.skipped += 1
        else:
            self.failed = True
            if res.get('SeriesInstanceUID'):
                self.failed_series += 1
            else:
                self.failed_input = True

    def dataset(self, res: dict[str, Any]) -> None:
        if res.get('status') in ('ok', 'notneeded'):
            self.files += int(res.get('files') or 0)
            if res.get('url'):
                self.deposits.append(str(res['url']))
        else:
            self.failed = True

    def catalog(self, res: dict[str, Any]) -> None:
        if res.get('status') == 'ok':
            self.catalogs.append(str(res['path']))
        else:
            self.failed = True

    def record(self, store: Path, path: str | None) -> dict[str, Any]:
        urls = [u for u in self.clone_urls.values() if u]
        message = (
            f'{self.downloaded} series downloaded ({bytes2human(self.bytes)}), '
            f'{self.skipped} skipped, {self.failed_series} failed; '
            f'{self.files} files registered; {self.deleted} archives deleted'
        )
        if urls:
            message += f'; clone: {urls[0]}'
        if self.catalogs:
            message += f'; catalog: {self.catalogs[0]}'
        if self.failed:
            message += (
                '; not complete: see the records above, then run the same '
                'command again (what is done is kept)'
            )
        return get_status_dict(
            action=ACTION,
            status='error' if self.failed else 'ok',
            type='summary',
            path=str(Path(path).absolute()) if path else str(store),
            message=message,
            series_downloaded=self.downloaded,
            series_skipped=self.skipped,
            series_failed=self.failed_series,
            files_registered=self.files,
            bytes_downloaded=self.bytes,
            archives_deleted=self.deleted,
            clone_urls=urls,
            catalogs=self.catalogs,
            logger=lgr,
        )


def _delete_archives(
    layout: StoreLayout, clone_url: str | None, summary: _Summary
) -> Iterator[dict[str, Any]]:
    """Delete the collection's archives once the datasets are verified,
    holding the collection's lock (another run may be downloading)."""
    common = {'action': ACTION, 'logger': lgr, 'path': str(layout.archives)}
    try:
        with StoreLock(layout.lock):
            yield from _delete_verified(layout, clone_url, summary, common)
    except StoreLocked as e:
        summary.failed = True
        yield get_status_dict(
            status='impossible', message=f'archives kept: {e}', **common
        )


def _delete_verified(
    layout: StoreLayout,
    clone_url: str | None,
    summary: _Summary,
    common: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    problems = _verify_sources(layout) + _verify_clone(clone_url)
    if problems:
        summary.failed = True
        yield get_status_dict(
            status='error',
            message='archives kept: ' + '; '.join(problems[:3]),
            **common,
        )
        return
    # only archives of series whose metadata the datasets were built from
    archives = [
        a
        for a in (
            sorted(layout.archives.glob('*.zip')) if layout.archives.is_dir() else []
        )
        if layout.archive_metadata(a.stem).exists()
        and layout.dicoms_metadata(a.stem).exists()
    ]
    for archive in archives:
        archive.unlink()
    summary.deleted += len(archives)
    if layout.archives.is_dir() and not any(layout.archives.iterdir()):
        layout.archives.rmdir()
    yield get_status_dict(
        status='ok' if archives else 'notneeded',
        message=f'{len(archives)} archive(s) deleted: every file has its TCIA '
        'sources and the collection deposit clones',
        **common,
    )


def _verify_sources(layout: StoreLayout) -> list[str]:
    """Files of the collection's datasets lacking a registered source."""
    problems = []
    repos = layout.root / 'repos'
    for repo in sorted(p for p in repos.iterdir() if (p / '.git').exists()):
        if repo.name == 'collection':
            continue
        try:
            missing = git(
                repo,
                'annex',
                'find',
                '--not',
                '--in',
                'archivist',
                '--and',
                '--not',
                '--in',
                'uncurl',
                '--format=${file}\\n',
            ).decode()
        except GitError as e:
            problems.append(str(e))
            continue
        if missing.strip():
            n = len(missing.splitlines())
            problems.append(f'{n} file(s) of {repo.name} have no TCIA source')
    return problems


def _verify_clone(url: str | None) -> list[str]:
    """Whether the collection deposit clones (into a throw-away directory)."""
    if not url:
        return ['the collection deposit has no clone URL']
    with tempfile.TemporaryDirectory() as tmp:
        # run from the temporary directory: datalad-next's remote helper
        # acts on the git repository of the current directory
        proc = subprocess.run(
            ['git', 'clone', '--quiet', url, 'probe'],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            return [f'the collection deposit does not clone: {proc.stderr.strip()}']
        if not (Path(tmp) / 'probe' / '.gitmodules').exists():
            return ['the cloned collection dataset has no subdatasets']
    return []


def _clone(
    url: str | None, target: Path, summary: _Summary
) -> Iterator[dict[str, Any]]:
    from datalad.api import clone

    common = {'action': ACTION, 'logger': lgr, 'path': str(target.absolute())}
    if not url:
        return
    if target.exists() and (target / '.git').exists():
        yield get_status_dict(
            status='notneeded', message='already cloned', type='dataset', **common
        )
        return
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    cwd = Path.cwd()
    try:
        # see _verify_clone: clone from a directory that is no git repository
        os.chdir(tempfile.gettempdir())
        results = clone(
            source=url,
            path=str(target.absolute()),
            result_renderer='disabled',
            on_failure='ignore',
            return_type='list',
            result_xfm=None,
        )
    finally:
        os.chdir(cwd)
    ok = any(r.get('status') == 'ok' and r.get('action') == 'install' for r in results)
    if not ok:
        summary.failed = True
    yield get_status_dict(
        status='ok' if ok else 'error',
        type='dataset',
        message='collection dataset cloned; install patients with '
        '"datalad get -n <patient>"'
        if ok
        else f'cloning {url} failed',
        **common,
    )
    if target.exists() and not ok:
        shutil.rmtree(target, ignore_errors=True)
