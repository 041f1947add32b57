"""Parameters of ``tcia-add`` for splitting the work: ``--shard``,
``--slurm`` and the options of the submitted jobs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from datalad.support.param import Parameter
from datalad_next.constraints import (
    Constraint,
    EnsureInt,
    EnsureRange,
    EnsureStr,
)

from datalad_tcia.hpc import Shard, SlurmError, submit_array

from .reports import slurm_result
from .results import record


class EnsureShard(Constraint):
    """``I/K`` with 0 <= I < K."""

    def __call__(self, value: Any) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except ValueError as e:
            self.raise_for(value, str(e))
            raise  # raise_for raises; for the type checker

    def short_description(self) -> str:
        return 'I/K (shard I of K, I from 0)'


class EnsureArgs(Constraint):
    """A shell-quoted option string, split like a shell would."""

    def __call__(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value]
        try:
            return shlex.split(str(value))
        except ValueError as e:
            self.raise_for(value, f'cannot split {value!r}: {e}')
            raise  # raise_for raises; for the type checker

    def short_description(self) -> str:
        return "options as for sbatch, e.g. '--partition=short --time=2:00:00'"


hpc_params = {
    'shard': Parameter(
        args=('--shard',),
        metavar='I/K',
        doc="""do the series and patient datasets of shard I (from 0) of K
        of the selection's patients -- a stable split by patient, the same
        on every run and machine -- and skip the collection step. Several
        shards may run at once on one store (processes, cluster jobs on a
        shared file system); the same command without --shard afterwards
        finds the patients done and does the collection step.""",
    ),
    'slurm': Parameter(
        args=('--slurm',),
        metavar='K',
        doc="""submit the selection to SLURM as a job array of K tasks (task
        I runs it with --shard I/K) and a final job, after all tasks
        succeeded, that does the collection step; returns at once. The job
        scripts and logs go into <store>/slurm/.""",
    ),
    'sbatch_args': Parameter(
        args=('--sbatch-args',),
        metavar='OPTIONS',
        doc="""site options for sbatch, e.g. '--partition=short
        --time=4:00:00 --account=lab' (with --slurm).""",
    ),
    'slurm_container': Parameter(
        args=('--slurm-container',),
        metavar='IMAGE',
        doc="""run the jobs' datalad inside this Apptainer/Singularity image
        ('apptainer exec --bind STORE IMAGE datalad ...'; with --slurm).""",
    ),
}

hpc_constraints = {
    'shard': EnsureShard(),
    'slurm': EnsureInt() & EnsureRange(min=1),
    'sbatch_args': EnsureArgs(),
    'slurm_container': EnsureStr(min_len=1),
}


def job_argv(store: Path, options: dict[str, Any]) -> list[str]:
    """The ``datalad tcia-add`` command line a job runs: the selection and
    the service options given (paths made absolute: jobs start elsewhere).
    """
    argv = ['datalad', 'tcia-add', '--store', str(store.absolute())]
    for name, flag in (
        ('collection', '--collection'),
        ('patient', '--patient'),
        ('study', '--study'),
        ('manifest', '--manifest'),
        ('modality', '--modality'),
        ('body_part', '--body-part'),
        ('manufacturer', '--manufacturer'),
        ('store_url', '--store-url'),
        ('api_url', '--api-url'),
        ('datacite_url', '--datacite-url'),
        ('index', '--index'),
    ):
        value = options.get(name)
        if value is not None:
            if name == 'manifest':
                value = str(Path(value).absolute())
            argv += [flag, str(value)]
    for uid in options.get('series') or ():
        argv += ['--series', uid]
    for name in ('keep_archives', 'no_idc'):
        if options.get(name):
            argv.append('--' + name.replace('_', '-'))
    if (options.get('jobs') or 1) > 1:
        argv += ['-J', str(options['jobs'])]
    return argv


def submit(store: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Submit ``tcia-add`` with ``options`` (``slurm`` tasks, ``sbatch_args``,
    ``slurm_container``) to SLURM; the record of the submission or of why
    it failed."""
    if options.get('shard') is not None:
        return record(
            'tcia_add',
            'impossible',
            '--shard and --slurm exclude each other: --slurm K runs the '
            'shards 0/K .. K-1/K as jobs',
            path=str(store),
        )
    try:
        return slurm_result(
            submit_array(
                store,
                job_argv(store, options),
                options['slurm'],
                sbatch_args=options.get('sbatch_args') or (),
                container=options.get('slurm_container'),
            )
        )
    except (SlurmError, OSError) as e:
        return record('tcia_add', 'impossible', str(e), path=str(store))
