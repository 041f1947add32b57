"""Acquiring a LIDC-IDRI-shaped collection from IDC without pixel data,
side by side with downloading it from NBIA, in one run.

The collection has the first ``--patients`` patients of LIDC-IDRI's
shape (1,010 patients, 1,308 studies and series, 244,527 files; IDC
v25), each file a CT of about 525 KB (a 6 KB header and 512 x 512
16-bit pixels). A server process holds it twice: as the TCIA look-alike
(NBIA's ``getImage`` archives) and as an S3 look-alike with ``Range``
(``s3_files.py``: IDC's bucket layout, MD5 ETags), and writes the IDC
index. Then, one after the other:

- ``datalad tcia-download --index idc --source idc -J 32`` (no NBIA
  request: the listing gives each file's size and MD5, growing ``Range``
  reads its header);
- ``datalad tcia-download --source nbia -J 4`` (every archive downloaded,
  verified and indexed);

and prints, for each, wall time, files per second and the bytes the
servers sent, then the ratios and what the header-only path would cost
for all of TCIA (57.8 M files, 29.2 TB; IDC v25).

Run: ``python benchmarks/bench_idc_acquire.py [--patients 100] [-J 32]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_collection import SHAPES, Shape  # noqa: E402

COLLECTION = 'LIDC-SHAPE'
DOI = '10.7937/tcia.lookalike.lidc-shape'
#: all of TCIA's original data in IDC v25
TCIA_FILES = 57_832_262
TCIA_BYTES = 29.19e12


def serve(directory: Path, patients: int) -> None:
    """The server process: the collection as NBIA look-alike and S3
    look-alike; URLs and the index into ``directory``."""
    from s3_files import serve as serve_s3
    from tcia_lookalike import LookalikeServer
    from tcia_lookalike.data import Archive
    from tcia_lookalike.holdings import build_shaped_collection
    from tcia_lookalike.idc_index import write_index

    shape = Shape(*SHAPES['lidc-idri'])
    start = time.perf_counter()
    archive = Archive(
        [
            build_shaped_collection(
                COLLECTION, [shape.patient(i) for i in range(patients)], doi=DOI
            )
        ]
    )
    write_index(archive, directory / 'idc_index.parquet')
    files = sum(len(s.instances) for s in archive.iter_series())
    size = sum(i.size for s in archive.iter_series() for i in s.instances)
    with LookalikeServer(archive) as srv, serve_s3(archive) as (endpoint, _):
        facts = {
            'api_url': srv.api_url,
            'datacite_url': srv.datacite_url,
            'endpoint': endpoint,
            'files': files,
            'bytes': size,
            'series': sum(1 for _ in archive.iter_series()),
            'built_s': time.perf_counter() - start,
        }
        tmp = directory / 'facts.json.tmp'
        tmp.write_text(json.dumps(facts))
        tmp.replace(directory / 'facts.json')
        while not (directory / 'stop').exists():
            time.sleep(0.2)


def _download(argv: list[str], env: dict[str, str]) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    records = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith('{')]
    bad = [r for r in records if r.get('status') not in ('ok', 'notneeded')]
    if proc.returncode or bad:
        raise SystemExit(f'{argv[3]} failed: {bad[:2] or proc.stderr[-2000:]}')
    return wall, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--patients', type=int, default=100)
    parser.add_argument('-J', '--jobs', type=int, default=32)
    parser.add_argument('--nbia-jobs', type=int, default=4)
    parser.add_argument('--serve', type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.patients)
        return 0
    datalad = str(Path(sys.executable).with_name('datalad'))
    with tempfile.TemporaryDirectory(prefix='bench-idc-acquire-') as tmpdir:
        tmp = Path(tmpdir)
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                '--serve',
                str(tmp),
                '--patients',
                str(args.patients),
            ]
        )
        try:
            while not (tmp / 'facts.json').exists():
                if server.poll() is not None:
                    raise SystemExit('the server process ended')
                time.sleep(0.5)
            facts = json.loads((tmp / 'facts.json').read_text())
            print(
                f"{COLLECTION}: {args.patients} patients of LIDC-IDRI's shape, "
                f'{facts["series"]} series, {facts["files"]} files, '
                f'{facts["bytes"] / 1e9:.2f} GB (built in {facts["built_s"]:.0f} s)',
                flush=True,
            )
            env = dict(
                os.environ,
                DATALAD_TCIA_IDC__INDEX=str(tmp / 'idc_index.parquet'),
                DATALAD_TCIA_IDC__ENDPOINT=facts['endpoint'],
            )
            stats = f'{facts["endpoint"]}/__stats'
            common = ['-f', 'json', 'tcia-download', '--collection', COLLECTION]
            idc_wall, idc_records = _download(
                [
                    datalad,
                    *common,
                    '--store',
                    str(tmp / 'idc'),
                    '--api-url',
                    facts['api_url'],
                    '--index',
                    'idc',
                    '--source',
                    'idc',
                    '-J',
                    str(args.jobs),
                ],
                env,
            )
            idc_sent = requests.get(stats, timeout=10).json()
            nbia_wall, nbia_records = _download(
                [
                    datalad,
                    *common,
                    '--store',
                    str(tmp / 'nbia'),
                    '--api-url',
                    facts['api_url'],
                    '--source',
                    'nbia',
                    '--no-idc',
                    '-J',
                    str(args.nbia_jobs),
                ],
                env,
            )
        finally:
            (tmp / 'stop').write_text('')
            server.wait(timeout=60)
    files, size = facts['files'], facts['bytes']
    idc_bytes = idc_sent['bytes']
    nbia_bytes = sum(r.get('archive_size') or 0 for r in nbia_records)
    assert sum(1 for r in idc_records if r.get('source') == 'idc') == facts['series']
    rows = [
        (
            f'IDC, header only (-J {args.jobs})',
            idc_wall,
            idc_bytes,
            idc_sent['requests'],
        ),
        (f'NBIA, whole archives (-J {args.nbia_jobs})', nbia_wall, nbia_bytes, None),
    ]
    print(f'{"path":36} {"wall s":>8} {"files/s":>8} {"bytes moved":>13} {"share":>7}')
    for label, wall, moved, _ in rows:
        print(
            f'{label:36} {wall:8.1f} {files / wall:8.0f} {moved:13,d} '
            f'{100 * moved / size:6.2f}%'
        )
    n_requests = idc_sent['requests']
    print(f'requests to the S3 look-alike (listings and ranges): {n_requests:,d}')
    print(
        f'ratio: IDC {nbia_wall / idc_wall:.1f}x the files/s of NBIA, '
        f'{nbia_bytes / max(1, idc_bytes):.0f}x fewer bytes'
    )
    per_file = idc_bytes / files
    moved = per_file * TCIA_FILES
    hours = TCIA_FILES / (files / idc_wall) / 3600
    print(
        f'all of TCIA from IDC ({TCIA_FILES:,d} files): {per_file / 1e3:.1f} KB a '
        f'file = {moved / 1e9:,.0f} GB moved of {TCIA_BYTES / 1e12:.1f} TB '
        f'({100 * moved / TCIA_BYTES:.2f}%); {hours:,.0f} h in one '
        f'process at this rate, {hours / 100:.1f} h over 100 array tasks'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
