"""Building the dataset of an analysis result from IDC, header only, side
by side with downloading it whole with s5cmd (what ``idc download
dicom_lidc_idri_nodules`` runs), in one run.

The analysis result has the shape of ``dicom_lidc_idri_nodules`` (IDC
v25: 875 patients, 13,718 series of one object each, 2.45 GB, SEG and
SR): per patient ``--per-patient`` objects (16), a SEG of a nodule (10
bit-packed 512 x 512 frames: 320 KB of pixels behind an 8 KB header of
per-frame groups) and the SR of its measurements (about 30 KB, no pixel
data: read whole) in turn, each referencing the patient's CT series. An
S3 look-alike (``s3_files.py``) serves them from loopback, with
``--delay`` seconds added to every answer to model a real link; the
look-alike serves DataCite. Then:

- ``datalad tcia-add --analysis-result ... --index idc --source idc``
  (its datasets, references resolved, catalog: the whole build);
- ``s5cmd run`` of a manifest of the same objects (every byte).

Printed: wall time, bytes the server sent and their share of the
analysis result's size, for each; and the share scaled to the real
``dicom_lidc_idri_nodules``.

Run: ``python benchmarks/bench_analysis.py [--patients 40] [-J 32] [--delay 0.02]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_consumer import user_env  # noqa: E402
from bench_get import S5CMD  # noqa: E402
from s3_files import serve as serve_s3  # noqa: E402
from tcia_lookalike import LookalikeServer  # noqa: E402
from tcia_lookalike.analysis import build_shaped_analysis  # noqa: E402
from tcia_lookalike.data import Archive  # noqa: E402
from tcia_lookalike.holdings import build_cohort  # noqa: E402
from tcia_lookalike.idc_index import BUCKET, instance_key, write_index  # noqa: E402

#: the real analysis result (IDC v25)
REAL = ('dicom_lidc_idri_nodules', 875, 13_718, 2.45e9)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    records = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith('{')]
    bad = [r for r in records if r.get('status') not in ('ok', 'notneeded')]
    if proc.returncode or bad:
        raise SystemExit(f'{argv[:4]} failed: {bad[:2] or proc.stderr[-2000:]}')
    return wall, records


def user_costs(datalad: str, tmp: Path, ident: str) -> dict[str, float]:
    """Seconds of ``datalad clone`` of the analysis result's dataset (as
    a user elsewhere: IDC's endpoint is what the files record),
    ``datalad get -n`` of its first patient and ``datalad get`` of that
    patient's files (from the S3 look-alike)."""
    clone = tmp / 'clone'
    url = (tmp / 'store' / ident / 'collection.git').as_uri()
    env = user_env(tmp / 'home')  # a user elsewhere (loopback allowed)
    out = {}
    start = time.perf_counter()
    subprocess.run([datalad, 'clone', url, str(clone)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    out['clone'] = time.perf_counter() - start
    repos = (tmp / 'store' / ident / 'repos').iterdir()
    patient = min(
        p.name for p in repos if p.name != 'collection' and not p.name.startswith('.')
    )
    for label, argv in (
        ('get -n patient', [datalad, 'get', '-n', patient]),
        ('get its 16 files', [datalad, 'get', patient]),
    ):
        start = time.perf_counter()
        proc = subprocess.run(
            argv, check=False, cwd=clone, env=env, capture_output=True, text=True
        )
        if proc.returncode:
            raise SystemExit(f'{argv[1:]}: {proc.stdout[-1500:]}{proc.stderr[-1500:]}')
        out[label] = time.perf_counter() - start
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--patients', type=int, default=40)
    parser.add_argument('--per-patient', type=int, default=16)
    parser.add_argument('-J', '--jobs', type=int, default=32)
    parser.add_argument('--delay', type=float, default=0.0)
    args = parser.parse_args()
    datalad = str(Path(sys.executable).with_name('datalad'))
    archive = Archive([build_cohort(args.patients, 4, name='LIDC-SHAPE')])
    analysis = build_shaped_analysis(
        archive, 'LIDC-SHAPE', per_patient=args.per_patient
    )
    objects = [(s, i) for s in analysis.series for i in s.instances]
    size = sum(i.size for _, i in objects)
    print(
        f'{analysis.ident}: {args.patients} patients, {len(analysis.series)} series, '
        f'{len(objects)} objects, {size / 1e6:.1f} MB '
        f'(mean {size / len(objects) / 1e3:.0f} KB; '
        f'real: {REAL[3] / REAL[2] / 1e3:.0f} KB)',
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix='bench-analysis-') as tmpdir:
        tmp = Path(tmpdir)
        index = write_index(archive, tmp / 'idx' / 'idc_index.parquet')
        with LookalikeServer(archive) as srv, serve_s3(archive) as (endpoint, objs):
            if args.delay:
                objs.delay = args.delay
            env = dict(
                os.environ,
                DATALAD_TCIA_IDC__INDEX=str(index),
                DATALAD_TCIA_IDC__ENDPOINT=endpoint,
            )
            stats = f'{endpoint}/__stats'
            before = requests.get(stats, timeout=10).json()
            wall, records = run(
                [datalad, '-f', 'json', 'tcia-add', '--analysis-result', analysis.ident,
                 '--index', 'idc', '--source', 'idc', '--store', str(tmp / 'store'),
                 '--api-url', srv.api_url, '--datacite-url', srv.datacite_url,
                 '-J', str(args.jobs)],
                env,
            )  # fmt: skip
            after = requests.get(stats, timeout=10).json()
            nbia = [r for r in srv.requests() if r.endpoint != 'dois']
            moved = after['bytes'] - before['bytes']
            manifest = tmp / 'manifest.s5cmd'
            out = tmp / 's5cmd'
            out.mkdir()
            manifest.write_text(
                ''.join(
                    f'cp s3://{BUCKET}/{instance_key(s, i)} {out}/{i.sop_uid}.dcm\n'
                    for s, i in objects
                )
            )
            start = time.perf_counter()
            subprocess.run(
                [S5CMD, '--no-sign-request', '--endpoint-url', endpoint,
                 '--numworkers', str(args.jobs), 'run', str(manifest)],
                check=True, capture_output=True,
            )  # fmt: skip
            s5_wall = time.perf_counter() - start
            s5_moved = requests.get(stats, timeout=10).json()['bytes'] - after['bytes']
            got = sum(p.stat().st_size for p in out.iterdir())
            if got != size:
                raise SystemExit(f's5cmd wrote {got} bytes of {size}')
            shutil.rmtree(out)
            user = user_costs(datalad, tmp, analysis.ident)
    series = [r for r in records if r.get('action') == 'tcia_download']
    print(
        f'NBIA requests during the build: {len(nbia)}; series acquired: {len(series)}'
    )
    print(
        f'{"path":44} {"wall s":>7} {"objects/s":>9} {"bytes moved":>13} {"share":>7}'
    )
    for label, w, m in (
        (f'tcia-add --analysis-result, header only (-J {args.jobs})', wall, moved),
        (f's5cmd run, whole objects (--numworkers {args.jobs})', s5_wall, s5_moved),
    ):
        print(
            f'{label:44} {w:7.1f} {len(objects) / w:9.0f} {m:13,d} '
            f'{100 * m / size:6.2f}%'
        )
    print(
        '\nwhat a user pays (a clone of the analysis result, one patient): '
        + ', '.join(f'{k} {v:.2f} s' for k, v in user.items())
    )
    share = moved / size
    print(
        f'\n{REAL[0]} (real: {REAL[1]} patients, {REAL[2]:,d} objects, '
        f'{REAL[3] / 1e9:.2f} GB): the build would move about '
        f'{share * REAL[3] / 1e6:,.0f} MB ({100 * share:.1f} %) where a whole '
        f'download moves {REAL[3] / 1e9:.2f} GB; bytes ratio '
        f'{s5_moved / max(moved, 1):.1f}x; wall ratio (s5cmd over build, the '
        f'build includes datasets and catalog) {s5_wall / wall:.2f}'
    )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
