"""The settings of one run of the pipeline, built once by the command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.datacite import CitationLookup
from datalad_tcia.dataset.naming import DEFAULT_PATH_TEMPLATE, GROUP_ABOVE
from datalad_tcia.idc import IdcIndex
from datalad_tcia.nbia import NbiaClient
from datalad_tcia.pipeline.selection import SeriesSource

from .idc_sources import IdcSources
from .write_catalog import CatalogLimits

#: where series may be acquired from (``--source``)
ACQUISITION_SOURCES = ('auto', 'idc', 'nbia')


@dataclass(frozen=True)
class RunSettings:
    """What a run works with.

    Attributes
    ----------
    store: Path
      The store directory.
    nbia: NbiaClient
      NBIA's API: downloads, and the ``getSingleImage`` URLs of every
      file (also of files acquired from IDC: building a URL asks nothing).
    citations: CitationLookup
      DataCite, asked once per DOI and run.
    tags: tuple of str
      DICOM keywords recorded per file.
    jobs: int
      Parallel requests.
    force: bool
      Acquire again what is recorded; build every patient's dataset again
      (not only the changed ones) and replace an export that holds
      another history.
    source: str
      ``auto``, ``idc`` or ``nbia`` (see :func:`~.acquire.route`).
    index: IdcIndex or None
      The IDC index, when it (not NBIA) answers the selection.
    idc: IdcSources or None
      IDC's index and buckets: files' IDC sources, and series acquired
      from IDC; ``None``: no IDC this run.
    base_url: str
      The store's base URL (clone URLs).
    keep_archives: bool
      Keep NBIA archives after the datasets are verified.
    catalog_limits: CatalogLimits or None
      Sizes of catalog pages.
    group_above: int
      The most patients a collection dataset holds directly (more: in
      group datasets).
    template: str
      The path template of the files in a patient dataset.
    """

    store: Path
    nbia: NbiaClient
    citations: CitationLookup
    tags: tuple[str, ...] = DEFAULT_TAGS
    jobs: int = 1
    force: bool = False
    source: str = 'auto'
    index: IdcIndex | None = None
    idc: IdcSources | None = None
    base_url: str = ''
    keep_archives: bool = False
    catalog_limits: CatalogLimits | None = None
    group_above: int = GROUP_ABOVE
    template: str = DEFAULT_PATH_TEMPLATE

    def __post_init__(self) -> None:
        if self.source not in ACQUISITION_SOURCES:
            msg = f'source must be one of {ACQUISITION_SOURCES}, not {self.source!r}'
            raise ValueError(msg)

    @property
    def uuids(self) -> IdcIndex | None:
        """The IDC index, for ``.s5cmd`` manifests (also when NBIA plans)."""
        if self.index is not None:
            return self.index
        return self.idc.index if self.idc is not None else None

    @property
    def planner(self) -> SeriesSource:
        """Who answers the selection: the IDC index, or NBIA."""
        return self.index if self.index is not None else self.nbia
