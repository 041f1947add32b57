"""Clone the collection dataset to where the user asked for it."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .outcomes import CloneOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.clone')


def _datalad() -> str:
    """The ``datalad`` of this Python environment (else the one on PATH)."""
    beside = Path(sys.executable).parent / 'datalad'
    return str(beside) if beside.exists() else 'datalad'


def clone_collection(url: str, target: Path) -> CloneOutcome:
    """``datalad clone`` the collection export at ``url`` into ``target``.

    A plain git URL (what the store's exports are) is cloned in-process.
    A ``datalad-annex::`` URL (a store of an earlier version) is cloned by
    a ``datalad`` process in a throw-away directory that is no git
    repository: datalad-next's ``datalad-annex::`` helper acts on the
    repository of the directory it runs in. A failed clone leaves nothing
    at ``target``.
    """
    target = target.absolute()
    if (target / '.git').exists():
        return CloneOutcome('notneeded', 'already cloned', target)
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith('datalad-annex::'):
        failure = _clone_elsewhere(url, target)
    else:
        failure = _clone_here(url, target)
    if failure is not None or not (target / '.git').exists():
        lgr.debug('clone of %s failed: %s', url, failure)
        if target.exists() and not existed:
            shutil.rmtree(target, ignore_errors=True)
        why = f': {failure.strip()[:300]}' if failure else ''
        return CloneOutcome(
            'error', f'cloning {url} failed{why}; check the URL and run again', target
        )
    return CloneOutcome(
        'ok',
        'collection dataset cloned; install patients with "datalad get -n <patient>"',
        target,
    )


def _clone_here(url: str, target: Path) -> str | None:
    """Clone in-process; what failed, or ``None``."""
    from datalad.api import clone

    results = clone(
        source=url,
        path=str(target),
        result_renderer='disabled',
        on_failure='ignore',
        return_type='list',
        result_xfm=None,
    )
    failed = [r for r in results if r.get('status') not in ('ok', 'notneeded')]
    return '; '.join(str(r.get('message')) for r in failed) if failed else None


def _clone_elsewhere(url: str, target: Path) -> str | None:
    """Clone with a ``datalad`` process run outside any repository."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [_datalad(), 'clone', url, str(target)],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    return proc.stderr or 'datalad clone failed' if proc.returncode else None
