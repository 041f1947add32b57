"""File content into a clone's datasets, many files and datasets at once.

``wanted`` finds what a dataset lacks (keys, URLs, location logs),
``install`` installs subdatasets as ``datalad get -n`` does, ``transfer``
fetches the content, ``sink`` verifies it and makes it present as git-annex
does (:mod:`datalad_tcia.formats.annex_content`), ``progress`` counts and shows
it. The pipeline step is :func:`datalad_tcia.pipeline.get_files`.

.. currentmodule:: datalad_tcia.retrieve
.. autosummary::
   :toctree: generated

   dataset_content
   fetch_keys
   install_subdatasets
"""

from .install import (
    INSTALL_JOBS,
    InstallResult,
    Subdataset,
    install_subdatasets,
    subdatasets,
)
from .progress import Progress, ProgressBars
from .sink import ContentMismatch, ContentSink
from .transfer import DEFAULT_JOBS, KeyResult, TransferSettings, fetch_keys
from .wanted import (
    AnnexedLinks,
    DatasetContent,
    WantedKey,
    dataset_content,
    key_facts,
    missing_bytes,
    ordered_urls,
    scan_links,
)

__all__ = [
    'DEFAULT_JOBS',
    'INSTALL_JOBS',
    'AnnexedLinks',
    'ContentMismatch',
    'ContentSink',
    'DatasetContent',
    'InstallResult',
    'KeyResult',
    'Progress',
    'ProgressBars',
    'Subdataset',
    'TransferSettings',
    'WantedKey',
    'dataset_content',
    'fetch_keys',
    'install_subdatasets',
    'key_facts',
    'missing_bytes',
    'ordered_urls',
    'scan_links',
    'subdatasets',
]
