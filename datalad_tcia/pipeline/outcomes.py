"""What the units of work report: typed outcomes, one class per kind.

Every outcome has a ``status`` (``ok``, ``notneeded``, ``impossible`` or
``error``) and a ``message`` that says what happened and, for failures,
what to do. The commands turn them into DataLad result records; the
library never builds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datalad_tcia.dataset import SubdatasetEntry
from datalad_tcia.nbia import SeriesInfo

from .gather_provenance import PatientSummary

#: statuses that mean "done"
SUCCESS = ('ok', 'notneeded')


@dataclass
class Problem:
    """Something that stopped a unit of work before it started.

    Attributes
    ----------
    stage: str
      ``plan``, ``series``, ``metadata``, ``patient``, ``collection``,
      ``top``, ``catalog``, ``archives`` or ``clone``.
    kind: str, optional
      For selection problems: ``unknown-collection``, ``malformed-uid``,
      ... (see :class:`~datalad_tcia.pipeline.select.SelectionProblem`).
    value: str, optional
      The offending input.
    """

    stage: str
    status: str
    message: str
    path: Path | None = None
    kind: str | None = None
    value: str | None = None
    exception: BaseException | None = None


@dataclass
class SeriesOutcome:
    """The result of acquiring one series (download, verify, record)."""

    status: str
    message: str
    series: SeriesInfo
    archive: Path | None = None
    metadata: Path | None = None
    attempts: int = 0
    archive_md5: str | None = None
    archive_size: int | None = None
    problems: list[str] = field(default_factory=list)
    #: where the series came from (``nbia`` or ``idc``)
    source: str = 'nbia'
    #: bytes received for it (archive, or listing and headers)
    received: int | None = None


@dataclass
class WithdrawnOutcome:
    """A recorded series NBIA no longer serves, withdrawn from the
    datasets (its records moved to ``metadata/withdrawn/``)."""

    status: str
    message: str
    series: SeriesInfo
    path: Path
    files: int = 0


@dataclass
class MetadataOutcome:
    """The metadata records of one series found in an archive on disk."""

    status: str
    message: str
    path: Path
    archive: Path
    series_uid: str
    files: int


@dataclass
class IdcOutcome:
    """What the IDC step did for one patient.

    ``status`` is ``ok`` when series were listed (even if some failed),
    ``notneeded`` when nothing was to be done; ``warnings`` name the series
    whose listing failed (never a failure of the run).
    """

    status: str
    message: str
    patient_id: str
    listed: int = 0
    matched: int = 0
    files: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class PatientOutcome:
    """A patient dataset built or updated, and its export written."""

    status: str
    message: str
    patient_id: str
    slug: str
    path: Path
    url: str
    files: int | None = None
    commit: str | None = None
    entry: SubdatasetEntry | None = None
    exception: BaseException | None = None
    #: what the IDC step found for the patient's series
    idc: IdcOutcome | None = None
    #: what the collection step needs of its series
    summary: PatientSummary | None = None


@dataclass
class CollectionOutcome:
    """The collection superdataset updated and its export written."""

    status: str
    message: str
    collection: str
    path: Path
    url: str
    exception: BaseException | None = None
    #: the version this run made (a ``tcia-YYYY-MM-DD`` tag), if any
    version: str | None = None


@dataclass
class TopOutcome:
    """The store's top-level dataset (every collection as a subdataset)
    updated and its export written."""

    status: str
    message: str
    path: Path
    url: str
    #: the collections it holds
    collections: int = 0
    #: the version this run made, if any
    version: str | None = None
    exception: BaseException | None = None


@dataclass
class CatalogOutcome:
    """The catalog site of a collection written."""

    status: str
    message: str
    path: Path
    url: str | None = None
    doi: str | None = None
    exception: BaseException | None = None


@dataclass
class ArchivesOutcome:
    """Archives deleted once every file is verified to have its sources."""

    status: str
    message: str
    path: Path
    deleted: int = 0


@dataclass
class CloneOutcome:
    """The collection dataset cloned to where the user asked."""

    status: str
    message: str
    path: Path


@dataclass
class GetOutcome:
    """What a get did in one dataset of a clone.

    Attributes
    ----------
    path: Path
      The dataset (or, for a path that is not there, the path).
    files: int
      Files whose content arrived.
    bytes: int
      Bytes the fast path received for them.
    fallback: int
      Of ``files``, those ``git annex get`` fetched.
    failed: list of str
      git-annex's message for each file no source delivered.
    installed: bool
      Whether the dataset was installed by this run.
    """

    status: str
    message: str
    path: Path
    files: int = 0
    bytes: int = 0
    fallback: int = 0
    failed: list[str] = field(default_factory=list)
    installed: bool = False


Outcome = (
    Problem
    | SeriesOutcome
    | WithdrawnOutcome
    | MetadataOutcome
    | IdcOutcome
    | PatientOutcome
    | CollectionOutcome
    | TopOutcome
    | CatalogOutcome
    | ArchivesOutcome
    | CloneOutcome
    | GetOutcome
)
