"""``datalad tcia-ls``: list what a selection holds on TCIA."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from datalad.interface.results import get_status_dict
from datalad.interface.utils import generic_result_renderer
from datalad.support.param import Parameter
from datalad.ui import ui
from datalad_next.commands import (
    EnsureCommandParameterization,
    ValidatedInterface,
    build_doc,
    eval_results,
)
from datalad_next.constraints import EnsureBool, EnsureChoice
from datalad_next.exceptions import CapturedException

from datalad_tcia.idc import IdcIndex, IdcIndexError
from datalad_tcia.idc.s5cmd import is_s5cmd
from datalad_tcia.nbia import NbiaError
from datalad_tcia.pipeline import SeriesSource, resolve_selection
from datalad_tcia.pipeline.summarize import LEVELS, format_row, summarize

from .common import nbia_client
from .idc_options import analysis_result_rows, idc_constraints, index_param, open_index
from .params import (
    api_url_param,
    jobs_param,
    output_format_param,
    selection_constraints,
)
from .selection import make_selection, selection_joint, selection_params

lgr = logging.getLogger('datalad.tcia.commands.ls')

ACTION = 'tcia_ls'


@build_doc
class TciaLs(ValidatedInterface):
    """List TCIA collections, patients, studies and series

    For a selection (see 'datalad tcia-add') one result per collection,
    patient, study and series, with the number of series and images and
    the total size (uncompressed DICOM bytes, as NBIA reports it). Without
    a selection, the names of all collections; with --analysis-results,
    the analysis results. Inputs that select nothing (an unknown
    collection or UID, a malformed manifest) are 'impossible' results
    that name them.
    """

    _params_ = {
        **selection_params,
        'api_url': api_url_param,
        'level': Parameter(
            args=('--level',),
            doc="""report down to this level of the hierarchy.""",
        ),
        'analysis_results': Parameter(
            args=('--analysis-results',),
            action='store_true',
            doc="""list the analysis results (id, title, DOI, the collections
            they describe, modalities, patients, series), from the list
            beside the IDC index.""",
        ),
        'jobs': jobs_param,
        'index': index_param,
        'output_format': output_format_param,
    }

    _validator_ = EnsureCommandParameterization(
        {
            **selection_constraints,
            'level': EnsureChoice(*LEVELS),
            'analysis_results': EnsureBool(),
            'index': idc_constraints['index'],
        },
        joint_constraints=selection_joint,
    )

    _examples_ = [
        {
            'text': 'List all collections',
            'code_py': 'tcia_ls()',
            'code_cmd': 'datalad tcia-ls',
        },
        {
            'text': 'List the series of a collection, as JSON',
            'code_py': "tcia_ls(collection='Pseudo-PHI-DICOM-Data')",
            'code_cmd': 'datalad -f json tcia-ls --collection Pseudo-PHI-DICOM-Data',
        },
        {
            'text': 'List the CT series of a collection offline, from the IDC index',
            'code_py': "tcia_ls(collection='LIDC-IDRI', modality='CT', index='idc')",
            'code_cmd': 'datalad tcia-ls --collection LIDC-IDRI --modality CT '
            '--index idc',
        },
        {
            'text': 'Summarise the CT series of a manifest per patient',
            'code_py': "tcia_ls(manifest='cart.tcia', modality='CT', level='patient')",
            'code_cmd': 'datalad tcia-ls --manifest cart.tcia --modality CT '
            '--level patient',
        },
    ]

    @staticmethod
    @eval_results
    def __call__(
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
        api_url: str | None = None,
        level: str = 'series',
        analysis_results: bool = False,
        jobs: int = 4,
        index: str = 'nbia',
        output_format: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        client = nbia_client(api_url)
        source: SeriesSource = client
        selection = make_selection(locals())
        common = {'action': ACTION, 'logger': lgr, 'api_url': client.base_url}
        if index == 'idc':
            try:
                source = open_index()
            except IdcIndexError as e:
                yield get_status_dict(status='impossible', message=str(e), **common)
                return
            # say which IDC release answered
            common = {'action': ACTION, 'logger': lgr, 'index': source.where}
            common['idc_version'] = source.version
        if analysis_results:
            yield from analysis_result_rows(source, common)
            return
        try:
            if selection.is_empty:
                for name in source.get_collection_values():
                    yield get_status_dict(
                        status='ok', type='collection', Collection=name, **common
                    )
                return
            resolved = resolve_selection(
                source, selection, jobs=jobs, uuids=_uuid_index(source, manifest)
            )
        except NbiaError as e:
            yield get_status_dict(
                status='error',
                message=(
                    f'cannot query NBIA: {e}. Check the API URL '
                    f'({client.base_url}) and the network, then run again'
                ),
                exception=CapturedException(e),
                **common,
            )
            return
        for problem in resolved.problems:
            yield get_status_dict(
                status='impossible',
                type=problem.kind,
                input=problem.value,
                message=problem.message,
                **common,
            )
        for row in summarize(resolved.series, level):
            yield get_status_dict(status='ok', **row, **common)

    @staticmethod
    def custom_result_renderer(res: dict[str, Any], **kwargs: Any) -> None:
        if res.get('action') != ACTION or res.get('status') != 'ok':
            generic_result_renderer(res)
            return
        ui.message(format_row(res))


def _uuid_index(source: SeriesSource, manifest: str | None) -> IdcIndex | None:
    """The IDC index for an ``.s5cmd`` manifest (it names IDC's UUIDs),
    also when NBIA answers; ``None`` if there is none to open."""
    if isinstance(source, IdcIndex):
        return source
    if not manifest or not is_s5cmd(manifest):
        return None
    try:
        return open_index()
    except IdcIndexError:
        return None
