"""A run's settings from the commands' arguments and ``datalad.tcia.*``,
built once per command call."""

from __future__ import annotations

from pathlib import Path

from datalad_tcia.export import store_base_url
from datalad_tcia.idc import IdcIndex
from datalad_tcia.pipeline import IdcSources, RunSettings

from .common import catalog_limits, citations, dicom_tags, nbia_client


def run_settings(
    store: Path,
    *,
    api_url: str | None = None,
    datacite_url: str | None = None,
    store_url: str | None = None,
    jobs: int = 1,
    force: bool = False,
    source: str = 'auto',
    index: IdcIndex | None = None,
    idc: IdcSources | None = None,
    keep_archives: bool = False,
) -> RunSettings:
    """The :class:`~datalad_tcia.pipeline.RunSettings` of a command call:
    clients configured from ``datalad.tcia.*``, options from the
    command's arguments."""
    return RunSettings(
        store=store,
        nbia=nbia_client(api_url),
        citations=citations(datacite_url),
        tags=dicom_tags(),
        jobs=jobs,
        force=force,
        source=source,
        index=index,
        idc=idc,
        base_url=store_base_url(store, store_url),
        keep_archives=keep_archives,
        catalog_limits=catalog_limits(),
    )
