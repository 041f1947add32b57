"""``tcia-add --slurm K``: a selection as a SLURM job array.

Task I of K runs the selection with ``--shard I/K`` (series and patient
datasets of its patients); a final job, submitted with
``--dependency=afterok:<array>``, runs the selection without ``--shard``:
it finds the patients done and performs the collection step
(superdataset, its export, catalog, verified archive deletion). The job
scripts and logs live in a directory of the store, so that every node
sees them on the shared file system, and a failed task can be submitted
again alone with the ``resubmit`` script written beside them.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from datalad_tcia.store import slurm_job_dir

lgr = logging.getLogger('datalad.tcia.hpc.slurm')

_JOB_ID = re.compile(r'(\d+)(;.*)?')


class SlurmError(RuntimeError):
    """sbatch is missing or refused a job."""


@dataclass(frozen=True)
class SlurmJob:
    """A submitted selection.

    Attributes
    ----------
    directory: Path
      Scripts and logs (``array-<job>_<task>.log``,
      ``collection-<job>.log``).
    array_id: str
      The job array (tasks ``0`` .. ``tasks - 1``).
    final_id: str
      The collection step, run once every task succeeded.
    tasks: int
      K.
    """

    directory: Path
    array_id: str
    final_id: str
    tasks: int

    @property
    def array_script(self) -> Path:
        return self.directory / 'array.sh'

    @property
    def final_script(self) -> Path:
        return self.directory / 'collection.sh'

    @property
    def resubmit_script(self) -> Path:
        return self.directory / 'resubmit.sh'

    @property
    def logs(self) -> list[str]:
        """Log file patterns (``%a``: the task)."""
        return [
            str(self.directory / f'array-{self.array_id}_%a.log'),
            str(self.directory / f'collection-{self.final_id}.log'),
        ]


def command_prefix(container: str | None, store: Path) -> list[str]:
    """Shell words that run ``datalad`` in a job: none (the datalad of this
    environment, put first on ``PATH``), or, with ``container``, the
    container runner's ``exec`` of that image with the store bound (the
    job script sets ``TCIA_CONTAINER_RUNTIME``, see :func:`_script`)."""
    if container:
        return [
            '"$TCIA_CONTAINER_RUNTIME"',
            'exec',
            '--bind',
            shlex.quote(str(store)),
            shlex.quote(container),
        ]
    return []


def _is_uri(image: str) -> bool:
    """Whether an image is named by a URI (``docker://…``), not a path."""
    return '://' in image


def _container_checks(container: str, runner: str | None) -> list[str]:
    """Job script lines that find the runner and the image on the node, or
    say in the job's log which is missing."""
    image = shlex.quote(container)
    if runner:
        found = f'command -v {shlex.quote(runner)}'
        missing = (
            f'the container runner {runner} (datalad.tcia.container-runner) '
            'is not on PATH of this node'
        )
    else:
        found = 'command -v apptainer || command -v singularity'
        missing = (
            'neither apptainer nor singularity is on PATH of this node '
            '(--slurm-container; another runner: datalad.tcia.container-runner)'
        )
    lines = [
        f'TCIA_CONTAINER_RUNTIME=$({found}) || {{',
        f'    echo {shlex.quote("datalad-tcia: " + missing)} >&2',
        '    exit 1',
        '}',
    ]
    if _is_uri(container):  # library://, docker://, oras://: the runner's
        return lines
    return [
        *lines,
        f'[ -e {image} ] || {{',
        '    echo '
        + shlex.quote(
            f'datalad-tcia: this node has no image {container} (--slurm-container)'
        )
        + ' >&2',
        '    exit 1',
        '}',
    ]


def _script(
    argv: Sequence[str],
    container: str | None,
    store: Path,
    shard: str | None,
    runner: str | None = None,
) -> str:
    lines = ['#!/bin/bash', '# written by datalad tcia-add --slurm', 'set -eu']
    if container:
        lines += _container_checks(container, runner)
    else:
        bindir = _bindir()
        if bindir is not None:
            # the datalad and git-annex of the submitting environment
            lines.append(f'export PATH={shlex.quote(str(bindir))}:"$PATH"')
    cmd = ' '.join([*command_prefix(container, store), *(shlex.quote(a) for a in argv)])
    if shard:
        cmd += f' --shard "$SLURM_ARRAY_TASK_ID/{shard}"'
    lines.append(f'exec {cmd}')
    return '\n'.join(lines) + '\n'


def _bindir() -> Path | None:
    """Where this environment's ``datalad`` is (a virtual environment's
    ``bin/``, which also holds the git-annex of the PyPI wheel)."""
    here = Path(sys.executable).parent
    if (here / 'datalad').exists():
        return here
    found = shutil.which('datalad')
    return Path(found).parent if found else None


def _resubmit_script(directory: Path, sbatch_args: Sequence[str]) -> str:
    extra = ' '.join(shlex.quote(a) for a in sbatch_args)
    d = shlex.quote(str(directory))
    return f"""#!/bin/bash
# Submit failed tasks of this job array again, and a new collection step
# after them (the first one waits for tasks that never succeed):
#   bash {d}/resubmit.sh TASK [TASK ...]
set -eu
[ $# -gt 0 ] || {{ echo "usage: $0 TASK [TASK ...]" >&2; exit 2; }}
cd {d}
tasks=$(IFS=,; echo "$*")
[ -s final.id ] && scancel "$(cat final.id)" 2>/dev/null || true
array=$(sbatch --parsable --job-name=tcia-add --array="$tasks" \\
    --output={d}/array-%A_%a.log {extra} array.sh)
array=${{array%%;*}}
final=$(sbatch --parsable --job-name=tcia-add-collection \\
    --dependency=afterok:"$array" --output={d}/collection-%j.log {extra} \\
    collection.sh)
echo "${{final%%;*}}" > final.id
echo "tasks $tasks: job $array; collection step: job ${{final%%;*}}"
"""


def _sbatch(args: Sequence[str], cwd: Path) -> str:
    proc = subprocess.run(
        ['sbatch', '--parsable', *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    match = _JOB_ID.fullmatch(proc.stdout.strip())
    if proc.returncode or not match:
        msg = (
            f'sbatch {" ".join(args)} failed: '
            f'{(proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}"}'
        )
        raise SlurmError(msg)
    return match[1]


def submit_array(
    store: Path,
    argv: Sequence[str],
    tasks: int,
    *,
    sbatch_args: Sequence[str] = (),
    container: str | None = None,
    runner: str | None = None,
) -> SlurmJob:
    """Write the job scripts into the store and submit the array and the
    final job; return at once.

    ``argv`` is the ``datalad tcia-add`` command line of the selection
    (without ``--shard``/``--slurm``). With ``container`` (an image) the
    jobs run ``datalad`` in it with ``runner`` (a command with Apptainer's
    ``exec --bind``; default: apptainer or singularity on the node).

    Raises
    ------
    SlurmError
      When the image ``container`` or ``sbatch`` is missing (nothing is
      written or submitted) or ``sbatch`` refuses a job (an array already
      submitted is cancelled).
    """
    if tasks < 1:
        msg = f'--slurm needs at least one task, not {tasks}'
        raise SlurmError(msg)
    if container and not _is_uri(container):
        if not Path(container).exists():
            msg = (
                f'--slurm-container {container}: no such image. Build it with '
                'singularity/build.sh or apptainer build (docs: Containers) and '
                'give a path the nodes see; nothing was submitted'
            )
            raise SlurmError(msg)
        # the jobs may run elsewhere than here (sbatch --chdir)
        container = str(Path(container).resolve())
    if shutil.which('sbatch') is None:
        msg = (
            'sbatch is not on PATH: run --slurm on a SLURM login node (or '
            'use --shard I/K to split the work yourself); nothing was submitted'
        )
        raise SlurmError(msg)
    directory = slurm_job_dir(store)
    directory.mkdir(parents=True)
    script = partial(_script, argv, container, store, runner=runner)
    (directory / 'array.sh').write_text(script(str(tasks)))
    (directory / 'collection.sh').write_text(script(None))
    (directory / 'resubmit.sh').write_text(_resubmit_script(directory, sbatch_args))
    for name in ('array.sh', 'collection.sh', 'resubmit.sh'):
        os.chmod(directory / name, 0o755)  # noqa: S103 - scripts to run
    array_id = _sbatch(
        [
            '--job-name=tcia-add',
            f'--array=0-{tasks - 1}',
            f'--output={directory}/array-%A_%a.log',
            *sbatch_args,
            'array.sh',
        ],
        directory,
    )
    try:
        final_id = _sbatch(
            [
                '--job-name=tcia-add-collection',
                f'--dependency=afterok:{array_id}',
                f'--output={directory}/collection-%j.log',
                *sbatch_args,
                'collection.sh',
            ],
            directory,
        )
    except SlurmError:
        subprocess.run(['scancel', array_id], check=False, capture_output=True)
        raise
    (directory / 'final.id').write_text(f'{final_id}\n')
    lgr.info('submitted job array %s and collection step %s', array_id, final_id)
    return SlurmJob(directory, array_id, final_id, tasks)
