"""NLST's size is ordinary: a 26,254-patient collection beside one of 32.

The patients, studies and series of a collection as the installed IDC
index lists them (NLST by default: 26,254 patients, 73,113 studies,
203,087 series in IDC v25; one file per series -- per-file costs are
measured by ``bench_collection.py`` and ``bench_get.py``) are written as
its metadata records, for the first N patients of each size given (default
32 and all). Then, for each size, what the data manager and a user pay,
each through the CLI as a user runs it (``datalad`` processes, fresh HOME
for the user):

- the build (``build_datasets``, ``-J``), per patient;
- a re-run with nothing new: ``datalad tcia-deposit-dataset --no-idc``
  (no shortcut: every patient is checked);
- ``datalad tcia-catalog`` and the size of the catalog;
- ``datalad clone`` of the collection;
- ``datalad get -n`` of one patient (a fresh clone), then of 20 patients
  spread over the collection in one call, per patient;
- ``datalad status`` and ``datalad subdatasets`` in the clone;
- with ``--browser``: the collection page in headless Chromium (first
  patients shown; a search for the last patient finds it).

Then (``--store-of K``, default 10) a store of K collections of real
make-up (spread over TCIA's collections of up to 60 patients, the median,
in the index; one small file a series), served by the project's TCIA
look-alike and added as a user adds them (``datalad tcia-add --all``):
the top-level dataset cloned, one collection and one of its patients
installed, and ``tcia-add --update`` with nothing new.

Every figure is printed beside the same figure at the smallest size, with
the ratio. Stores are kept in ``--work DIR`` (default: a temporary
directory) and reused when present: ``--stages`` picks what to run again.

Run: ``python benchmarks/bench_scale.py [--patients 32 26254]
[--collection nlst] [-J 2] [--browser] [--work DIR] [--stages ...]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from scale_data import collection_series, patients_of, write_series  # noqa: E402

from datalad_tcia.datacite import CitationLookup, DataCiteClient  # noqa: E402
from datalad_tcia.dataset.groups import patient_path  # noqa: E402
from datalad_tcia.export import store_base_url  # noqa: E402
from datalad_tcia.idc import IdcIndex  # noqa: E402
from datalad_tcia.metadata import load_grouping, load_slugs  # noqa: E402
from datalad_tcia.nbia import NbiaClient  # noqa: E402
from datalad_tcia.pipeline import (  # noqa: E402
    RunSettings,  # noqa: E402
    build_datasets,
    build_top,
)
from datalad_tcia.store import StoreLayout  # noqa: E402

DATALAD = str(Path(sys.executable).parent / 'datalad')
STAGES = ('record', 'build', 'rerun', 'catalog', 'clone', 'browser')


def _settings(store: Path, jobs: int) -> RunSettings:
    """The dataset stage's settings: no server is asked."""
    return RunSettings(
        store,
        NbiaClient(),
        CitationLookup(DataCiteClient('http://127.0.0.1:9')),
        base_url=store_base_url(store),
        jobs=jobs,
    )


def user_env(home: Path) -> dict[str, str]:
    """A user on another machine: a fresh HOME with a git identity."""
    home.mkdir(parents=True, exist_ok=True)
    (home / '.gitconfig').write_text(
        '[user]\n\tname = A User\n\temail = user@example.org\n'
    )
    env = dict(os.environ)
    env.update(HOME=str(home), DATALAD_TCIA_MAX__ATTEMPTS='1')
    return env


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds ``args`` takes (it must succeed)."""
    start = time.perf_counter()
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(
            f'{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}'
        )
    return elapsed


def du(path: Path) -> tuple[int, int]:
    """Bytes and files under ``path``."""
    size = files = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            size += os.lstat(os.path.join(root, name)).st_size
            files += 1
    return size, files


def run_size(
    index: IdcIndex,
    collection: str,
    n: int,
    work: Path,
    stages: set[str],
    jobs: int,
) -> dict[str, float | str]:
    store = work / f'store-{n}'
    fig: dict[str, float | str] = {}
    env = user_env(work / f'home-{n}')
    layout = StoreLayout(store, collection)
    if 'record' in stages and not layout.metadata.is_dir():
        series = collection_series(index, collection, n)
        start = time.perf_counter()
        write_series(store, series)
        print(
            f'  {n}: metadata records of {len(patients_of(series))} patients, '
            f'{len(series)} series in {time.perf_counter() - start:.0f} s',
            flush=True,
        )
    if 'build' in stages and not (layout.collection_export.bare / 'info').exists():
        start = time.perf_counter()
        for o in build_datasets(_settings(store, jobs), collection):
            if o.status not in ('ok', 'notneeded'):
                raise SystemExit(f'build failed: {o.message}')
        fig['build s/patient'] = (time.perf_counter() - start) / n
        # the store's top-level dataset, made once (as the first run does)
        build_top(store, store_base_url(store))
    layout = StoreLayout(store, collection)
    argv = [DATALAD, 'tcia-deposit-dataset', '--no-idc', '--store', str(store)]
    if 'rerun' in stages:
        fig['re-run, nothing new s'] = timed(
            [*argv, '--collection', collection], work, env
        )
    if 'catalog' in stages:
        cat = [
            DATALAD,
            'tcia-catalog',
            '--store',
            str(store),
            '--collection',
            collection,
        ]
        cat += ['--datacite-url', 'http://127.0.0.1:9']
        fig['tcia-catalog s'] = timed(cat, work, env)
        size, files = du(layout.catalog)
        fig['catalog MB'] = size / 1e6
        fig['catalog files'] = files
    if 'clone' in stages:
        fig.update(_user(layout, work / f'user-{n}', env))
    if 'browser' in stages:
        slugs = load_slugs(layout)
        first, last = min(slugs), max(slugs)
        shown, found = in_chromium(layout.catalog, first, last)
        fig['page: first patients shown s'] = shown
        fig['search: a patient found s'] = found
    return fig


def in_chromium(catalog: Path, first: str, last: str) -> tuple[float, float]:
    """Seconds, in headless Chromium over HTTP on loopback, from navigating
    to the collection page until its first patient is shown; and from
    typing the last patient's ID on the patient search page until its
    link is shown."""
    import http.server  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import threading  # noqa: PLC0415
    from functools import partial  # noqa: PLC0415

    from bench_collection import _QuietHandler  # noqa: PLC0415
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    handler = partial(_QuietHandler, directory=str(catalog))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{httpd.server_address[1]}/'
    chromium = next(
        filter(None, map(shutil.which, ('chromium', 'chromium-browser'))), None
    )
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=['--no-sandbox']
            )
            page = browser.new_page(viewport={'width': 1280, 'height': 1600})
            start = time.perf_counter()
            page.goto(url)
            page.locator(f'[id="patients_{first}"]').wait_for(timeout=60_000)
            shown = time.perf_counter() - start
            page.goto(url + 'patients.html')
            page.locator('a.patient').first.wait_for(timeout=60_000)
            start = time.perf_counter()
            page.fill('#search', last)
            page.locator('a.patient', has_text=last).wait_for(timeout=60_000)
            found = time.perf_counter() - start
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return shown, found


def _user(
    layout: StoreLayout, home: Path, env: dict[str, str]
) -> dict[str, float | str]:
    """What a user pays in a clone of the collection."""
    fig: dict[str, float | str] = {}
    digits = load_grouping(layout)
    slugs = sorted(load_slugs(layout).values())
    url = layout.collection_export.bare.as_uri()
    clone = home / 'clone'
    if clone.exists():
        subprocess.run(['chmod', '-R', 'u+w', str(home)], check=False)
        subprocess.run(['rm', '-rf', str(clone)], check=True)
    home.mkdir(parents=True, exist_ok=True)
    fig['datalad clone s'] = timed([DATALAD, 'clone', url, str(clone)], home, env)
    one = patient_path(slugs[len(slugs) // 2], digits)
    fig['get -n one patient s'] = timed([DATALAD, 'get', '-n', one], clone, env)
    step = max(1, len(slugs) // 20)
    twenty = [patient_path(s, digits) for s in slugs[1::step][:20]]
    twenty = [p for p in twenty if p != one][:20]
    elapsed = timed([DATALAD, 'get', '-n', *twenty], clone, env)
    fig['get -n 20 patients s/patient'] = elapsed / len(twenty)
    fig['datalad status s'] = timed([DATALAD, 'status'], clone, env)
    fig['datalad subdatasets s'] = timed([DATALAD, 'subdatasets'], clone, env)
    return fig


def store_of_collections(
    index: IdcIndex, k: int, work: Path, env: dict[str, str]
) -> dict[str, float | str]:
    """K collections under one top-level dataset (see the module doc)."""
    from scale_data import collection_shape, collection_sizes, spread  # noqa: PLC0415
    from tcia_lookalike import LookalikeServer  # noqa: PLC0415
    from tcia_lookalike.data import Archive  # noqa: PLC0415
    from tcia_lookalike.holdings import build_shaped_collection  # noqa: PLC0415

    cids = spread(collection_sizes(index), k, 60, 400)
    collections = []
    for cid in cids:
        series = index.get_series(collection=cid)
        name = series[0].collection or cid
        collections.append(
            build_shaped_collection(name, collection_shape(series), side=8)
        )
    fig: dict[str, float | str] = {
        'collections': len(cids),
        'patients': sum(len(c.patients) for c in collections),
        'series': sum(
            len(st.series) for c in collections for p in c.patients for st in p.studies
        ),
    }
    store = work / 'store-many'
    with LookalikeServer(archive=Archive(collections)) as srv:
        common = ['--store', str(store), '--api-url', srv.api_url]
        common += ['--datacite-url', srv.datacite_url, '--no-idc']
        # the data manager's environment: NBIA's retries as configured
        manager = dict(os.environ)
        fig['tcia-add --all s'] = timed(
            [DATALAD, 'tcia-add', '--all', '-J', '4', *common], work, manager
        )
        home = work / 'user-many'
        subprocess.run(['rm', '-rf', str(home)], check=True)
        home.mkdir(parents=True)
        clone = home / 'clone'
        url = (store / 'tcia.git').as_uri()
        fig['clone top-level s'] = timed([DATALAD, 'clone', url, str(clone)], home, env)
        cid = sorted(cids)[len(cids) // 2]
        fig['get -n a collection s'] = timed([DATALAD, 'get', '-n', cid], clone, env)
        paths = subprocess.run(
            ['git', 'config', '-f', '.gitmodules', '--get-regexp', 'path$'],
            cwd=clone / cid,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[1::2]
        patient = sorted(paths)[0]
        fig['get -n one of its patients s'] = timed(
            [DATALAD, 'get', '-n', f'{cid}/{patient}'], clone, env
        )
        srv.reset()
        fig['tcia-add --update, nothing new s'] = timed(
            [DATALAD, 'tcia-add', '--update', *common], work, manager
        )
        fig['  its NBIA requests'] = len(srv.requests())
    return fig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collection', default='nlst')
    parser.add_argument('--patients', type=int, nargs='+', default=[32, 0])
    parser.add_argument('-J', '--jobs', type=int, default=2)
    parser.add_argument('--work', type=Path)
    parser.add_argument('--stages', nargs='+', default=list(STAGES[:-1]))
    parser.add_argument('--browser', action='store_true')
    parser.add_argument('--store-of', type=int, default=10, metavar='K')
    args = parser.parse_args()
    for key in ('GIT_AUTHOR', 'GIT_COMMITTER'):
        os.environ.setdefault(f'{key}_NAME', 'bench')
        os.environ.setdefault(f'{key}_EMAIL', 'bench@example.org')
    stages = set(args.stages) | ({'browser'} if args.browser else set())
    index = IdcIndex()
    total = len(patients_of(collection_series(index, args.collection)))
    sizes = [n or total for n in args.patients]
    work = args.work or Path(tempfile.mkdtemp(prefix='bench-scale-'))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f'{args.collection}: {total} patients in the IDC index {index.version}; '
        f'sizes {sizes}, -J {args.jobs}, work {work}',
        flush=True,
    )
    figures = {}
    for n in sizes:
        figures[n] = run_size(index, args.collection, n, work, stages, args.jobs)
        print(f'  {n}: {figures[n]}', flush=True)
    base = sizes[0]
    print(f'\n{"figure":34s}' + ''.join(f'{n:>12d}' for n in sizes) + '   ratio')
    for key in figures[sizes[-1]]:
        values = [figures[n].get(key) for n in sizes]
        cells = ''.join(
            f'{v:12.3f}' if isinstance(v, float) else f'{v!s:>12}' for v in values
        )
        first, last = figures[base].get(key), values[-1]
        ratio = (
            f'{last / first:7.2f}x'
            if isinstance(first, float | int)
            and isinstance(last, float | int)
            and first
            else ''
        )
        print(f'{key:34s}{cells}   {ratio}')
    if args.store_of:
        many = store_of_collections(
            index, args.store_of, work, user_env(work / 'home-many')
        )
        print(f'\na store of {args.store_of} collections:')
        for key, value in many.items():
            cell = f'{value:12.3f}' if isinstance(value, float) else f'{value!s:>12}'
            print(f'{key:34s}{cell}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
