"""Helpers shared by the commands: configuration and client set-up."""

from __future__ import annotations

import re
from pathlib import Path

import datalad

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.nbia import NbiaClient, RetryPolicy
from datalad_tcia.nbia.credentials import has_credentials, redact


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


def store_url_problem(store_url: str | None) -> str | None:
    """Why ``store_url`` cannot be used, if it cannot.

    Store URLs are written into every deposit (subdataset URLs) and result,
    so they must not carry a user name or password.
    """
    if store_url and has_credentials(store_url):
        return (
            f'--store-url {redact(store_url)} carries credentials, which would '
            'be recorded in every deposit; give the URL without them and let '
            'those who clone use DataLad credentials ("datalad credentials")'
        )
    return None


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
