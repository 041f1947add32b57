"""NBIA's ``NewFileNames`` rule: the names ``getImage`` gives the DICOM
files of a series archive, computed from the files' headers.

NBIA names each file ``<AcquisitionNumber>-<InstanceNumber>.dcm``, each
number zero-padded to the digits of the count of distinct values of it
in the series, e.g. ``1-001.dcm`` in a series of 100 to 999 instances of
one acquisition (``ImageDAO2Impl.setNewFileNames``; ``nbia-api.md`` 4.1).
A series acquired from IDC gets the names NBIA's archive of the same
files has, so that its dataset has the same paths.

Decisions where NBIA's rule is silent (documented in ``docs/``): a
missing or non-integer number counts as 1; two files that would get one
name keep it in SOPInstanceUID order with ``_2``, ``_3``, ... appended
to the later ones (NBIA's own archive would hold both under one name,
which its verification refuses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _number(value: Any) -> int:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 1


def new_file_names(headers: Sequence[Mapping[str, Any]]) -> list[str]:
    """The member name of each file, in the order of ``headers`` (each
    with ``AcquisitionNumber``, ``InstanceNumber`` and
    ``SOPInstanceUID``).

    >>> new_file_names([{'AcquisitionNumber': 1, 'InstanceNumber': n,
    ...                  'SOPInstanceUID': str(n)} for n in (2, 10, 1)])
    ['1-2.dcm', '1-10.dcm', '1-1.dcm']
    >>> new_file_names([{'InstanceNumber': 1, 'SOPInstanceUID': 'b'},
    ...                 {'InstanceNumber': 1, 'SOPInstanceUID': 'a'}])
    ['1-1_2.dcm', '1-1.dcm']
    """
    acq = [_number(h.get('AcquisitionNumber')) for h in headers]
    inst = [_number(h.get('InstanceNumber')) for h in headers]
    aw = len(str(len(set(acq))))
    iw = len(str(len(set(inst))))
    names = [f'{a:0{aw}d}-{i:0{iw}d}' for a, i in zip(acq, inst, strict=True)]
    seen: dict[str, int] = {}
    order = sorted(
        range(len(headers)), key=lambda k: str(headers[k].get('SOPInstanceUID'))
    )
    out = [''] * len(headers)
    for k in order:
        n = seen.get(names[k], 0) + 1
        seen[names[k]] = n
        out[k] = f'{names[k]}.dcm' if n == 1 else f'{names[k]}_{n}.dcm'
    return out
