"""Parameters and constraints shared by the TCIA commands (selection,
store, URLs, jobs)."""

from __future__ import annotations

import argparse
from typing import Any

from datalad.support.param import Parameter
from datalad_next.constraints import (
    EnsureBool,
    EnsureInt,
    EnsureListOf,
    EnsureRange,
    EnsureStr,
)

from datalad_tcia.datacite import DEFAULT_DATACITE_URL
from datalad_tcia.nbia import DEFAULT_API_URL

api_url_param = Parameter(
    args=('--api-url',),
    metavar='URL',
    doc=f"""NBIA REST API base URL, or 'nbia' or 'nlst'; default from the
    'datalad.tcia.api-url' configuration ({DEFAULT_API_URL}).""",
)

RENDERERS = ('generic', 'json', 'json_pp', 'tailored', 'disabled')


class _ResultRendererAction(argparse.Action):
    """Let ``-f`` also follow the command name.

    DataLad's ``-f/--output-format`` is an option of the main parser
    (``datalad -f json tcia-ls``); this action sets the same destination from
    the command's own parser, so ``datalad tcia-ls ... -f json`` works too.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.common_result_renderer = values


output_format_param = Parameter(
    args=('-f', '--output-format'),
    metavar='FORMAT',
    action=_ResultRendererAction,
    choices=RENDERERS,
    doc="""[CMD: how to render results, as DataLad's global option of the
    same name: 'json' gives one JSON record per line. CMD][PY: ignored; use
    the result_renderer argument. PY]""",
)

store_param = Parameter(
    args=('--store',),
    metavar='DIR',
    doc="""store directory; default from the 'datalad.tcia.store'
    configuration (./tcia-store).""",
)

store_url_param = Parameter(
    args=('--store-url',),
    metavar='URL',
    doc="""base URL under which others reach the store (file://,
    http(s)://); goes into the clone URLs. Default: the store's file://
    URL.""",
)

datacite_url_param = Parameter(
    args=('--datacite-url',),
    metavar='URL',
    doc=f"""DataCite REST API base URL; default from the
    'datalad.tcia.datacite-url' configuration ({DEFAULT_DATACITE_URL}).""",
)

force_param = Parameter(
    args=('--force',),
    action='store_true',
    doc="""redo work that is already done (download and record again).""",
)

update_param = Parameter(
    args=('--update',),
    action='store_true',
    doc="""update every collection already in the store (with any
    --patient or filter given): one NBIA listing per collection; a
    collection with nothing new is done without reading its datasets.
    One summary result per collection.""",
)

jobs_param = Parameter(
    args=('-J', '--jobs'),
    metavar='N',
    doc="""number of parallel requests.""",
)


selection_constraints = {
    'collection': EnsureStr(min_len=1),
    'patient': EnsureStr(min_len=1),
    'study': EnsureStr(min_len=1),
    'series': EnsureListOf(EnsureStr(min_len=1)),
    'manifest': EnsureStr(min_len=1),
    'modality': EnsureStr(min_len=1),
    'body_part': EnsureStr(min_len=1),
    'manufacturer': EnsureStr(min_len=1),
    'all_collections': EnsureBool(),
    'where': EnsureStr(min_len=1),
    'analysis_result': EnsureStr(min_len=1),
    'with_analysis_results': EnsureBool(),
    'api_url': EnsureStr(min_len=1),
    'store': EnsureStr(min_len=1),
    'jobs': EnsureInt() & EnsureRange(min=1),
}
