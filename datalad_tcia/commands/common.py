"""Configuration shared by the commands: clients, store, tags."""

from __future__ import annotations

import re
from pathlib import Path

import datalad

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.datacite import CitationLookup, DataCiteClient
from datalad_tcia.http import RetryPolicy
from datalad_tcia.nbia import NbiaClient
from datalad_tcia.pipeline.write_catalog import CatalogLimits


def nbia_client(api_url: str | None = None) -> NbiaClient:
    """An :class:`NbiaClient` configured from ``datalad.tcia.*``.

    Parameters
    ----------
    api_url: str, optional
      Wins over ``datalad.tcia.api-url``.
    """
    url = api_url or str(datalad.cfg.obtain('datalad.tcia.api-url'))
    token = datalad.cfg.get('datalad.tcia.token')
    return NbiaClient(
        url,
        retry=retry_policy(),
        timeout=timeouts(),
        token=str(token) if token else None,
    )


def citations(datacite_url: str | None = None) -> CitationLookup:
    """DataCite, configured from ``datalad.tcia.*``, asked once per DOI
    and run."""
    return CitationLookup(
        DataCiteClient(
            datacite_url or str(datalad.cfg.obtain('datalad.tcia.datacite-url')),
            retry=retry_policy(),
            timeout=timeouts(),
        )
    )


def retry_policy() -> RetryPolicy:
    """The retry discipline configured with ``datalad.tcia.*``."""
    cfg = datalad.cfg
    return RetryPolicy(
        max_attempts=int(cfg.obtain('datalad.tcia.max-attempts')),
        initial_delay=float(cfg.obtain('datalad.tcia.retry-initial-delay')),
        budget=float(cfg.obtain('datalad.tcia.retry-budget')),
    )


def timeouts() -> tuple[float, float]:
    """Connect and read timeouts (``datalad.tcia.timeout``)."""
    return (30.0, float(datalad.cfg.obtain('datalad.tcia.timeout')))


def store_path(store: str | None = None) -> Path:
    """The store directory (absolute): ``store`` or ``datalad.tcia.store``."""
    value = store or str(datalad.cfg.obtain('datalad.tcia.store'))
    return Path(value).expanduser().absolute()


def dicom_tags() -> tuple[str, ...]:
    """DICOM keywords to record per file (``datalad.tcia.dicom-tags``)."""
    value = datalad.cfg.get('datalad.tcia.dicom-tags')
    if not value:
        return DEFAULT_TAGS
    return tuple(t for t in re.split(r'[\s,]+', str(value)) if t)


def catalog_limits() -> CatalogLimits:
    """``datalad.tcia.catalog-max-files``, ``-max-subdatasets`` and
    ``-patients-on-page``."""
    return CatalogLimits(
        max_files=int(datalad.cfg.obtain('datalad.tcia.catalog-max-files')),
        max_subdatasets=int(datalad.cfg.obtain('datalad.tcia.catalog-max-subdatasets')),
        patients_on_page=int(
            datalad.cfg.obtain('datalad.tcia.catalog-patients-on-page')
        ),
    )


def group_above() -> int:
    """``datalad.tcia.group-above``: the most patients a collection dataset
    holds directly."""
    return int(datalad.cfg.obtain('datalad.tcia.group-above'))
