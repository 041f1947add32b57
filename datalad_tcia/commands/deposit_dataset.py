"""``datalad tcia-deposit-dataset``: metadata records -> datasets, exported."""

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
from datalad_tcia.pipeline import build_datasets, build_top

from .common import store_path
from .constraints import EnsureStoreURL
from .idc_options import no_idc_param
from .params import (
    force_param,
    jobs_param,
    output_format_param,
    store_param,
    store_url_param,
)
from .results import to_result
from .run_settings import run_settings

lgr = logging.getLogger('datalad.tcia.commands.deposit_dataset')


@build_doc
class TciaDepositDataset(ValidatedInterface):
    """Build the DataLad datasets of a collection and export them to the store

    From the metadata records of a collection (no network, no archive
    needed), one DataLad dataset per patient is built, laid out by the path
    template (--layout; NBIA's descriptive names by default). Every DICOM
    file is an annexed file without content under an MD5E key made from
    its recorded MD5 and size. Its sources are registered in git-annex's
    branch, tried in this order by 'datalad get': IDC's object (git-annex's
    own web remote 'idc', when the file is in IDC), NBIA's single file
    (getSingleImage, web remote 'nbia'), the series archive (getImage,
    through datalad-next's uncurl) and the archive member (archivist).
    DICOM header values become git-annex metadata (for 'git annex view').

    A collection superdataset has the patients as subdatasets (in groups of
    up to 1,000 for a big collection). Every dataset is exported into the
    store in two clone-able forms: a plain bare git repository
    (<store>/<collection-id>/datasets/<patient>.git and
    <store>/<collection-id>/collection.git; the clone URLs in the results
    and in .gitmodules point at these) and a datalad-annex:: deposit beside
    it (<name>_XDLRA--*). Working copies live in
    <store>/<collection-id>/repos/. Every collection dataset of the store is
    a subdataset of the store's top-level dataset, <store>/tcia.git, at its
    collection id.

    Running again with unchanged metadata changes nothing; new series become
    one new commit per affected dataset and a new tagged version; files
    whose content changed keep the old version reachable by its tag.
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
            'text': 'Build and export the datasets of a downloaded collection',
            'code_py': "tcia_deposit_dataset(collection='Pseudo-PHI-DICOM-Data', "
            "store='/data/tcia')",
            'code_cmd': 'datalad tcia-deposit-dataset --store /data/tcia '
            '--collection Pseudo-PHI-DICOM-Data',
        },
        {
            'text': 'Exports that a web server publishes as https://example.org/tcia',
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
        settings, first = run_settings(
            store_dir,
            'tcia_deposit_dataset',
            no_idc=no_idc,
            store_url=store_url,
            jobs=jobs,
            force=force,
            template=layout,
        )
        yield from first
        if settings is None:
            return
        outcomes = build_datasets(settings, collection)
        for outcome in outcomes:
            yield to_result(outcome)
        # what is published, in the store's top-level dataset
        yield to_result(build_top(store_dir, settings.base_url))
