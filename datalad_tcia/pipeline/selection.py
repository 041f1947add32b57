"""What a user selects (:class:`Selection`) and what it resolves to
(:class:`Resolution`, with a :class:`SelectionProblem` for each part that
names nothing); who answers a selection (:class:`SeriesSource`: NBIA or
the IDC index). :mod:`.select` resolves one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from datalad_tcia.nbia import SeriesInfo

if TYPE_CHECKING:
    from datalad_tcia.idc.located import VersionMatch


class UuidResolver(Protocol):
    """What maps IDC's series UUIDs to series (the IDC index)."""

    version: str

    def series_of_uuids(self, uuids: Sequence[str]) -> Mapping[str, VersionMatch]: ...


class SeriesSource(Protocol):
    """What answers a selection: NBIA (:class:`~datalad_tcia.nbia.NbiaClient`)
    or the IDC index (:class:`~datalad_tcia.idc.IdcIndex`)."""

    @property
    def where(self) -> str:
        """Who answers, for messages."""
        ...

    def get_collection_values(self) -> list[str]: ...

    def collection_alias(self, name: str) -> str | None:
        """The name of the collection known by another name ``name``."""
        ...

    def get_series(
        self,
        *,
        collection: str | None = None,
        patient_id: str | None = None,
        study_uid: str | None = None,
        series_uid: str | None = None,
        modality: str | None = None,
        body_part: str | None = None,
        manufacturer: str | None = None,
    ) -> list[SeriesInfo]: ...


@dataclass(frozen=True)
class Selection:
    """What a user asked for.

    All given parts must match (they are combined with AND); series UIDs from
    ``series`` and from the manifest are pooled. ``all_collections``
    selects every collection; ``where`` is an SQL condition over the IDC
    index's columns.
    """

    collection: str | None = None
    patient: str | None = None
    study: str | None = None
    series: tuple[str, ...] = ()
    manifest: str | None = None
    modality: str | None = None
    body_part: str | None = None
    manufacturer: str | None = None
    all_collections: bool = False
    where: str | None = None
    analysis_result: str | None = None
    with_analysis_results: bool = False

    @property
    def is_empty(self) -> bool:
        """Whether nothing at all was selected."""
        return not (
            self.collection
            or self.patient
            or self.study
            or self.series
            or self.manifest
            or self.all_collections
            or self.analysis_result
            or self.has_filter
        )

    @property
    def has_filter(self) -> bool:
        """Whether a filter (modality, body part, manufacturer, an SQL
        condition) narrows it."""
        return bool(self.modality or self.body_part or self.manufacturer or self.where)

    @property
    def is_whole(self) -> bool:
        """Whether it names whole collections or patients (no study,
        series, manifest or filter): then a recorded series it no longer
        finds was withdrawn upstream."""
        return bool(
            self.collection
            or self.patient
            or self.all_collections
            or self.analysis_result
        ) and not (self.study or self.series or self.manifest or self.has_filter)

    def describe(self) -> str:
        """A short human-readable description, for messages."""
        parts = ['every collection'] if self.all_collections else []
        for label, value in (
            ('collection', self.collection),
            ('patient', self.patient),
            ('study', self.study),
            ('manifest', self.manifest),
            ('modality', self.modality),
            ('body part', self.body_part),
            ('manufacturer', self.manufacturer),
            ('condition', self.where),
            ('analysis result', self.analysis_result),
        ):
            if value:
                parts.append(f'{label} {value!r}')
        if self.series:
            parts.append(f'{len(self.series)} series UID(s)')
        if self.with_analysis_results:
            parts.append('with their analysis results')
        return ', '.join(parts) or 'nothing'


@dataclass(frozen=True)
class SelectionProblem:
    """One part of a selection that selects nothing.

    Attributes
    ----------
    kind: str
      ``unknown-collection``, ``unknown-patient``, ``unknown-study``,
      ``unknown-series``, ``malformed-uid``, ``bad-manifest``,
      ``bad-where`` or ``no-match``.
    value: str
      The offending input.
    message: str
      What is wrong and what to do about it.
    """

    kind: str
    value: str
    message: str


@dataclass
class Resolution:
    """The series a selection resolved to, its problems, and notes on
    parts skipped that do not stop the rest (``.s5cmd`` lines that match
    no series, as idc-index treats them)."""

    series: list[SeriesInfo] = field(default_factory=list)
    problems: list[SelectionProblem] = field(default_factory=list)
    notes: list[SelectionProblem] = field(default_factory=list)
