"""Parameters of ``tcia-add`` for splitting the work: ``--shard``,
``--slurm`` and the options of the submitted jobs."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datalad
from datalad.interface.common_opts import eval_params
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
        ('apptainer exec --bind STORE IMAGE datalad ...'; with --slurm). The
        image must exist (a path the nodes see too); the command that runs
        it is configurable (datalad.tcia.container-runner).""",
    ),
}

hpc_constraints = {
    'shard': EnsureShard(),
    'slurm': EnsureInt() & EnsureRange(min=1),
    'sbatch_args': EnsureArgs(),
    'slurm_container': EnsureStr(min_len=1),
}


#: options a job does not inherit: the job array sets ``--shard`` itself,
#: and the others are about submitting or rendering
NOT_INHERITED = frozenset(
    {'path', 'shard', 'slurm', 'sbatch_args', 'slurm_container', 'output_format'}
)
#: options whose value is a path: made absolute (jobs start elsewhere)
PATH_OPTIONS = frozenset({'store', 'manifest'})


def job_argv(
    command: str,
    params: Mapping[str, Parameter],
    values: Mapping[str, Any],
    store: Path,
) -> list[str]:
    """The command line a job runs: ``datalad <command>`` with every
    option of the command's parameter table (``params``) that the call
    set (``values``), but those in :data:`NOT_INHERITED`. Generated from
    the same table as the command, so no option can be forgotten."""
    argv = ['datalad', command]
    for name, param in params.items():
        if name in NOT_INHERITED or name in eval_params:
            # DataLad's own result options are not the command's
            continue
        value = str(store.absolute()) if name == 'store' else values.get(name)
        if value is None or value is False:
            continue
        flag = next(a for a in param.cmd_args if a.startswith('--'))
        if param.cmd_kwargs.get('action') == 'store_true':
            argv.append(flag)
        elif isinstance(value, list | tuple):
            for item in value:
                argv += [flag, str(item)]
        else:
            if name in PATH_OPTIONS:
                value = str(Path(value).expanduser().absolute())
            argv += [flag, str(value)]
    return argv


def submit(
    store: Path, params: Mapping[str, Parameter], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Submit ``tcia-add`` with ``options`` (the call's arguments, among
    them ``slurm`` tasks, ``sbatch_args``, ``slurm_container``) to SLURM;
    the record of the submission or of why it failed."""
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
                job_argv('tcia-add', params, options, store),
                options['slurm'],
                sbatch_args=options.get('sbatch_args') or (),
                container=options.get('slurm_container'),
                runner=datalad.cfg.get('datalad.tcia.container-runner') or None,
            )
        )
    except (SlurmError, OSError) as e:
        return record('tcia_add', 'impossible', str(e), path=str(store))
