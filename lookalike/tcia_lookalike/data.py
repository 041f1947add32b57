"""The look-alike's archive: collections, patients, studies, series and
their files, with the lookups the servers need and the upstream changes
tests make (withdraw, publish, revise).

Everything is deterministic: the same code builds the same UIDs and the same
DICOM bytes (hence the same MD5s) on every machine, so tests can compare
what the pipeline deposited with what the server holds. The files are made
in :mod:`.synthesis`; the collections served in :mod:`.holdings`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from pydicom.uid import generate_uid

#: pydicom's UID root; generate_uid keeps results within 64 characters
UID_PREFIX = '1.2.826.0.1.3680043.8.498.'


def make_uid(*parts: str) -> str:
    """A deterministic DICOM UID from ``parts``."""
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=['datalad-tcia', *parts])


@dataclass(frozen=True)
class Instance:
    """One DICOM file as NBIA stores it.

    The content is ``parts`` concatenated; large synthetic files share one
    big part between instances, so that a multi-gigabyte series costs little
    memory.
    """

    sop_uid: str
    instance_number: int
    acquisition_number: int
    parts: tuple[bytes, ...]
    md5: str

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.parts)

    @property
    def data(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b''.join(self.parts)


@dataclass
class Collection:
    """An NBIA collection."""

    name: str
    license_name: str
    license_uri: str
    doi: str | None = None
    site: str = 'LOOKALIKE'
    patients: list[Patient] = field(default_factory=list)
    #: the DataCite record's ``version``, where a test bumps it
    datacite_version: str | None = None

    @property
    def data_description_uri(self) -> str | None:
        return f'https://doi.org/{self.doi}' if self.doi else None

    def license_text(self) -> str:
        """The ``LICENSE`` member NBIA puts first in every archive."""
        return (
            f'License Information. The {self.name} collection is distributed '
            f'under the {self.license_name} at {self.license_uri} By '
            'downloading the data, you agree to abide by terms of this '
            'license.\n'
        )


@dataclass
class Patient:
    """A patient (subject) of a collection."""

    patient_id: str
    collection: Collection
    name: str = ''
    sex: str = 'O'
    age: str = '060Y'
    studies: list[Study] = field(default_factory=list)


@dataclass
class Study:
    """A DICOM study."""

    uid: str
    patient: Patient
    study_date: date
    description: str
    series: list[Series] = field(default_factory=list)


@dataclass
class Series:
    """A DICOM series with its files."""

    uid: str
    study: Study
    modality: str
    series_number: int
    description: str
    body_part: str | None
    manufacturer: str
    model: str
    software: str
    protocol: str | None
    date_released: date
    instances: list[Instance] = field(default_factory=list)
    #: zlib level for the archive's members (None: zlib's default)
    compresslevel: int | None = None
    #: the analysis result a third-party series belongs to
    analysis: AnalysisSet | None = None

    @property
    def patient(self) -> Patient:
        return self.study.patient

    @property
    def collection(self) -> Collection:
        return self.study.patient.collection

    @property
    def file_size(self) -> int:
        return sum(i.size for i in self.instances)


@dataclass
class AnalysisSet:
    """An analysis result: third-party series (segmentations, reports)
    made of collections' images, under its own DOI and licence. Its series
    sit in the studies they describe only where NBIA lists them
    (:meth:`Archive.publish`); IDC's index always has them."""

    ident: str
    title: str
    doi: str
    license_name: str
    license_uri: str
    series: list[Series] = field(default_factory=list)

    @property
    def data_description_uri(self) -> str:
        return f'https://doi.org/{self.doi}'


class Archive:
    """All collections the look-alike serves, with lookup indexes."""

    def __init__(
        self,
        collections: Sequence[Collection],
        analyses: Sequence[AnalysisSet] = (),
    ) -> None:
        self.collections = list(collections)
        self.analyses = list(analyses)
        self.reindex()

    def reindex(self) -> None:
        """Rebuild lookup tables (call after changing the collections)."""
        self._series = {s.uid: s for s in self.iter_idc_series()}
        self._instances = {
            (s.uid, i.sop_uid): i for s in self._series.values() for i in s.instances
        }

    def iter_series(self) -> Iterator[Series]:
        for c in self.collections:
            for p in c.patients:
                for st in p.studies:
                    yield from st.series

    def iter_idc_series(self) -> Iterator[Series]:
        """Every series IDC holds: the collections' and every analysis
        result's (also those NBIA does not list)."""
        seen = set()
        for s in self.iter_series():
            seen.add(s.uid)
            yield s
        for analysis in self.analyses:
            yield from (s for s in analysis.series if s.uid not in seen)

    def series(self, uid: str) -> Series | None:
        return self._series.get(uid)

    def instance(self, series_uid: str, sop_uid: str) -> Instance | None:
        return self._instances.get((series_uid, sop_uid))

    def collection(self, name: str) -> Collection | None:
        for c in self.collections:
            if c.name.upper() == name.upper():
                return c
        return None

    # -- upstream changes between runs (switches for tests) -------------------
    def withdraw(self, uid: str) -> Series:
        """Stop serving a series (NBIA no longer lists it); returns it, to
        :meth:`publish` again later."""
        series = self._series[uid]
        series.study.series.remove(series)
        self.reindex()
        return series

    def publish(self, series: Series) -> None:
        """Serve a series (again) in its study."""
        if series not in series.study.series:
            series.study.series.append(series)
        self.reindex()

    def revise(self, uid: str, *, change: int = 1, remove: int = 1) -> Series:
        """Revise a series as TCIA does: the first ``change`` files get other
        bytes (a new MD5), the last ``remove`` files are gone."""
        series = self._series[uid]
        for n in range(change):
            inst = series.instances[n]
            data = inst.data + b'\0\0'
            series.instances[n] = replace(inst, parts=(data,), md5=md5_hex(data))
        del series.instances[len(series.instances) - remove :]
        self.reindex()
        return series


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - content identity
