"""Get file content into a clone, across its datasets at once.

``datalad get -r`` works through the datasets of a collection one after
another, and in each runs ``git annex get``, whose web remote costs a few
milliseconds of CPU per file. This step does what it does, in one go:

1. **scope**: the paths asked for, resolved to the datasets they lie in
   (a subdataset's path means all of it; ``recursive`` reaches into the
   subdatasets under a path), installing the subdatasets needed on the
   way, many at once (:mod:`datalad_tcia.retrieve.install`);
2. **space**: the bytes wanted on each file system, refused before a byte
   is fetched when they do not fit (keeping git-annex's default reserve);
3. **fetch**: every missing key of every dataset, ``jobs`` requests in
   flight, verified against its key and made present as ``git annex
   get`` makes it (:mod:`datalad_tcia.retrieve.transfer`);
4. **fall back**: a file the fast path could not get (no URL delivered
   the right bytes, a key it cannot check, an unlocked file) is handed to
   ``git annex get`` in its dataset, whose sources and messages are the
   last word.

One outcome per dataset, as each finishes.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from datalad_tcia.formats.annex_content import annex_dirs, record_present
from datalad_tcia.retrieve import (
    AnnexedLinks,
    DatasetContent,
    KeyResult,
    Progress,
    ProgressBars,
    Subdataset,
    TransferSettings,
    dataset_content,
    fetch_keys,
    install_subdatasets,
    missing_bytes,
    scan_links,
    subdatasets,
)
from datalad_tcia.store.git import git_unchecked

from .outcomes import GetOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.get_files')

#: bytes kept free on a file system (git-annex's ``annex.diskreserve``
#: default)
DISK_RESERVE = 100_000_000
#: datasets whose keys and logs are read at once
_PLANNERS = 4


@dataclass
class _Dataset:
    """A dataset in scope: what of it is asked for."""

    repo: Path
    scope: list[str] = field(default_factory=list)
    installed: bool = False
    subs: list[Subdataset] = field(default_factory=list)
    links: AnnexedLinks | None = None


@dataclass
class _Tally:
    """What became of one dataset's keys."""

    content: DatasetContent
    remaining: int
    got: list[KeyResult] = field(default_factory=list)
    failed: list[KeyResult] = field(default_factory=list)


def get_files(
    top: Path,
    paths: Sequence[Path] = (),
    *,
    recursive: bool = False,
    get_data: bool = True,
    settings: TransferSettings | None = None,
    install_jobs: int = 8,
) -> Iterator[GetOutcome]:
    """Get the content of ``paths`` (default: ``top`` itself) in the
    dataset ``top`` and, where they lead, its subdatasets.

    Parameters
    ----------
    top: Path
      The dataset the paths are relative to (a collection clone).
    paths: sequence of Path
      Files, directories or subdatasets; absolute, or relative to ``top``.
    recursive: bool
      Also the subdatasets under a path (installing them).
    get_data: bool
      Fetch content; without, only install the subdatasets needed.
    settings: TransferSettings, optional
      Requests in flight and retries.
    install_jobs: int
      Subdatasets installed at once.
    """
    settings = settings or TransferSettings()
    top = top.absolute()
    wanted = [p if p.is_absolute() else top / p for p in paths] or [top]
    datasets, problems = _resolve(top, wanted, recursive, install_jobs)
    yield from problems
    if not get_data:
        yield from (
            GetOutcome('ok', 'installed', d.repo, installed=True)
            for d in datasets
            if d.installed
        )
        return
    for ds in datasets:
        ds.links = scan_links(ds.repo, ds.scope, [s.path for s in ds.subs])
    refusal = _check_space(top, datasets)
    if refusal is not None:
        yield refusal
        return
    yield from _fetch(datasets, settings)


def _resolve(
    top: Path, wanted: list[Path], recursive: bool, jobs: int
) -> tuple[list[_Dataset], list[GetOutcome]]:
    """The datasets in scope, installing those needed; and an outcome for
    each path that is not there and each install that failed."""
    problems: list[GetOutcome] = []
    found: dict[Path, _Dataset] = {}
    level = {top: [p.absolute() for p in wanted]}
    for path in level[top]:
        if not (path.exists() or path.is_symlink()) and not path.is_relative_to(top):
            problems.append(_no_such_path(path))
    while level:
        install: list[Subdataset] = []
        nxt: dict[Path, list[Path]] = {}
        for repo, requests in level.items():
            ds = found.setdefault(repo, _Dataset(repo))
            ds.subs = subdatasets(repo)
            for path in requests:
                sub = next(
                    (s for s in ds.subs if path.is_relative_to(s.location)), None
                )
                if sub is not None:
                    if not sub.installed:
                        install.append(sub)
                    nxt.setdefault(sub.location, []).append(path)
                    continue
                if not (path.exists() or path.is_symlink()):
                    problems.append(_no_such_path(path))
                    continue
                ds.scope.append(os.path.relpath(path, repo))
                if recursive:
                    for s in ds.subs:
                        if s.location.is_relative_to(path) and s.location != path:
                            if not s.installed:
                                install.append(s)
                            nxt.setdefault(s.location, []).append(s.location)
        unique = list({s.location: s for s in install}.values())
        failed: set[Path] = set()
        for result in install_subdatasets(unique, jobs):
            sub = result.subdataset
            if result.error is not None:
                failed.add(sub.location)
                problems.append(
                    GetOutcome(
                        'error',
                        f'installing {sub.path} from {sub.url} failed: '
                        f'{result.error.strip()[:300]}; check that the store is '
                        'reachable and run again',
                        sub.location,
                    )
                )
            else:
                found[sub.location] = _Dataset(sub.location, installed=True)
        level = {r: ps for r, ps in nxt.items() if r not in failed}
    return [d for d in found.values() if d.scope or d.installed], problems


def _no_such_path(path: Path) -> GetOutcome:
    return GetOutcome(
        'impossible',
        f'{path} does not exist in the dataset; give a path of a file, '
        'directory or subdataset',
        path,
    )


def _check_space(top: Path, datasets: list[_Dataset]) -> GetOutcome | None:
    """A refusal if the missing content does not fit its file systems."""
    need: dict[int, int] = {}
    where: dict[int, Path] = {}
    for ds in datasets:
        dev = ds.repo.stat().st_dev
        need[dev] = need.get(dev, 0) + missing_bytes(ds.links or AnnexedLinks())
        where.setdefault(dev, ds.repo)
    for dev, needed in need.items():
        free = shutil.disk_usage(where[dev]).free
        if needed and needed + DISK_RESERVE > free:
            return GetOutcome(
                'impossible',
                f'the files asked for need {_size(needed)} but only '
                f'{_size(free)} are free where {where[dev]} lies (keeping '
                f'{_size(DISK_RESERVE)} free); free space or get fewer paths '
                '(nothing was fetched)',
                top,
            )
    return None


def _fetch(
    datasets: list[_Dataset], settings: TransferSettings
) -> Iterator[GetOutcome]:
    """Fetch every dataset's keys; an outcome per dataset as it finishes."""
    finished: queue.Queue[_Tally | BaseException | None] = queue.Queue()
    tallies: dict[Path, _Tally] = {}
    lock = threading.Lock()
    bar = ProgressBars(
        sum(missing_bytes(d.links or AnnexedLinks()) for d in datasets),
        sum(len(d.links.missing) for d in datasets if d.links),
    )

    def planned() -> Iterator[DatasetContent]:
        with ThreadPoolExecutor(_PLANNERS) as pool:
            for content in pool.map(
                lambda d: dataset_content(d.repo, d.links or AnnexedLinks()),
                datasets,
            ):
                tally = _Tally(content, len(content.wanted))
                with lock:
                    tallies[content.repo] = tally
                if not content.wanted:
                    finished.put(tally)
                yield content

    def key_done(result: KeyResult) -> None:
        bar.file()
        with lock:
            tally = tallies[result.content.repo]
            (tally.got if result.ok else tally.failed).append(result)
            tally.remaining -= 1
            if tally.remaining == 0:
                finished.put(tally)

    def run() -> None:
        try:
            fetch_keys(planned(), settings, Progress(bar.bytes, key_done))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            finished.put(e)
        finally:
            finished.put(None)

    installed = {d.repo for d in datasets if d.installed}
    bar.start()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        while True:
            item = finished.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield _finish(item, item.content.repo in installed)
    finally:
        worker.join()
        bar.finish()


def _finish(tally: _Tally, installed: bool) -> GetOutcome:
    """The outcome of one dataset: fall back to git-annex for what the
    fast path did not get, and fix location logs a killed run left."""
    content = tally.content
    repo = content.repo
    if content.unlogged and content.uuid:
        annex_dirs(content.gitdir)
        record_present(content.gitdir, content.uuid, content.unlogged, int(time.time()))
    got = sum(len(r.wanted.paths) for r in tally.got)
    received = sum(r.wanted.size for r in tally.got)
    rest = [p for r in tally.failed for p in r.wanted.paths] + content.unhandled
    errors: list[str] = []
    fallback = 0
    if rest:
        fallback, errors = _annex_get(repo, rest)
        for r in tally.failed:
            lgr.debug('%s: fast path failed (%s)', r.wanted.paths[0], r.errors)
    what = f'{got + fallback} files ({_size(received)} by the fast path)'
    if errors:
        return GetOutcome(
            'error',
            f'{len(errors)} files could not be got ({errors[0]}); the others '
            f'are present ({what}); check the sources with "git annex whereis" '
            'and run again',
            repo,
            files=got + fallback,
            bytes=received,
            fallback=fallback,
            failed=errors,
            installed=installed,
        )
    if got + fallback == 0:
        return GetOutcome(
            'ok' if installed else 'notneeded',
            'installed, content already present'
            if installed
            else f'content already present ({content.present} files)',
            repo,
            installed=installed,
        )
    return GetOutcome(
        'ok',
        f'got {what}' + (f', {fallback} through git-annex' if fallback else ''),
        repo,
        files=got + fallback,
        bytes=received,
        fallback=fallback,
        installed=installed,
    )


def _annex_get(repo: Path, paths: Iterable[str]) -> tuple[int, list[str]]:
    """``git annex get`` of ``paths``: files got, and git-annex's error of
    each file it could not get."""
    code, out, err = git_unchecked(
        repo, 'annex', 'get', '--json', '--json-error-messages', '--', *paths
    )
    got, errors = 0, []
    for line in out.decode('utf-8', 'replace').splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get('success'):
            got += 1
        else:
            msgs = ' '.join(rec.get('error-messages') or []) or 'failed'
            errors.append(f'{rec.get("file")}: {msgs}'.strip())
    if code and not errors:
        errors.append(err.decode('utf-8', 'replace').strip() or 'git annex get failed')
    return got, errors


def _size(n: float) -> str:
    for unit in ('B', 'kB', 'MB', 'GB', 'TB'):
        if n < 1000 or unit == 'TB':
            return f'{n:.0f} {unit}' if unit == 'B' else f'{n:.1f} {unit}'
        n /= 1000
    return f'{n} B'
