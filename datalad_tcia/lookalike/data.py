"""The look-alike's archive: synthetic collections built from pydicom's files.

Everything is deterministic: the same code builds the same UIDs and the same
DICOM bytes (hence the same MD5s) on every machine, so tests can compare
what the pipeline deposited with what the server holds.

The default archive (:func:`build_default_archive`) has three small
collections that together cover the encodings and oddities real TCIA data
show:

``Pseudo-PHI-DICOM-Data``
  Two patients, CT (explicit VR little endian), MR (implicit VR) and SR.
  Its DOI ``10.7937/s17z-r072`` is served from a real DataCite record.
``LOOKALIKE-MR-Encodings``
  One patient whose series use explicit VR big endian, deflated explicit VR,
  RLE lossless, JPEG 2000 (lossless and lossy), a file without preamble and
  file meta, and a file with truncated pixel data.
``LOOKALIKE-RT``
  A phantom with CT, RTSTRUCT, RTDOSE, RTPLAN and SEG series, and no DOI.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import UID, generate_uid

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

    @property
    def patient(self) -> Patient:
        return self.study.patient

    @property
    def collection(self) -> Collection:
        return self.study.patient.collection

    @property
    def file_size(self) -> int:
        return sum(i.size for i in self.instances)


class Archive:
    """All collections the look-alike serves, with lookup indexes."""

    def __init__(self, collections: Sequence[Collection]) -> None:
        self.collections = list(collections)
        self.reindex()

    def reindex(self) -> None:
        """Rebuild lookup tables (call after changing the collections)."""
        self._series = {s.uid: s for s in self.iter_series()}
        self._instances = {
            (s.uid, i.sop_uid): i for s in self._series.values() for i in s.instances
        }

    def iter_series(self) -> Iterator[Series]:
        for c in self.collections:
            for p in c.patients:
                for st in p.studies:
                    yield from st.series

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
            series.instances[n] = replace(inst, parts=(data,), md5=_md5(data))
        del series.instances[len(series.instances) - remove :]
        self.reindex()
        return series


# -- DICOM synthesis ---------------------------------------------------------


@cache
def _template(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    if path is None:  # pragma: no cover - files ship in the pydicom wheel
        msg = f'pydicom test file {name} is missing'
        raise FileNotFoundError(msg)
    with open(path, 'rb') as fp:
        return fp.read()


@dataclass(frozen=True)
class SeriesRecipe:
    """How to synthesise one series from a pydicom test file.

    ``variant`` is ``None`` (re-encode as the template is), ``no-preamble``
    (no preamble, no file meta, implicit VR) or ``as-is`` (the template's
    bytes with only nothing changed, for files pydicom cannot round-trip).
    """

    template: str
    modality: str
    description: str
    count: int = 1
    body_part: str | None = None
    protocol: str | None = None
    variant: str | None = None


def synthesise_instance(recipe: SeriesRecipe, series: Series, number: int) -> Instance:
    """Build the bytes of instance ``number`` (1-based) of ``series``."""
    sop_uid = make_uid(series.uid, 'instance', str(number))
    if recipe.variant == 'as-is':
        data = _template(recipe.template)
        return Instance(sop_uid, number, 1, (data,), _md5(data))
    ds = pydicom.dcmread(io.BytesIO(_template(recipe.template)), force=True)
    _rewrite(ds, series, sop_uid, number)
    buf = io.BytesIO()
    if recipe.variant == 'no-preamble':
        if hasattr(ds, 'file_meta'):
            del ds.file_meta
        ds.preamble = None
        pydicom.dcmwrite(
            buf, ds, implicit_vr=True, little_endian=True, enforce_file_format=False
        )
    else:
        ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
        ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    return Instance(sop_uid, number, 1, (data,), _md5(data))


def _rewrite(ds: Dataset, series: Series, sop_uid: str, number: int) -> None:
    study = series.study
    patient = study.patient
    ds.PatientID = patient.patient_id
    ds.PatientName = patient.name or patient.patient_id
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = study.study_date.strftime('%Y%m%d')
    ds.StudyDescription = study.description
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = series.series_number
    ds.SeriesDescription = series.description
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = number
    ds.AcquisitionNumber = 1
    ds.Modality = series.modality
    ds.Manufacturer = series.manufacturer
    if series.body_part:
        ds.BodyPartExamined = series.body_part
    if series.protocol:
        ds.ProtocolName = series.protocol


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - content identity


# -- the default archive -----------------------------------------------------

CC_BY_4 = (
    'Creative Commons Attribution 4.0 International License',
    'https://creativecommons.org/licenses/by/4.0/',
)
CC_BY_3 = (
    'Creative Commons Attribution 3.0 Unported License',
    'http://creativecommons.org/licenses/by/3.0/',
)

# collection -> patients -> studies -> series recipes
_DEFAULT: list[dict] = [
    {
        'name': 'Pseudo-PHI-DICOM-Data',
        'license': CC_BY_4,
        'doi': '10.7937/s17z-r072',
        'patients': [
            {
                'id': 'Pseudo-PHI-001',
                'sex': 'F',
                'studies': [
                    (
                        date(2019, 3, 14),
                        'CT CHEST W CONTRAST',
                        [
                            SeriesRecipe('CT_small.dcm', 'CT', 'AXIAL 5mm', 3, 'CHEST'),
                            SeriesRecipe('test-SR.dcm', 'SR', 'Dose Report'),
                        ],
                    ),
                ],
            },
            {
                'id': 'Pseudo-PHI-002',
                'sex': 'M',
                'studies': [
                    (
                        date(2020, 11, 2),
                        'MRI BRAIN',
                        [
                            SeriesRecipe(
                                'MR_small_implicit.dcm', 'MR', 'T1 AX', 2, 'HEAD'
                            ),
                            SeriesRecipe('MR_small.dcm', 'MR', 'T2 AX', 2, 'HEAD'),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        'name': 'LOOKALIKE-MR-Encodings',
        'license': CC_BY_3,
        'doi': '10.7937/tcia.lookalike.mrenc',
        'patients': [
            {
                'id': 'ENC-01',
                'sex': 'O',
                'studies': [
                    (
                        date(2021, 6, 30),
                        'Encoding test study',
                        [
                            SeriesRecipe(
                                'MR_small_bigendian.dcm', 'MR', 'Big endian', 2, 'HEAD'
                            ),
                            SeriesRecipe('image_dfl.dcm', 'OT', 'Deflated', 1),
                            SeriesRecipe('MR_small_RLE.dcm', 'MR', 'RLE', 2, 'HEAD'),
                            SeriesRecipe(
                                'MR_small_jp2klossless.dcm',
                                'MR',
                                'JPEG 2000',
                                2,
                                'HEAD',
                            ),
                            SeriesRecipe(
                                'JPEG2000.dcm',
                                'NM',
                                # markup in a DICOM header: data, not HTML
                                'JPEG 2000 lossy <img src=x '
                                'onerror=window.__tcia_xss.push(1)>',
                                1,
                            ),
                            SeriesRecipe(
                                'MR_small.dcm',
                                'MR',
                                'No preamble',
                                1,
                                'HEAD',
                                variant='no-preamble',
                            ),
                            SeriesRecipe(
                                'MR_truncated.dcm', 'MR', 'Truncated pixels', 1, 'HEAD'
                            ),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        'name': 'LOOKALIKE-RT',
        'license': CC_BY_3,
        'doi': None,
        'patients': [
            {
                'id': 'RT-PHANTOM-1',
                'sex': 'O',
                'studies': [
                    (
                        date(2018, 1, 9),
                        'RT planning',
                        [
                            SeriesRecipe(
                                'CT_small.dcm', 'CT', 'Planning CT', 2, 'PELVIS'
                            ),
                            SeriesRecipe('rtstruct.dcm', 'RTSTRUCT', 'Structures'),
                            SeriesRecipe('rtdose.dcm', 'RTDOSE', 'Dose'),
                            SeriesRecipe('rtplan.dcm', 'RTPLAN', 'Plan'),
                            SeriesRecipe('liver_1frame.dcm', 'SEG', 'Segmentation'),
                        ],
                    ),
                ],
            },
        ],
    },
]


def collection_from_spec(spec: dict) -> Collection:
    """Build one collection from a spec shaped like the entries of the
    default archive (name, license, doi, patients with studies of
    :class:`SeriesRecipe`)."""
    lic_name, lic_uri = spec['license']
    coll = Collection(spec['name'], lic_name, lic_uri, doi=spec.get('doi'))
    for pspec in spec['patients']:
        patient = Patient(pspec['id'], coll, sex=pspec.get('sex', 'O'))
        coll.patients.append(patient)
        for sdate, sdesc, recipes in pspec['studies']:
            study = Study(
                make_uid(coll.name, patient.patient_id, sdesc),
                patient,
                sdate,
                sdesc,
            )
            patient.studies.append(study)
            for number, recipe in enumerate(recipes, start=1):
                series = Series(
                    uid=make_uid(study.uid, 'series', str(number)),
                    study=study,
                    modality=recipe.modality,
                    series_number=number,
                    description=recipe.description,
                    body_part=recipe.body_part,
                    manufacturer='LOOKALIKE MEDICAL',
                    model='Synth 1',
                    software='datalad-tcia look-alike',
                    protocol=recipe.protocol,
                    date_released=date(2024, 5, 2),
                )
                series.instances = [
                    synthesise_instance(recipe, series, i)
                    for i in range(1, recipe.count + 1)
                ]
                study.series.append(series)
    return coll


def _shared_pixels(
    ds: Dataset, series: Series, number: int, side: int, block: bytes
) -> Instance:
    """A CT file: ``ds`` (a template, changed in place) rewritten as
    instance ``number`` of ``series``, then ``block`` as its pixel data
    (shared, not copied)."""
    sop_uid = make_uid(series.uid, 'instance', str(number))
    _rewrite(ds, series, sop_uid, number)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.Rows = ds.Columns = side
    if 'PixelData' in ds:
        del ds.PixelData
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    # explicit VR little endian Pixel Data element header
    head = (
        buf.getvalue() + b'\xe0\x7f\x10\x00OW\x00\x00' + struct.pack('<L', len(block))
    )
    md5 = hashlib.md5(head)  # noqa: S324
    md5.update(block)
    return Instance(sop_uid, number, 1, (head, block), md5.hexdigest())


def build_shaped_collection(
    name: str,
    shape: Sequence[Sequence[Sequence[int]]],
    *,
    doi: str | None = None,
    side: int = 512,
) -> Collection:
    """A collection of a real one's shape: ``shape[i]`` are patient
    ``i``'s studies, each a list of its series' file counts. Every file
    is a CT header of its own (about 6 KB) followed by ``side`` x
    ``side`` 16-bit pixels from one shared block (512: 525 KB, a CT
    slice), so that a collection of many gigabytes costs little memory.
    """
    lic_name, lic_uri = CC_BY_3
    coll = Collection(name, lic_name, lic_uri, doi=doi)
    block = random.Random(name).randbytes(side * side * 2)
    template = pydicom.dcmread(io.BytesIO(_template('CT_small.dcm')))
    for i, studies in enumerate(shape):
        patient = Patient(f'{name}-{i + 1:04d}', coll)
        coll.patients.append(patient)
        for j, series_sizes in enumerate(studies):
            study = Study(
                make_uid(name, str(i), str(j)),
                patient,
                date(2001, 1, 1 + (i + j) % 28),
                'CT CHEST',
            )
            patient.studies.append(study)
            for k, files in enumerate(series_sizes):
                series = Series(
                    uid=make_uid(name, str(i), str(j), str(k)),
                    study=study,
                    modality='CT',
                    series_number=k + 1,
                    description='Axial',
                    body_part='CHEST',
                    manufacturer='LOOKALIKE MEDICAL',
                    model='Synth 1',
                    software='datalad-tcia look-alike',
                    protocol=None,
                    date_released=date(2024, 5, 2),
                    compresslevel=0,
                )
                study.series.append(series)
                series.instances.extend(
                    _shared_pixels(template, series, n, side, block)
                    for n in range(1, files + 1)
                )
    return coll


def build_default_archive() -> Archive:
    """The archive the tests and the demo use (see the module docstring)."""
    return Archive([collection_from_spec(spec) for spec in _DEFAULT])


def build_cohort(
    patients: int, files: int = 4, *, name: str = 'LOOKALIKE-COHORT'
) -> Collection:
    """A collection of ``patients`` patients with one CT series of
    ``files`` files each (for sharding, SLURM and per-patient costs)."""
    return collection_from_spec(
        {
            'name': name,
            'license': CC_BY_4,
            'doi': None,
            'patients': [
                {
                    'id': f'COHORT-{i + 1:04d}',
                    'sex': 'O',
                    'studies': [
                        (
                            date(2020, 1, 1 + i % 28),
                            'CT chest',
                            [
                                SeriesRecipe(
                                    'CT_small.dcm', 'CT', 'Axial', files, 'CHEST'
                                )
                            ],
                        )
                    ],
                }
                for i in range(patients)
            ],
        }
    )


def build_large_collection(
    total_bytes: int,
    *,
    name: str = 'LOOKALIKE-LARGE',
    file_bytes: int = 20 * 1024 * 1024,
) -> Collection:
    """A collection with one series of at least ``total_bytes`` of DICOM,
    in files of about ``file_bytes`` (see :func:`build_shaped_collection`:
    one shared block of pixel data, so the server's memory does not grow
    with the series)."""
    count = max(1, -(-total_bytes // file_bytes))
    # a square 16-bit image of about file_bytes
    side = max(1, int((file_bytes / 2) ** 0.5))
    return build_shaped_collection(name, [[[count]]], side=side)
