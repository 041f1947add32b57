"""A run's settings from the commands' arguments and ``datalad.tcia.*``,
built once per command call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datalad_tcia.export import store_base_url
from datalad_tcia.pipeline import RunSettings

from .common import catalog_limits, citations, dicom_tags, group_above, nbia_client
from .idc_options import plan_and_sources


def run_settings(
    store: Path,
    action: str,
    *,
    index: str = 'nbia',
    source: str = 'auto',
    no_idc: bool = False,
    api_url: str | None = None,
    datacite_url: str | None = None,
    store_url: str | None = None,
    jobs: int = 1,
    force: bool = False,
    keep_archives: bool = False,
    template: str | None = None,
) -> tuple[RunSettings | None, list[dict[str, Any]]]:
    """The :class:`~datalad_tcia.pipeline.RunSettings` of a command call
    (clients configured from ``datalad.tcia.*``, options from the
    command's arguments), and the records to report first: a warning, or
    why the run cannot go on (then no settings)."""
    go, planner, idc, first = plan_and_sources(index, no_idc, action, source)
    if not go:
        return None, first
    settings = RunSettings(
        store=store,
        nbia=nbia_client(api_url),
        citations=citations(datacite_url),
        tags=dicom_tags(),
        jobs=jobs,
        force=force,
        source=source,
        index=planner,
        idc=idc,
        base_url=store_base_url(store, store_url),
        keep_archives=keep_archives,
        catalog_limits=catalog_limits(),
        group_above=group_above(),
        **({'template': template} if template else {}),
    )
    return settings, first
