"""Metadata recording throughput against MD5 alone, side by side.

Builds a 2,000-file, ~80 MB DEFLATE ZIP of distinct DICOM files (pydicom's
CT_small with its own SOP UID each), then times in one run, alternating:

- ``md5``: every member read from the ZIP (inflate) and hashed with MD5 --
  the least any verifier must do;
- ``record``: :func:`datalad_tcia.archive.index_archive`, which reads each
  member once for size, MD5 and DICOM header, with 1 worker and with the
  default (all CPUs);

and prints throughputs and their ratio to MD5 alone (target >= 0.5).

Run: ``python benchmarks/bench_metadata.py [--files 2000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tempfile
import time
import zipfile
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from datalad_tcia.archive import index_archive
from datalad_tcia.archive.members import available_cpus


def build_archive(path: Path, files: int) -> int:
    """Write the test archive; return the total uncompressed size."""
    src = get_testdata_file('CT_small.dcm', download=False)
    assert src is not None
    ds = pydicom.dcmread(src)
    total = 0
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(files):
            ds.SOPInstanceUID = generate_uid(entropy_srcs=['bench', str(i)])
            ds.InstanceNumber = i + 1
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=True)
            zf.writestr(f'1-{i + 1:04d}.dcm', buf.getvalue())
            total += len(buf.getvalue())
    return total


def md5_only(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            with zf.open(info) as fp:
                md5 = hashlib.md5()
                while chunk := fp.read(4 * 1024 * 1024):
                    md5.update(chunk)
                md5.hexdigest()


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--files', type=int, default=2000)
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'series.zip'
        total = build_archive(path, args.files)
        print(
            f'archive: {args.files} DICOM files, {total / 1e6:.1f} MB uncompressed, '
            f'{path.stat().st_size / 1e6:.1f} MB ZIP; {available_cpus()} CPU(s)'
        )
        # warm caches and the worker pool
        md5_only(path)
        index_archive(path)
        best = {'md5': float('inf'), 'record-1': float('inf'), 'record': float('inf')}
        for _ in range(args.repeat):
            best['md5'] = min(best['md5'], timed(md5_only, path))
            best['record-1'] = min(
                best['record-1'], timed(index_archive, path, workers=1)
            )
            best['record'] = min(best['record'], timed(index_archive, path))
        for key, label in (
            ('md5', 'MD5 alone (inflate + MD5)'),
            ('record-1', 'metadata records, 1 worker'),
            ('record', f'metadata records, {available_cpus()} workers'),
        ):
            secs = best[key]
            print(
                f'{label:<32} {secs:7.3f} s  {total / secs / 1e6:7.1f} MB/s  '
                f'{args.files / secs:7.0f} files/s  ratio to MD5 '
                f'{best["md5"] / secs:.2f}'
            )
        ratio = best['md5'] / best['record']
        print(f'RESULT metadata/MD5 throughput ratio: {ratio:.2f} (target >= 0.5)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
