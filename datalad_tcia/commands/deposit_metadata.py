"""``datalad tcia-deposit-metadata``: archives on disk -> metadata records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureListOf, EnsureStr

from datalad_tcia.pipeline import index_archives

from .common import dicom_tags, store_path
from .params import force_param, output_format_param, store_param
from .results import to_result

lgr = logging.getLogger('datalad.tcia.commands.deposit_metadata')


@build_doc
class TciaDepositMetadata(ValidatedInterface):
    """Write the metadata records of series archives already on disk

    Reads every member of each archive once and writes, per series,
    <store>/<collection-id>/metadata/<uid>_metadata_dicoms.json (path, size,
    MD5 and DICOM header values of every member; members that are not DICOM
    are recorded with "dicom": false) and <uid>_metadata_archive.json.

    Archives may be NBIA getImage ZIPs or tar archives (such as INM-ICF visit
    tarballs); an archive holding several series yields the records of each
    series, by the SeriesInstanceUID in the DICOM headers. Archives from
    outside the store stay where they are; their path is recorded.

    Without ARCHIVE, the ZIPs in the store's archives/ directories are
    recorded where their metadata is missing.

    Existing metadata is never overwritten silently: identical metadata is
    'notneeded', different metadata is refused unless --force is given.
    """

    _params_ = {
        'archives': Parameter(
            args=('archives',),
            metavar='ARCHIVE',
            nargs='*',
            doc="""ZIP or tar archives to record the metadata of.""",
        ),
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection the archives belong to; needed for
            archives from outside the store.""",
        ),
        'force': force_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'archives': EnsureListOf(EnsureStr(min_len=1)),
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'force': EnsureBool(),
        },
    )

    _examples_ = [
        {
            'text': 'Record the metadata of the archives in the default store',
            'code_py': 'tcia_deposit_metadata()',
            'code_cmd': 'datalad tcia-deposit-metadata',
        },
        {
            'text': 'Add an INM-ICF visit tarball to a collection in a store',
            'code_py': "tcia_deposit_metadata(['visit.tar'], collection='MyStudy', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-deposit-metadata --store /data/tcia '
            '--collection MyStudy visit.tar',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        archives: list[str] | None = None,
        *,
        store: str | None = None,
        collection: str | None = None,
        force: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        outcomes = index_archives(
            store_path(store),
            archives or [],
            collection,
            tags=dicom_tags(),
            force=force,
        )
        for outcome in outcomes:
            yield to_result(outcome)
