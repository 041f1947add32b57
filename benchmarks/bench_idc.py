"""What ``datalad get`` costs before and after per-file sources come first,
and ``tcia-ls`` via NBIA against ``--index idc``, side by side.

Retrieval: a look-alike series of 24 files of 531 KB each (LIDC-IDRI's
mean file size: 130 GB in 244,527 files) is added three ways into fresh
stores, archives deleted:

- *before*: with the code of ``--baseline REV`` (a git worktree first on
  ``PYTHONPATH``): ``uncurl`` and ``archivist`` have the same cost;
- *after, NBIA*: this code with ``--no-idc`` (``getSingleImage`` first);
- *after, IDC*: this code with IDC's side (an index parquet, the files in
  an S3 look-alike) configured.

For each, a clone in a fresh HOME gets one file, then everything
(``get -r``): the bytes the servers sent (NBIA look-alike plus S3; for
``get -r``, against the other 23 files' bytes) and the bytes in the
clone's ``.git/annex/objects``.

Listing: ``datalad tcia-ls --collection X`` against the look-alike's NBIA
and with ``--index idc`` over an index of the same collection, for a
collection of LIDC-IDRI's shape (1,010 patients, 1,308 series), as a
command and in-process; and the installed idc-index-data answering for
the real LIDC-IDRI.

Run: ``python benchmarks/bench_idc.py [--baseline 7524a49] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import build_large_collection, collection_from_spec
from tcia_lookalike.idc import S3Lookalike
from tcia_lookalike.idc_index import write_index
from tcia_lookalike.synthesis import SeriesRecipe

DATALAD = str(Path(sys.executable).parent / 'datalad')
ROOT = Path(__file__).resolve().parent.parent
FILE_BYTES = 531_000
FILES = 24


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise SystemExit(f'{args} failed:\n{proc.stdout}\n{proc.stderr}')
    return proc.stdout


def _fresh_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True)
    (home / '.gitconfig').write_text(
        '[user]\n\tname = B\n\temail = b@example.org\n[init]\n\tdefaultBranch = main\n'
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('GIT_', 'DATALAD_'))
    }
    env['HOME'] = str(home)
    return env


def _objects(clone: Path) -> int:
    root = clone / '.git' / 'annex' / 'objects'
    return sum(p.stat().st_size for p in root.rglob('*') if p.is_file())


def retrieval(
    srv: LookalikeServer,
    s3: S3Lookalike,
    tmp: Path,
    label: str,
    env: dict[str, str],
    extra: list[str],
) -> dict[str, int]:
    store = tmp / f'store-{label}'
    _run(
        [
            DATALAD,
            'tcia-add',
            '--collection',
            'LOOKALIKE-LARGE',
            '--store',
            str(store),
            '--api-url',
            srv.api_url,
            '--datacite-url',
            srv.datacite_url,
            *extra,
        ],
        tmp,
        env,
    )
    deposit = next((store / 'lookalike_large' / 'datasets').glob('*_XDLRA--refs'))
    url = (
        'datalad-annex::?type=external&externaltype=uncurl&encryption=none'
        f'&url={deposit.parent.as_uri()}/'
        f'{deposit.name.split("_XDLRA")[0]}_{{{{annex_key}}}}'
    )
    cenv = _fresh_env(tmp / f'home-{label}')
    clone = tmp / f'clone-{label}'
    _run([DATALAD, 'clone', url, str(clone)], tmp, cenv)
    files = sorted(
        p for p in clone.rglob('*.dcm') if '.git' not in p.relative_to(clone).parts
    )
    srv.reset()
    s3.reset()
    _run([DATALAD, 'get', str(files[0])], clone, cenv)
    one = {
        'file': files[0].stat().st_size,
        'sent_one': sum(e.bytes_sent for e in srv.requests()) + s3.bytes_sent(),
        'disk_one': _objects(clone),
    }
    srv.reset()
    s3.reset()
    _run([DATALAD, 'get', '-r', '.'], clone, cenv)
    return {
        **one,
        'files': sum(p.stat().st_size for p in files),
        'sent_all': sum(e.bytes_sent for e in srv.requests()) + s3.bytes_sent(),
        'disk_all': _objects(clone),
        's3_all': s3.bytes_sent(),
    }


def _cohort(patients: int, series_per_patient: list[int]) -> Archive:
    """A collection of LIDC-IDRI's shape: ``patients`` patients, some with
    two series (1,308 series for 1,010 patients), one file per series."""
    spec = {
        'name': 'LOOKALIKE-LIDC-SHAPE',
        'license': (
            'Creative Commons Attribution 3.0 Unported License',
            'http://creativecommons.org/licenses/by/3.0/',
        ),
        'doi': '10.7937/tcia.lookalike.lidc-shape',
        'patients': [
            {
                'id': f'LIDC-SHAPE-{i:04d}',
                'sex': 'O',
                'studies': [
                    (
                        date(2001, 1, 1 + (i + j) % 28),
                        'Chest CT',
                        [SeriesRecipe('CT_small.dcm', 'CT', 'Axial', 1, 'CHEST')],
                    )
                    for j in range(series_per_patient[i])
                ],
            }
            for i in range(patients)
        ],
    }
    return Archive([collection_from_spec(spec)])


def listing(tmp: Path, repeat: int) -> None:
    from datalad_tcia.idc import IdcIndex
    from datalad_tcia.nbia import NbiaClient
    from datalad_tcia.pipeline.select import resolve_selection
    from datalad_tcia.pipeline.selection import Selection

    patients, series = 1010, 1308
    per = [2 if i < series - patients else 1 for i in range(patients)]
    archive = _cohort(patients, per)
    index_path = write_index(archive, tmp / 'lidc' / 'idc_index.parquet')
    name = 'LOOKALIKE-LIDC-SHAPE'
    with LookalikeServer(archive=archive) as srv:
        env = dict(os.environ, DATALAD_TCIA_IDC__INDEX=str(index_path))
        argv = [DATALAD, 'tcia-ls', '--collection', name, '--api-url', srv.api_url]
        cli: dict[str, list[float]] = {'nbia': [], 'idc': []}
        calls: dict[str, list[float]] = {'nbia': [], 'idc': []}
        client = NbiaClient(srv.api_url)
        index = IdcIndex(index_path)
        sel = Selection(collection=name)
        for _ in range(repeat):
            for mode, extra in (('nbia', []), ('idc', ['--index', 'idc'])):
                start = time.perf_counter()
                _run([*argv, *extra], tmp, env)
                cli[mode].append(time.perf_counter() - start)
            for mode, source in (('nbia', client), ('idc', index)):
                start = time.perf_counter()
                res = resolve_selection(source, sel)
                calls[mode].append(time.perf_counter() - start)
                assert len(res.series) == series, (mode, len(res.series))
    best = {k: min(v) for k, v in cli.items()}
    inproc = {k: min(v) for k, v in calls.items()}
    print(
        f'\ntcia-ls --collection (look-alike, {patients} patients, {series} series; '
        f'best of {repeat})'
    )
    print(f'{"":>24} {"NBIA":>9} {"--index idc":>12} {"ratio":>7}')
    print(
        f'{"command (s)":>24} {best["nbia"]:9.2f} {best["idc"]:12.2f} '
        f'{best["nbia"] / best["idc"]:7.1f}'
    )
    print(
        f'{"resolve, in-process (s)":>24} {inproc["nbia"]:9.3f} {inproc["idc"]:12.3f} '
        f'{inproc["nbia"] / inproc["idc"]:7.1f}'
    )
    real = IdcIndex()
    start = time.perf_counter()
    res = resolve_selection(real, Selection(collection='LIDC-IDRI'))
    took = time.perf_counter() - start
    print(
        f'idc-index-data {real.version}, real LIDC-IDRI: {len(res.series)} series of '
        f'{len({s.patient_id for s in res.series})} patients in {took * 1000:.0f} ms'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--baseline', metavar='REV', default='7524a49')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    for key in ('GIT_AUTHOR', 'GIT_COMMITTER'):
        os.environ.setdefault(f'{key}_NAME', 'bench')
        os.environ.setdefault(f'{key}_EMAIL', 'bench@example.org')
    archive = Archive(
        [build_large_collection(FILES * FILE_BYTES, file_bytes=FILE_BYTES)]
    )
    with tempfile.TemporaryDirectory(prefix='bench-idc-') as tmpdir:
        tmp = Path(tmpdir)
        baseline = tmp / 'baseline'
        subprocess.run(
            ['git', 'worktree', 'add', '--detach', str(baseline), args.baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        index = write_index(archive, tmp / 'idx' / 'idc_index.parquet')
        try:
            with LookalikeServer(archive=archive) as srv, S3Lookalike() as s3:
                s3.fill(archive)
                base = dict(os.environ, DATALAD_TCIA_IDC__ENDPOINT='http://127.0.0.1:9')
                idc = dict(
                    os.environ,
                    DATALAD_TCIA_IDC__INDEX=str(index),
                    DATALAD_TCIA_IDC__ENDPOINT=s3.endpoint,
                )
                rows = {
                    f'before ({args.baseline})': retrieval(
                        srv, s3, tmp, 'before', dict(base, PYTHONPATH=str(baseline)), []
                    ),
                    'after, NBIA only': retrieval(
                        srv, s3, tmp, 'nbia', base, ['--no-idc']
                    ),
                    'after, with IDC': retrieval(srv, s3, tmp, 'idc', idc, []),
                }
        finally:
            subprocess.run(
                ['git', 'worktree', 'remove', '--force', str(baseline)],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
        one = next(iter(rows.values()))
        print(
            f'one series of {FILES} files, {one["files"] / 1e6:.1f} MB '
            f'({FILE_BYTES / 1e3:.0f} KB a file)'
        )
        print(
            f'{"":>22} {"get 1 file: sent":>17} {"x file":>7} {"clone disk":>11} '
            f'{"get -r: sent":>13} {"x rest":>8} {"clone disk":>11} {"from S3":>8}'
        )
        for label, r in rows.items():
            print(
                f'{label:>22} {r["sent_one"]:17,d} {r["sent_one"] / r["file"]:7.2f} '
                f'{r["disk_one"]:11,d} {r["sent_all"]:13,d} '
                f'{r["sent_all"] / (r["files"] - r["file"]):8.2f} '
                f'{r["disk_all"]:11,d} '
                f'{r["s3_all"] / max(1, r["sent_all"]):8.0%}'
            )
        listing(tmp, args.repeat)
    return 0


if __name__ == '__main__':
    sys.exit(main())
