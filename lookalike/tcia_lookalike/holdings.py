"""The collections the look-alike serves.

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

Tests and benchmarks add collections of a size or shape:
:func:`build_cohort` (many patients of one small CT series),
:func:`build_shaped_collection` (a real collection's patients, studies and
series counts, CT-sized files) and :func:`build_large_collection` (one
series of many gigabytes); :func:`collection_from_spec` builds any other
from a spec shaped like the default archive's.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from datetime import date

import pydicom

from .data import Archive, Collection, Patient, Series, Study, make_uid
from .synthesis import SeriesRecipe, shared_pixels, synthesise_instance, template_bytes

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
    template = pydicom.dcmread(io.BytesIO(template_bytes('CT_small.dcm')))
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
                    shared_pixels(template, series, n, side, block)
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
