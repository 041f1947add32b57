"""What a user of a built collection pays: installing patients, getting files.

A store is built with the library's own pipeline (``build_datasets``)
from a synthetic metadata records shaped like a real collection
(LIDC-IDRI's patients, studies, series and files per series, from
``shared/reference/idc-sources.md``; files of 531 KB, LIDC-IDRI's mean),
each file with an IDC URL on a loopback object server: the project's S3
look-alike (moto in server mode, the server of the issue's reference
figures; ``--server s3``, the default) or a threaded static HTTP/1.1
server that makes each object's bytes from its name (``--server
static``, about three times faster per request). One GET per object, as
S3 serves IDC's files.
Then, as a user on a cluster node would work, in a fresh HOME:

- *install*: ``datalad clone`` of the collection and ``datalad get -n -r .``
  (every patient dataset), from a ``file://`` store and from the same store
  served by a plain static web server (git's dumb HTTP protocol); beside
  it the same for a superdataset of as many plain DataLad datasets (plain
  git repositories, no special remotes) in the same places; and a few
  patients cloned through their ``datalad-annex::`` deposits, the form
  the clone URLs had before;
- *get*: ``datalad get -r -J N .`` of a fresh clone (install included),
  and of a selection of two patients; beside it 8 plain Python threads
  fetching the same objects from the same server. The per-dataset overhead
  is the difference per patient dataset.

Run: ``python benchmarks/bench_consumer.py [--install 32 100] [--get 8x100]
[--lidc-get 8] [--jobs 4] [--before 3] [--server s3|static]``
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from bench_collection import SHAPES, Shape
from consumer_data import (
    COLLECTION,
    FILE_SIZE,
    Objects,
    Quiet,
    fill_s3,
    serve,
    write_records,
)
from tcia_lookalike.idc import S3Lookalike

from datalad_tcia.datacite import CitationLookup, DataCiteClient
from datalad_tcia.export import deposit_url
from datalad_tcia.nbia import NbiaClient
from datalad_tcia.pipeline import RunSettings, build_datasets
from datalad_tcia.pipeline.outcomes import CollectionOutcome
from datalad_tcia.store import StoreLayout

DATALAD = str(Path(sys.executable).with_name('datalad'))


def _settings(store: Path, base_url: str) -> RunSettings:
    """The dataset stage's settings: no server is asked."""
    return RunSettings(
        store,
        NbiaClient(),
        CitationLookup(DataCiteClient('http://127.0.0.1:9')),
        base_url=base_url,
        jobs=2,
    )


def build(store: Path, base_url: str) -> str:
    """Datasets and exports of the records in ``store``; the collection's
    clone URL."""
    url = None
    for out in build_datasets(_settings(store, base_url), COLLECTION):
        if out.status not in ('ok', 'notneeded'):
            raise SystemExit(f'{out.status}: {out.message}')
        if isinstance(out, CollectionOutcome):
            url = out.url
    assert url
    return url


def plain_reference(root: Path, n: int, base_url: str) -> str:
    """A superdataset of ``n`` plain DataLad datasets (no special remotes),
    as bare repositories under ``root``; its clone URL."""
    work = root / 'work'
    work.mkdir(parents=True)
    env = user_env(root / 'home-build')
    gitmodules = []
    links = []
    for i in range(n):
        name = f'REF-{i + 1:04d}'
        ds = work / name
        run(['git', 'init', '-q', '-b', 'main', str(ds)], root, env)
        run(['git', 'annex', 'init', '-q'], ds, env)
        (ds / '.datalad').mkdir()
        (ds / '.datalad' / 'config').write_text(
            f'[datalad "dataset"]\n\tid = 00000000-0000-0000-0000-{i + 1:012d}\n'
        )
        run(['git', 'add', '.datalad'], ds, env)
        run(['git', 'commit', '-q', '-m', 'plain dataset'], ds, env)
        bare = root / f'{name}.git'
        run(['git', 'clone', '-q', '--bare', str(ds), str(bare)], root, env)
        run(['git', 'fetch', '-q', str(ds), 'git-annex:git-annex'], bare, env)
        run(['git', 'remote', 'remove', 'origin'], bare, env)
        run(['git', 'update-server-info'], bare, env)
        sha = run(['git', 'rev-parse', 'HEAD'], ds, env).strip()
        gitmodules.append(
            f'[submodule "{name}"]\n\tpath = {name}\n\turl = {base_url}/{name}.git\n'
            f'\tdatalad-id = 00000000-0000-0000-0000-{i + 1:012d}\n'
        )
        links.append(f'160000 {sha}\t{name}\n')
    sup = work / 'super'
    run(['git', 'init', '-q', '-b', 'main', str(sup)], root, env)
    run(['git', 'annex', 'init', '-q'], sup, env)
    (sup / '.gitmodules').write_text(''.join(gitmodules))
    run(['git', 'update-index', '--add', '--index-info'], sup, env, ''.join(links))
    run(['git', 'add', '.gitmodules'], sup, env)
    run(['git', 'commit', '-q', '-m', 'superdataset'], sup, env)
    bare = root / 'super.git'
    run(['git', 'clone', '-q', '--bare', str(sup), str(bare)], root, env)
    run(['git', 'fetch', '-q', str(sup), 'git-annex:git-annex'], bare, env)
    run(['git', 'remote', 'remove', 'origin'], bare, env)
    run(['git', 'update-server-info'], bare, env)
    shutil.rmtree(work)
    return f'{base_url}/super.git'


def user_env(home: Path) -> dict[str, str]:
    """A user on another machine: an empty HOME with a git identity (and
    loopback allowed for git-annex's own HTTP client)."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / '.gitconfig'
    gitconfig.write_text(
        '[user]\n\tname = U\n\temail = u@example.org\n'
        '[annex "security"]\n\tallowed-ip-addresses = 127.0.0.1\n'
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('GIT_', 'DATALAD_'))
    }
    env.update(
        HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM='1'
    )
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env["PATH"]}'
    return env


def run(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str | None = None
) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f'{args} failed:\n{proc.stdout}\n{proc.stderr}')
    return proc.stdout


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    run(args, cwd, env)
    return time.perf_counter() - start


def install(url: str, where: Path, n: int) -> tuple[float, float]:
    """Seconds to clone ``url`` and per patient dataset for ``datalad get
    -n -r .`` in a fresh HOME."""
    where.mkdir(parents=True)
    env = user_env(where / 'home')
    clone = timed([DATALAD, 'clone', url, str(where / 'c')], where, env)
    got = timed([DATALAD, 'get', '-n', '-r', '.'], where / 'c', env)
    installed = len(list((where / 'c').glob('*/.git')))
    if installed != n:
        raise SystemExit(f'{installed} of {n} datasets installed from {url}')
    return clone, got / n


def install_deposits(base_url: str, where: Path, n: int) -> float:
    """Seconds per patient of ``datalad clone`` of its ``datalad-annex::``
    deposit (what ``datalad get -n`` did per patient before)."""
    where.mkdir(parents=True)
    env = user_env(where / 'home')
    total = 0.0
    for i in range(n):
        relpath = StoreLayout(Path(), COLLECTION).patient_export(f'BENCH-{i + 1:04d}')
        url = deposit_url(base_url, relpath.relpath)
        total += timed([DATALAD, 'clone', url, str(where / f'p{i}')], where, env)
    return total / n


def threads(urls: list[str], where: Path, n: int = 8) -> float:
    """Seconds for ``n`` plain threads (one keep-alive connection each) to
    fetch ``urls`` into files under ``where``."""
    where.mkdir(parents=True)
    parts = [urls[i::n] for i in range(n)]

    def fetch(i: int) -> None:
        split = urlsplit(parts[i][0])
        conn = http.client.HTTPConnection(split.hostname, split.port)
        for k, url in enumerate(parts[i]):
            conn.request('GET', urlsplit(url).path)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:  # noqa: PLR2004
                raise SystemExit(f'{url}: {resp.status}')
            (where / f'{i}-{k}.dcm').write_bytes(data)
        conn.close()

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(fetch, range(n)))
    return time.perf_counter() - start


def get_all(url: str, where: Path, jobs: int, paths: list[str]) -> tuple[float, int]:
    """Seconds of ``datalad get -r -J jobs PATHS`` in a fresh clone of
    ``url`` (installing included), and the files it then holds."""
    where.mkdir(parents=True)
    env = user_env(where / 'home')
    run([DATALAD, 'clone', url, str(where / 'c')], where, env)
    seconds = timed([DATALAD, 'get', '-r', '-J', str(jobs), *paths], where / 'c', env)
    files = [
        p
        for p in (where / 'c').rglob('*.dcm')
        if '.git' not in p.relative_to(where / 'c').parts and p.exists()
    ]
    return seconds, len(files)


def get_per_dataset(url: str, where: Path, jobs: int) -> tuple[float, float, int]:
    """In a fresh clone of ``url`` with every patient installed (``datalad
    get -n -r .``): seconds of ``git annex get -J jobs .`` in each patient
    dataset one after the other (git-annex's own floor), then, dropped
    again, of ``datalad foreach-dataset -J 2`` running it in two datasets
    at once; and the files each run got."""
    where.mkdir(parents=True)
    env = user_env(where / 'home')
    clone = where / 'c'
    run([DATALAD, 'clone', url, str(clone)], where, env)
    run([DATALAD, 'get', '-n', '-r', '.'], clone, env)
    subs = sorted(p.parent for p in clone.glob('*/.git'))
    annex = sum(
        timed(['git', 'annex', 'get', '-q', '-J', str(jobs), '.'], sub, env)
        for sub in subs
    )
    for sub in subs:
        run(['git', 'annex', 'drop', '-q', '--force', '.'], sub, env)
    both = timed(
        [DATALAD, 'foreach-dataset', '--subdatasets-only', '-J', '2',
         'git', 'annex', 'get', '-q', '-J', str(jobs), '.'],
        clone,
        env,
    )  # fmt: skip
    files = sum(
        1
        for p in clone.rglob('*.dcm')
        if '.git' not in p.relative_to(clone).parts and p.exists()
    )
    return annex, both, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--install', type=int, nargs='+', default=[32, 100])
    parser.add_argument('--get', default='8x100', help='PATIENTSxFILES')
    parser.add_argument('--lidc-get', type=int, default=8, metavar='PATIENTS')
    parser.add_argument('--jobs', type=int, default=4)
    parser.add_argument('--before', type=int, default=3, metavar='PATIENTS')
    parser.add_argument('--server', choices=('s3', 'static'), default='s3')
    args = parser.parse_args()
    lidc = Shape(*SHAPES['lidc-idri'])
    n_get, files_get = (int(x) for x in args.get.split('x'))
    flat = Shape(n_get, n_get, n_get, n_get * files_get)
    with tempfile.TemporaryDirectory(prefix='bench-consumer-') as tmpdir:
        tmp = Path(tmpdir)
        with ExitStack() as stack:
            www = stack.enter_context(serve(partial(Quiet, directory=str(tmp))))
            s3 = stack.enter_context(S3Lookalike()) if args.server == 's3' else None
            objects = s3.endpoint if s3 else stack.enter_context(serve(Objects))
            print(
                f'objects on {objects} ({args.server}, files of {FILE_SIZE:,} B), '
                f'stores on {www} and file://{tmp}'
            )
            print('\n## install: datalad clone + datalad get -n -r . (fresh HOME)')
            print(
                '| collection | store | clone s | s per patient dataset | '
                'plain DataLad subdataset | ratio |'
            )
            print('|---|---|---|---|---|---|')
            for n in args.install:
                meta = tmp / f'meta-{n}'
                write_records(meta, lidc, n, objects)
                for scheme in ('file', 'http'):
                    store = tmp / f'store-{n}-{scheme}'
                    shutil.copytree(meta, store)
                    base = store.as_uri() if scheme == 'file' else f'{www}/{store.name}'
                    url = build(store, base)
                    ref_root = tmp / f'ref-{n}-{scheme}'
                    ref_base = (
                        ref_root.as_uri()
                        if scheme == 'file'
                        else f'{www}/{ref_root.name}'
                    )
                    ref = plain_reference(ref_root, n, ref_base)
                    clone, per = install(url, tmp / f'i-{n}-{scheme}', n)
                    _, ref_per = install(ref, tmp / f'r-{n}-{scheme}', n)
                    print(
                        f'| LIDC-IDRI first {n} | {scheme}:// | {clone:.2f} | '
                        f'**{per:.3f}** | {ref_per:.3f} | {per / ref_per:.2f} |',
                        flush=True,
                    )
                    if args.before and n == args.install[0]:
                        old = install_deposits(
                            base, tmp / f'd-{n}-{scheme}', args.before
                        )
                        print(
                            f'| (the datalad-annex:: deposits, {args.before} '
                            f'patients cloned) | {scheme}:// | | {old:.3f} | | |',
                            flush=True,
                        )
            print(
                f'\n## get: datalad get -r -J {args.jobs} (fresh clone, from IDC URLs)'
            )
            print(
                '| collection | selection | files | datalad s | files/s | '
                '8 threads files/s | ratio | overhead s per dataset |'
            )
            print('|---|---|---|---|---|---|---|---|')
            cases = [(f'{n_get} patients x {files_get} files', flat, n_get)]
            if args.lidc_get:
                cases.append((f'LIDC-IDRI first {args.lidc_get}', lidc, args.lidc_get))
            for label, shape, n in cases:
                store = tmp / f'get-{n}-{shape.files}'
                urls = write_records(store, shape, n, objects)
                if s3:
                    fill_s3(s3, urls)
                url = build(store, store.as_uri())
                t_threads = threads(urls, tmp / f'threads-{n}-{shape.files}')
                shutil.rmtree(tmp / f'threads-{n}-{shape.files}')
                rate_threads = len(urls) / t_threads
                selections = [('everything (.)', ['.'], n)]
                if n > 2:  # noqa: PLR2004
                    selections.append(('two patients', ['BENCH-0001', 'BENCH-0002'], 2))
                for name, paths, n_ds in selections:
                    where = tmp / f'g-{n}-{shape.files}-{len(paths)}'
                    seconds, got = get_all(url, where, args.jobs, paths)
                    share = got / len(urls)
                    rate = got / seconds
                    overhead = (seconds - t_threads * share) / n_ds
                    print(
                        f'| {label} | {name} | {got} | {seconds:.1f} | {rate:.0f} | '
                        f'{rate_threads:.0f} | **{rate / rate_threads:.2f}** | '
                        f'{overhead:.2f} |',
                        flush=True,
                    )
                    shutil.rmtree(where)
                where = tmp / f'a-{n}-{shape.files}'
                annex, both, got = get_per_dataset(url, where, args.jobs)
                for name, seconds in (
                    (f'git annex get -J {args.jobs}, dataset by dataset', annex),
                    ('datalad foreach-dataset -J 2 git annex get', both),
                ):
                    print(
                        f'| {label} | {name} (installed) | {got} | {seconds:.1f} | '
                        f'{got / seconds:.0f} | {rate_threads:.0f} | '
                        f'**{got / seconds / rate_threads:.2f}** | '
                        f'{(seconds - t_threads * got / len(urls)) / n:.2f} |',
                        flush=True,
                    )
                shutil.rmtree(where)
        print(
            '\nratio: datalad over the reference beside it, measured in this run; '
            'overhead: (datalad s - threads s for the same files) per patient dataset'
        )


if __name__ == '__main__':
    main()
