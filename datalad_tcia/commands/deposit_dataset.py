"""``datalad tcia-deposit-dataset``: metadata deposit -> datasets + deposits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureInt, EnsureRange, EnsureStr

from datalad_tcia.dataset import DEFAULT_PATH_TEMPLATE
from datalad_tcia.export import store_base_url
from datalad_tcia.pipeline import build_datasets, build_top

from .common import group_above, store_path
from .constraints import EnsureStoreURL
from .idc_options import idc_step, no_idc_param
from .params import (
    force_param,
    jobs_param,
    output_format_param,
    store_param,
    store_url_param,
)
from .results import to_result

lgr = logging.getLogger('datalad.tcia.commands.deposit_dataset')


@build_doc
class TciaDepositDataset(ValidatedInterface):
    """Build DataLad datasets of a collection and deposit them in the store

    From the metadata deposit of a collection (no network, no archive
    needed), one DataLad dataset per patient is built, laid out with NBIA's
    descriptive directory names. Every DICOM file is an annexed file without
    content whose MD5E key comes from the deposit, with TCIA as its source:
    the member of the series archive (archivist), the archive itself
    (getImage, under a key that survives NBIA re-building the ZIP), and the
    single file (getSingleImage), all claimed by datalad-next's uncurl
    remote so that URLs can be rewritten when TCIA moves. DICOM header
    values become git-annex metadata (for 'git annex view').

    A collection superdataset has the patients as subdatasets. All datasets
    are deposited as clone-able datalad-annex:: exports in
    <store>/<collection-id>/datasets/<patient>_XDLRA--* and
    <store>/<collection-id>/collection_XDLRA--*; the results give their
    clone URLs. Working copies live in <store>/<collection-id>/repos/.
    Every collection dataset of the store is a subdataset of the store's
    top-level dataset, <store>/tcia.git, at its collection id.

    Running again with unchanged metadata changes nothing; new series become
    one new commit per affected dataset; files whose content changed become
    a new version.
    """

    _params_ = {
        'store': store_param,
        'collection': Parameter(
            args=('--collection',),
            metavar='NAME',
            doc="""NBIA collection (name or collection id) in the store.""",
        ),
        'store_url': store_url_param,
        'layout': Parameter(
            args=('--layout',),
            metavar='TEMPLATE',
            doc=f"""path template of files in a patient dataset; fields:
            StudyDate, StudyDescription, StudyUID5, StudyUID, SeriesNumber,
            SeriesDescription, SeriesUID5, SeriesUID, Modality, member.
            Default: {DEFAULT_PATH_TEMPLATE.replace('{', '{{').replace('}', '}}')}""",
        ),
        'jobs': jobs_param,
        'force': force_param,
        'no_idc': no_idc_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            'store': EnsureStr(min_len=1),
            'collection': EnsureStr(min_len=1),
            'store_url': EnsureStoreURL(),
            'layout': EnsureStr(min_len=1),
            'jobs': EnsureInt() & EnsureRange(min=1),
            'force': EnsureBool(),
            'no_idc': EnsureBool(),
        },
    )

    _examples_ = [
        {
            'text': 'Build and deposit the datasets of a downloaded collection',
            'code_py': "tcia_deposit_dataset(collection='Pseudo-PHI-DICOM-Data', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-deposit-dataset --store /data/tcia '
            '--collection Pseudo-PHI-DICOM-Data',
        },
        {
            'text': 'Deposits that a web server publishes as https://example.org/tcia',
            'code_py': "tcia_deposit_dataset(collection='Pseudo-PHI-DICOM-Data', "
            "store='/srv/tcia', store_url='https://example.org/tcia')",
            'code_cmd': 'datalad tcia-deposit-dataset --store /srv/tcia '
            '--store-url https://example.org/tcia --collection Pseudo-PHI-DICOM-Data',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        *,
        store: str | None = None,
        collection: str | None = None,
        store_url: str | None = None,
        layout: str | None = None,
        jobs: int = 1,
        force: bool = False,
        no_idc: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        if not collection:
            yield get_status_dict(
                action='tcia_deposit_dataset',
                status='impossible',
                message='give --collection',
                logger=lgr,
            )
            return
        store_dir = store_path(store)
        idc, warning = idc_step(no_idc, 'tcia_deposit_dataset')
        if warning:
            yield warning
        outcomes = build_datasets(
            store_dir,
            collection,
            store_base_url(store_dir, store_url),
            template=layout,
            jobs=jobs,
            force=force,
            idc=idc,
            group_above=group_above(),
        )
        for outcome in outcomes:
            yield to_result(outcome)
        # what is published, in the store's top-level dataset
        yield to_result(build_top(store_dir, store_base_url(store_dir, store_url)))
