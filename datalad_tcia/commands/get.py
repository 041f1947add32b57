"""``datalad tcia-get``: file content into a clone, across its datasets at
once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalad.distribution.dataset import datasetmethod, require_dataset
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import (
    EnsureBool,
    EnsureDataset,
    EnsureInt,
    EnsureListOf,
    EnsureRange,
    EnsureStr,
)

from datalad_tcia.pipeline import get_files
from datalad_tcia.retrieve import DEFAULT_JOBS, INSTALL_JOBS, TransferSettings

from .params import output_format_param
from .results import to_result

lgr = logging.getLogger('datalad.tcia.commands.get')


@build_doc
class TciaGet(ValidatedInterface):
    """Get file content into a clone of a collection, many files at once

    Takes what 'datalad get' takes, in a clone of a collection (or of a
    patient): the whole collection, patients, studies, series or single
    files as paths, and -r for the datasets under a path. Patient datasets
    that are needed are installed, several at once (a plain 'git clone'
    from the store and 'git annex init'). Then the content of every file
    asked for is fetched across all datasets at once, with many requests
    in flight (-J, default 128): from IDC's object first, else from NBIA's
    getSingleImage. Every file is checked against its git-annex key before
    it is made present, exactly where and as 'git annex get' puts it, and
    recorded as present (git-annex's journal, which its next command
    commits to the git-annex branch). A file that no
    source delivers by this path is handed to 'git annex get', whose error
    is reported. Free space is checked before anything is fetched. One
    result per dataset.

    An interrupted run leaves partial downloads only where git-annex keeps
    its own (.git/annex/tmp), never under a file's name; running it again
    fetches only what is still missing.
    """

    _params_ = {
        'path': Parameter(
            args=('path',),
            metavar='PATH',
            nargs='*',
            doc="""files, directories or datasets to get (default: the
            dataset).""",
        ),
        'dataset': Parameter(
            args=('-d', '--dataset'),
            metavar='DATASET',
            doc="""the dataset the paths are in (default: the one of the
            current directory).""",
        ),
        'recursive': Parameter(
            args=('-r', '--recursive'),
            action='store_true',
            doc="""also get the content of the subdatasets under each path,
            installing them.""",
        ),
        'no_data': Parameter(
            args=('-n', '--no-data'),
            action='store_true',
            doc="""install the datasets the paths need, get no content.""",
        ),
        'jobs': Parameter(
            args=('-J', '--jobs'),
            metavar='N',
            doc=f"""requests in flight (default {DEFAULT_JOBS}: enough for a
            link that answers in tens of milliseconds).""",
        ),
        'install_jobs': Parameter(
            args=('--install-jobs',),
            metavar='N',
            doc=f"""datasets installed at once (default {INSTALL_JOBS}).""",
        ),
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'path': EnsureStr() | EnsureListOf(EnsureStr()),
            'dataset': EnsureDataset(installed=True, purpose='get content'),
            'recursive': EnsureBool(),
            'no_data': EnsureBool(),
            'jobs': EnsureInt() & EnsureRange(min=1, max=1024),
            'install_jobs': EnsureInt() & EnsureRange(min=1, max=64),
        },
    )

    _examples_ = [
        {
            'text': 'Get every file of a collection clone',
            'code_py': "tcia_get('.', recursive=True)",
            'code_cmd': 'datalad tcia-get -r .',
        },
        {
            'text': 'Get two patients, 256 requests at once',
            'code_py': "tcia_get(['LIDC-IDRI-0001', 'LIDC-IDRI-0002'], jobs=256)",
            'code_cmd': 'datalad tcia-get -J 256 LIDC-IDRI-0001 LIDC-IDRI-0002',
        },
    ]

    @staticmethod
    @datasetmethod(name='tcia_get')
    @eval_results
    def __call__(
        path: list[str] | str | None = None,
        *,
        dataset: Any = None,
        recursive: bool = False,
        no_data: bool = False,
        jobs: int | None = None,
        install_jobs: int | None = None,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        ds = require_dataset(
            dataset.ds if dataset is not None else None,
            check_installed=True,
            purpose='get content',
        )
        paths = [path] if isinstance(path, str) else list(path or [])
        # relative paths are the user's: against the working directory
        # unless a dataset was named (DataLad's rule)
        base = Path.cwd() if dataset is None else ds.pathobj
        settings = TransferSettings(jobs=jobs or DEFAULT_JOBS)
        for outcome in get_files(
            ds.pathobj,
            [base / p for p in paths],
            recursive=recursive,
            get_data=not no_data,
            settings=settings,
            install_jobs=install_jobs or INSTALL_JOBS,
        ):
            yield to_result(outcome)
