"""Peak memory while downloading a multi-gigabyte series, side by side.

Starts the TCIA look-alike in its own process with a series of
``--gigabytes`` of DICOM (collection LOOKALIKE-LARGE), then, one after the
other:

- ``datalad tcia-download`` of that collection into a temporary store
  (download, verification, metadata records);
- the naive recipe of tcia_utils-like clients: ``requests.get(url).content``
  written to a file;

and samples the resident memory of each process (and of its children, such
as indexing workers) every 20 ms. Target for datalad-tcia: < 150 MB.

Run: ``python benchmarks/bench_download_rss.py [--gigabytes 2.1]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = os.sysconf('SC_PAGE_SIZE')


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in Path(f'/proc/{pid}/task').iterdir():
            text = (task / 'children').read_text()
            out.extend(int(c) for c in text.split())
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        return int(Path(f'/proc/{pid}/statm').read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def run_sampled(cmd: list[str]) -> tuple[int, float, int, int]:
    """Run ``cmd``; return (exit code, seconds, peak RSS of the process,
    peak RSS of the process tree)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_main = peak_tree = 0
    while proc.poll() is None:
        main = _rss(proc.pid)
        tree = main
        todo = _children(proc.pid)
        while todo:
            child = todo.pop()
            tree += _rss(child)
            todo.extend(_children(child))
        peak_main = max(peak_main, main)
        peak_tree = max(peak_tree, tree)
        time.sleep(0.02)
    if proc.returncode:
        sys.stderr.write(proc.stderr.read().decode() if proc.stderr else '')
    return proc.returncode, time.monotonic() - start, peak_main, peak_tree


NAIVE = """
import sys, requests
url, path = sys.argv[1], sys.argv[2]
data = requests.get(url, timeout=600).content
open(path, 'wb').write(data)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--gigabytes', type=float, default=2.1)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / 'url'
        server = subprocess.Popen(
            [
                sys.executable,
                '-m',
                'tcia_lookalike',
                '--url-file',
                str(url_file),
                '--large-series-gb',
                str(args.gigabytes),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            while not url_file.exists():
                if server.poll() is not None:
                    return 1
                time.sleep(0.1)
            api = url_file.read_text().strip()
            from datalad_tcia.nbia import NbiaClient

            series = NbiaClient(api).get_series(collection='LOOKALIKE-LARGE')[0]
            size = series.file_size or 0
            print(f'series: {series.image_count} files, {size / 1e9:.2f} GB')
            rc, secs, main_peak, tree_peak = run_sampled(
                [
                    str(bindir / 'datalad'),
                    'tcia-download',
                    '--api-url',
                    api,
                    '--collection',
                    'LOOKALIKE-LARGE',
                    '--store',
                    str(Path(tmp) / 'store'),
                ]
            )
            print(
                f'datalad tcia-download   exit {rc}  {secs:6.1f} s  '
                f'{size / secs / 1e6:6.1f} MB/s  peak RSS {main_peak / 1e6:7.1f} MB '
                f'(with workers {tree_peak / 1e6:7.1f} MB)'
            )
            url = NbiaClient(api).image_url(series.series_uid)
            nrc, nsecs, naive_peak, _ = run_sampled(
                [sys.executable, '-c', NAIVE, url, str(Path(tmp) / 'naive.zip')]
            )
            print(
                f'requests .content       exit {nrc}  {nsecs:6.1f} s  '
                f'{size / nsecs / 1e6:6.1f} MB/s  peak RSS {naive_peak / 1e6:7.1f} MB'
            )
            print(
                f'RESULT peak RSS {main_peak / 1e6:.1f} MB (target < 150 MB), '
                f'{naive_peak / main_peak:.1f}x less than in-memory download'
            )
            return rc
        finally:
            server.terminate()
            server.wait()


if __name__ == '__main__':
    raise SystemExit(main())
