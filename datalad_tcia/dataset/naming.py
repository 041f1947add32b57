"""Names inside the store and the datasets: patient slugs, file paths.

Paths follow the NBIA Data Retriever's "descriptive directory names", which
TCIA users know::

    <StudyDate>-<StudyDescription>-<last 5 of StudyUID>/
        <SeriesNumber>-<SeriesDescription>-<last 5 of SeriesUID>/<member>

Every component is sanitised: only letters, digits, space, ``.``, ``_``
and ``-`` survive, runs of anything else become ``_``, no component starts
with a dot, and descriptions are cut at 64 characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from datalad_tcia.nbia import SeriesInfo, format_date

#: git config item of a patient dataset's working copy naming its layout
PATH_TEMPLATE_CONFIG = 'datalad-tcia.layout'

DEFAULT_PATH_TEMPLATE = (
    '{StudyDate}-{StudyDescription}-{StudyUID5}/'
    '{SeriesNumber}-{SeriesDescription}-{SeriesUID5}/{member}'
)

_UNSAFE = re.compile(r'[^A-Za-z0-9 ._-]+')
_SLUG_UNSAFE = re.compile(r'[^A-Za-z0-9._-]+')


def sanitize(text: str, limit: int = 64, empty: str = 'NA') -> str:
    """A path component made from arbitrary text.

    >>> sanitize('CT CHEST/ABD w/o <contrast>')
    'CT CHEST_ABD w_o _contrast_'
    >>> sanitize('..'), sanitize('')
    ('_.', 'NA')
    """
    out = _UNSAFE.sub('_', text).strip()[:limit].strip()
    if out.startswith('.'):
        out = '_' + out[1:]
    return out or empty


def patient_slug(patient_id: str, taken: Iterable[str] = ()) -> str:
    """A path-safe, case-insensitively unique name for a PatientID.

    IDs that are already safe stay as they are; others are sanitised and
    get a short hash of the original ID, so that two IDs never share a
    slug. ``taken`` are slugs already assigned (compared case-insensitively,
    for case-insensitive file systems).

    >>> patient_slug('LIDC-IDRI-0001')
    'LIDC-IDRI-0001'
    >>> patient_slug('a/b')
    'a_b-a7e86136'
    """
    digest = hashlib.md5(patient_id.encode('utf-8')).hexdigest()[:8]  # noqa: S324
    base = _SLUG_UNSAFE.sub('_', patient_id).strip('._-')[:64] or 'patient'
    if base.lower() == 'collection':
        base = 'patient_collection'
    taken_lower = {t.lower() for t in taken}
    if base == patient_id and base.lower() not in taken_lower:
        return base
    slug = f'{base}-{digest}'
    n = 0
    while slug.lower() in taken_lower:
        n += 1
        slug = f'{base}-{digest}-{n}'
    return slug


def assign_slugs(
    patient_ids: Iterable[str], existing: Mapping[str, str]
) -> dict[str, str]:
    """Slugs for all ``patient_ids``, keeping every ``existing`` assignment
    (an export URL must never change)."""
    out = dict(existing)
    for pid in sorted(set(patient_ids)):
        if pid not in out:
            out[pid] = patient_slug(pid, out.values())
    return out


#: patients a collection dataset holds directly; a collection with more
#: holds its patients in group datasets (see :func:`group_digits`)
GROUP_ABOVE = 2000
#: the most patients a group dataset should hold
MAX_GROUP = 1000


def group_digits(slugs: Iterable[str], most: int = MAX_GROUP) -> int:
    """How many trailing characters of a slug a group's name replaces:
    the most that keep every group at ``most`` patients or fewer and make
    more than one group (fewest groups: each is a dataset to make and to
    install on the way to a patient). NLST's 26,254 patients, ``100002``
    ... ``218894``: 3, 54 groups (``100xxx`` ... ``218xxx``) of up to
    1,000.

    >>> group_digits([f'{100000 + 4 * i}' for i in range(26254)])
    3
    >>> group_digits([f'P-{i:04d}' for i in range(3000)], most=40)
    1
    """
    names = list(slugs)
    digits = 1
    while digits < 64:  # noqa: PLR2004
        sizes: dict[str, int] = {}
        for s in names:
            group = group_of(s, digits + 1)
            sizes[group] = sizes.get(group, 0) + 1
        if max(sizes.values(), default=0) > most or len(sizes) < 2:  # noqa: PLR2004
            break
        digits += 1
    return digits


def group_of(slug: str, digits: int) -> str:
    """The group dataset a patient's dataset lives in: its slug with the
    last ``digits`` characters replaced by ``x`` (``100012`` -> ``100xxx``
    holds ``100000`` ... ``100999``).

    >>> group_of('100012', 3), group_of('LIDC-IDRI-0001', 2), group_of('7', 3)
    ('100xxx', 'LIDC-IDRI-00xx', 'xxx')
    """
    return slug[:-digits] + 'x' * digits if len(slug) > digits else 'x' * digits


def _last5(uid: str | None) -> str:
    return (uid or '')[-5:] or 'NA'


def file_path(template: str, series: SeriesInfo, member: str) -> str:
    """The path of archive member ``member`` of a series in a dataset.

    The template's fields are ``StudyDate`` (NBIA's ``MM-DD-YYYY``),
    ``StudyDescription``, ``StudyUID5``, ``SeriesNumber``,
    ``SeriesDescription``, ``SeriesUID5``, ``Modality``, ``SeriesUID``,
    ``StudyUID`` and ``member``.

    >>> s = SeriesInfo('1.2.840.99.12345', '1.2.3.54321', 'P1', 'C',
    ...                series_number=3, series_description='AX T1')
    >>> file_path(DEFAULT_PATH_TEMPLATE, s, '1-01.dcm')
    'NA-NA-54321/3-AX T1-12345/1-01.dcm'
    """
    number = series.series_number
    fields = {
        'StudyDate': sanitize(format_date(series.study_date), 10),
        'StudyDescription': sanitize(series.study_description or ''),
        'StudyUID5': _last5(series.study_uid),
        'StudyUID': sanitize(series.study_uid or ''),
        'SeriesNumber': str(number) if number is not None else 'NA',
        'SeriesDescription': sanitize(series.series_description or ''),
        'SeriesUID5': _last5(series.series_uid),
        'SeriesUID': sanitize(series.series_uid),
        'Modality': sanitize(series.modality or ''),
        'member': '/'.join(sanitize(p, 128) for p in member.split('/') if p),
    }
    return template.format(**fields)
