"""``datalad tcia-add``: a selection, end to end."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datalad.support.param import Parameter
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureStr

from datalad_tcia.hpc import Shard
from datalad_tcia.pipeline import AddSummary, add_selection, stored_selections

from .common import store_path
from .constraints import EnsureStoreURL
from .idc_options import idc_constraints, idc_params, no_idc_param
from .params import (
    api_url_param,
    datacite_url_param,
    jobs_param,
    output_format_param,
    selection_constraints,
    store_param,
    store_url_param,
    update_param,
)
from .reports import summary_result
from .results import to_result
from .run_settings import run_settings
from .selection import make_selection, selection_joint, selection_params
from .slurm_options import hpc_constraints, hpc_params, submit

lgr = logging.getLogger('datalad.tcia.commands.add')


@build_doc
class TciaAdd(ValidatedInterface):
    """Add TCIA series to a store: download, datasets, exports, catalog

    For a selection (collection, patient, study, series, manifest, and
    filters): acquire the series and record their metadata (tcia-download:
    NBIA archives downloaded and verified, or from IDC each file's listing
    and DICOM header only), build and export the DataLad datasets of every
    affected collection (tcia-deposit-dataset), write their catalogs
    (tcia-catalog), and then -- unless --keep-archives -- delete the
    archives, but only after checking that every DICOM file of each
    affected dataset has its TCIA sources registered and that the
    collection export clones. Every collection dataset of the store is a
    subdataset of the store's top-level dataset (<store>/tcia.git). A
    selection may span collections (--all, filters alone, --where): each
    collection touched gets its own dataset; so does each analysis result
    (--analysis-result, --with-analysis-results), never mixed into the
    collection it describes. With PATH, the collection
    dataset (a selection within one collection) or the top-level dataset
    (a selection across collections) is cloned there (collections and
    patients install with 'datalad get -n').

    Re-running is cheap: what is done is skipped. One summary result comes
    last; the exit status is non-zero when anything failed.
    """

    _params_ = {
        'path': Parameter(
            args=('path',),
            metavar='PATH',
            nargs='?',
            doc="""where to clone the collection dataset (optional).""",
        ),
        **selection_params,
        'store': store_param,
        'store_url': store_url_param,
        'api_url': api_url_param,
        'datacite_url': datacite_url_param,
        'keep_archives': Parameter(
            args=('--keep-archives',),
            action='store_true',
            doc="""keep the downloaded archives in the store.""",
        ),
        'jobs': jobs_param,
        **idc_params,
        'no_idc': no_idc_param,
        'update': update_param,
        **hpc_params,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            **selection_constraints,
            'path': EnsureStr(min_len=1),
            'store_url': EnsureStoreURL(),
            'datacite_url': EnsureStr(min_len=1),
            'keep_archives': EnsureBool(),
            **hpc_constraints,
            **idc_constraints,
            'update': EnsureBool(),
        },
        joint_constraints=selection_joint,
    )

    _examples_ = [
        {
            'text': 'Add the brain MR series of every collection, from the IDC index',
            'code_py': "tcia_add(modality='MR', body_part='BRAIN', index='idc')",
            'code_cmd': 'datalad tcia-add --modality MR --body-part BRAIN --index idc',
        },
        {
            'text': 'Add a collection to the default store and clone it',
            'code_py': "tcia_add('pseudo-phi', collection='Pseudo-PHI-DICOM-Data')",
            'code_cmd': 'datalad tcia-add --collection Pseudo-PHI-DICOM-Data '
            'pseudo-phi',
        },
        {
            'text': 'Add the CT series of a manifest, four downloads at a time',
            'code_py': "tcia_add(manifest='cart.tcia', modality='CT', jobs=4)",
            'code_cmd': 'datalad tcia-add --manifest cart.tcia --modality CT -J 4',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
        path: str | None = None,
        *,
        collection: str | None = None,
        patient: str | None = None,
        study: str | None = None,
        series: list[str] | None = None,
        manifest: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
        all_collections: bool = False,
        where: str | None = None,
        analysis_result: str | None = None,
        with_analysis_results: bool = False,
        store: str | None = None,
        store_url: str | None = None,
        api_url: str | None = None,
        datacite_url: str | None = None,
        keep_archives: bool = False,
        jobs: int = 1,
        shard: Shard | None = None,
        slurm: int | None = None,
        sbatch_args: list[str] | None = None,
        slurm_container: str | None = None,
        index: str = 'nbia',
        source: str = 'auto',
        no_idc: bool = False,
        update: bool = False,
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        # the call's validated arguments, by the names of its parameter
        # table: the selection, and a job's command line (--slurm), are
        # made from them
        arguments = dict(locals())
        selection = make_selection(arguments)
        store_dir = store_path(store)
        if slurm is not None:
            yield submit(store_dir, TciaAdd._params_, arguments)
            return
        settings, first = run_settings(
            store_dir,
            'tcia_add',
            index=index,
            source=source,
            no_idc=no_idc,
            api_url=api_url,
            datacite_url=datacite_url,
            store_url=store_url,
            jobs=jobs,
            keep_archives=keep_archives,
        )
        yield from first
        if settings is None:
            return
        # --update: every collection in the store, one summary each
        for sel in stored_selections(selection, store_dir) if update else [selection]:
            summary = AddSummary()
            outcomes = add_selection(
                settings,
                sel,
                clone_to=Path(path) if path and shard is None else None,
                summary=summary,
                shard=shard,
            )
            yield from map(to_result, outcomes)
            yield summary_result(summary, str(Path(path or store_dir).absolute()))
