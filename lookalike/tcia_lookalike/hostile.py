"""A look-alike collection with hostile names, for robustness tests.

Not part of the default archive: tests add it where they need it.
PatientIDs contain ``/``, ``..``, leading dots, control characters, long
non-ASCII text, and IDs that differ only in case or in characters a slug
drops; descriptions contain path separators and markup.
"""

from __future__ import annotations

import warnings
from datetime import date

from .data import Collection
from .holdings import CC_BY_4, collection_from_spec
from .synthesis import SeriesRecipe

HOSTILE_NAME = 'LOOKALIKE-Hostile Names'

HOSTILE_PATIENT_IDS = (
    '../../etc',
    '.hidden',
    'a/b',
    'a_b',
    'CASE-1',
    'case-1',
    'tab\there',
    'Ünïcødé Pätiënt 患者 ' + 'x' * 20,
    'collection',
    'V' * 300,
    'ctl\x01\x1b[31mred\x7f',
)


def build_hostile_collection() -> Collection:
    """One CT series per hostile PatientID."""
    spec = {
        'name': HOSTILE_NAME,
        'license': CC_BY_4,
        'doi': None,
        'patients': [
            {
                'id': pid,
                'studies': [
                    (
                        date(2020, 1, 1),
                        '../study/..<b>x</b>',
                        [
                            SeriesRecipe(
                                'CT_small.dcm',
                                'CT',
                                f'/abs/../{n}<script>1</script>',
                                1,
                                'CHEST',
                            )
                        ],
                    )
                ],
            }
            for n, pid in enumerate(HOSTILE_PATIENT_IDS)
        ],
    }
    with warnings.catch_warnings():
        # values longer or stranger than DICOM allows are the point here
        warnings.simplefilter('ignore')
        return collection_from_spec(spec)
