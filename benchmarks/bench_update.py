"""``tcia-add --update`` of an unchanged 1,000-patient collection: time and
NBIA calls, side by side with what the same check cost by walking every
dataset (``tcia-deposit-dataset``).

A look-alike collection of N patients with one 1-file CT series each
(``LOOKALIKE-COHORT``; TCIA's median collection has 60 patients, its 90th
percentile 632, ``shared/reference/idc-sources.md``) is added once, then
checked again.

Run: ``python benchmarks/bench_update.py [--patients 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import build_cohort

DATALAD = str(Path(sys.executable).parent / 'datalad')
NAME = 'LOOKALIKE-COHORT'


def _run(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(
            f'{argv} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}'
        )
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--patients', type=int, default=1000)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    for key in ('GIT_AUTHOR', 'GIT_COMMITTER'):
        os.environ.setdefault(f'{key}_NAME', 'bench')
        os.environ.setdefault(f'{key}_EMAIL', 'bench@example.org')
    archive = Archive([build_cohort(args.patients, files=1, name=NAME)])
    with (
        LookalikeServer(archive=archive) as srv,
        tempfile.TemporaryDirectory(prefix='bench-update-') as tmpdir,
    ):
        tmp = Path(tmpdir)
        store = tmp / 'store'
        common = ['--store', str(store), '--api-url', srv.api_url, '--no-idc']
        first = _run(
            [DATALAD, 'tcia-add', '--collection', NAME, '-J', '2', *common,
             '--datacite-url', srv.datacite_url],
            tmp,
        )  # fmt: skip
        print(f'{args.patients} patients, one 1-file series each')
        print(f'first add: {first:.0f} s')
        update, walk = [], []
        calls: Counter[str] = Counter()
        for _ in range(args.repeat):
            srv.reset()
            update.append(_run([DATALAD, 'tcia-add', '--update', *common], tmp))
            calls = Counter(r.endpoint for r in srv.requests())
            walk.append(
                _run(
                    [
                        DATALAD,
                        'tcia-deposit-dataset',
                        '--collection',
                        NAME,
                        '--store',
                        str(store),
                        '--no-idc',
                    ],
                    tmp,
                )  # fmt: skip
            )
        print(f'{"":>40} {"best of " + str(args.repeat):>12}')
        print(f'{"tcia-add --update (nothing changed)":>40} {min(update):10.1f} s')
        print(f'{"every dataset walked (deposit-dataset)":>40} {min(walk):10.1f} s')
        print(f'{"ratio":>40} {min(walk) / min(update):10.1f} x')
        print(
            'NBIA calls of one --update: '
            + ', '.join(f'{k} {v}' for k, v in sorted(calls.items()))
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
