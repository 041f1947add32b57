"""Seconds per added patient of ``datalad tcia-add`` on the look-alike.

A look-alike collection of N patients with one 4-file CT series each
(``LOOKALIKE-COHORT``) is added end to end by ``datalad tcia-add`` (plan,
download, metadata, patient datasets and exports, superdataset, catalog,
verified archive deletion) into a fresh store, for each N. With
``--baseline REV``, the same is timed, in the same run, with the code of
git revision REV (checked out into a temporary worktree and put first on
``PYTHONPATH``), and the ratio printed.

Run: ``python benchmarks/bench_add.py [--patients 8 32] [--baseline 48db04e]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import build_cohort

DATALAD = str(Path(sys.executable).parent / 'datalad')
ROOT = Path(__file__).resolve().parent.parent


def add(srv: LookalikeServer, n: int, code: Path | None) -> float:
    """Seconds per patient of one ``tcia-add`` of the cohort."""
    env = dict(os.environ)
    if code is not None:
        env['PYTHONPATH'] = str(code)
    with tempfile.TemporaryDirectory(prefix='bench-add-') as tmp:
        start = time.perf_counter()
        proc = subprocess.run(
            [
                DATALAD,
                'tcia-add',
                '--collection',
                'LOOKALIKE-COHORT',
                '--store',
                f'{tmp}/store',
                '--api-url',
                srv.api_url,
                '--datacite-url',
                srv.datacite_url,
            ],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f'tcia-add failed:\n{proc.stdout}\n{proc.stderr}')
    return elapsed / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--patients', type=int, nargs='+', default=[8, 32])
    parser.add_argument('--baseline', metavar='REV')
    args = parser.parse_args()
    for key in ('GIT_AUTHOR', 'GIT_COMMITTER'):
        os.environ.setdefault(f'{key}_NAME', 'bench')
        os.environ.setdefault(f'{key}_EMAIL', 'bench@example.org')
    with tempfile.TemporaryDirectory(prefix='bench-add-code-') as codedir:
        baseline = None
        if args.baseline:
            baseline = Path(codedir) / 'baseline'
            subprocess.run(
                ['git', 'worktree', 'add', '--detach', str(baseline), args.baseline],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        try:
            for n in args.patients:
                with LookalikeServer(Archive([build_cohort(n)])) as srv:
                    now = add(srv, n, None)
                    line = f'{n:4d} patients x 4 files: {now:6.2f} s per added patient'
                    if baseline is not None:
                        old = add(srv, n, baseline)
                        line += (
                            f' | {args.baseline}: {old:6.2f} s per added patient '
                            f'-> {old / now:5.1f}x'
                        )
                    print(line, flush=True)
        finally:
            if baseline is not None:
                subprocess.run(
                    ['git', 'worktree', 'remove', '--force', str(baseline)],
                    cwd=ROOT,
                    check=False,
                )
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
