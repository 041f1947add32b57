"""Parameters and configuration of the IDC parts of the commands:
``--index idc`` (plan offline from the IDC index) and ``--no-idc`` (no
IDC sources this run)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import datalad
from datalad.interface.results import get_status_dict
from datalad.support.param import Parameter
from datalad_next.constraints import EnsureBool, EnsureChoice

from datalad_tcia.idc import AnalysisIndexError, IdcIndex, IdcIndexError
from datalad_tcia.idc.s3 import S3Client
from datalad_tcia.pipeline import IdcSources
from datalad_tcia.pipeline.third_party import analysis_listing

from .common import retry_policy, timeouts
from .results import record

lgr = logging.getLogger('datalad.tcia.commands.idc_options')

index_param = Parameter(
    args=('--index',),
    metavar='nbia|idc',
    doc="""what answers the selection: 'nbia' (NBIA's REST API, the
    default) or 'idc' (the IDC index, offline: the installed idc-index-data
    package, or the parquet file of 'datalad.tcia.idc-index'). Collections
    may then also be named by IDC collection_id or DOI, also those only IDC
    holds. Where series are acquired from is --source's choice.""",
)

no_idc_param = Parameter(
    args=('--no-idc',),
    action='store_true',
    doc="""do not look for IDC's copies of the files this run (no IDC
    URLs are added; 'datalad.tcia.idc' = false always).""",
)

source_param = Parameter(
    args=('--source',),
    metavar='auto|idc|nbia',
    doc="""where series are acquired from: 'idc' (IDC's bucket: each
    file's size and MD5 from the listing and its DICOM header from its
    first bytes, no pixel data; with --index idc no NBIA request at all),
    'nbia' (NBIA's getImage archives, downloaded and verified), or 'auto'
    (the default): from IDC when the IDC index lists the series with the
    instance count NBIA reports (or the selection was planned from the
    index), from NBIA otherwise and when IDC fails.""",
)

idc_params = {'index': index_param, 'source': source_param}
idc_constraints: dict[str, Any] = {
    'index': EnsureChoice('nbia', 'idc'),
    'source': EnsureChoice('auto', 'idc', 'nbia'),
    'no_idc': EnsureBool(),
}


def open_index() -> IdcIndex:
    """The IDC index configured (``datalad.tcia.idc-index``) or installed.

    Raises
    ------
    datalad_tcia.idc.IdcIndexError
    """
    path = datalad.cfg.get('datalad.tcia.idc-index')
    return IdcIndex(str(path) if path else None)


def idc_sources(no_idc: bool, index: IdcIndex | None = None) -> IdcSources | None:
    """The IDC step's settings, or ``None`` if it is off.

    Raises
    ------
    datalad_tcia.idc.IdcIndexError
    """
    if no_idc or not datalad.cfg.obtain('datalad.tcia.idc'):
        return None
    endpoint = str(datalad.cfg.obtain('datalad.tcia.idc-endpoint'))
    return IdcSources(
        index or open_index(),
        S3Client(endpoint, retry=retry_policy(), timeout=timeouts()),
        first_range=max(132, int(datalad.cfg.obtain('datalad.tcia.idc-header-bytes'))),
    )


def idc_step(
    no_idc: bool, action: str, index: IdcIndex | None = None
) -> tuple[IdcSources | None, dict[str, Any] | None]:
    """The IDC step's settings, or why there is none this run (a record
    that warns: a missing index never fails a run)."""
    try:
        return idc_sources(no_idc, index), None
    except IdcIndexError as e:
        message = (
            f'no IDC sources this run: {e}; the files get their TCIA '
            "sources, a later run with the index adds IDC's"
        )
        lgr.warning('%s', message)
        return None, record(action, 'ok', message, type='idc', warning=str(e))


def plan_and_sources(
    index: str, no_idc: bool, action: str, source: str = 'auto'
) -> tuple[bool, IdcIndex | None, IdcSources | None, list[dict[str, Any]]]:
    """What ``--index``, ``--source`` and ``--no-idc`` ask for: whether
    the run can go on, the index that plans (``--index idc``), the IDC
    step's settings, and records to report first (a warning, or why the
    run cannot go on)."""

    def refused(message: str) -> tuple[bool, None, None, list[dict[str, Any]]]:
        return False, None, None, [record(action, 'impossible', message)]

    if source == 'idc' and no_idc:
        return refused(
            '--source idc and --no-idc exclude each other (and '
            "datalad.tcia.idc = false turns IDC off): series from IDC's bucket "
            'need IDC'
        )
    try:
        planner = open_index() if index == 'idc' else None
    except IdcIndexError as e:
        return refused(str(e))
    idc, warning = idc_step(no_idc, action, planner)
    if source == 'idc' and idc is None:
        why = warning.get('warning') if warning else 'datalad.tcia.idc is false'
        return refused(f'--source idc needs IDC: {why}')
    return True, planner, idc, [warning] if warning else []


def analysis_result_rows(
    source: object, common: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """One result per analysis result the IDC index lists."""
    try:
        index = source if isinstance(source, IdcIndex) else open_index()
        rows = analysis_listing(index.analysis_results())
    except (IdcIndexError, AnalysisIndexError) as e:
        yield get_status_dict(status='impossible', message=str(e), **common)
        return
    for row in rows:
        yield get_status_dict(status='ok', **row, **common)
