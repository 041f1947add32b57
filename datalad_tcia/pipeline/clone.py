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
    """``datalad clone`` the collection deposit at ``url`` into ``target``.

    The clone runs in a throw-away directory that is no git repository:
    datalad-next's ``datalad-annex::`` helper acts on the repository of the
    directory it runs in. A failed clone leaves nothing at ``target``.
    """
    target = target.absolute()
    if (target / '.git').exists():
        return CloneOutcome('notneeded', 'already cloned', target)
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [_datalad(), 'clone', url, str(target)],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode or not (target / '.git').exists():
        lgr.debug('clone of %s failed: %s', url, proc.stderr)
        if target.exists() and not existed:
            shutil.rmtree(target, ignore_errors=True)
        return CloneOutcome('error', f'cloning {url} failed', target)
    return CloneOutcome(
        'ok',
        'collection dataset cloned; install patients with "datalad get -n <patient>"',
        target,
    )
