"""What a derived DICOM object says it describes: the series (and studies)
its references name.

Segmentations, structured reports, RT structure sets and annotations name
the images they were made of in nested sequences, each in its own place
(``ReferencedSeriesSequence`` of a SEG or ANN; ``CurrentRequestedProcedure
EvidenceSequence`` > ``ReferencedSeriesSequence`` of an SR;
``ReferencedFrameOfReferenceSequence`` > ``RTReferencedStudySequence`` >
``RTReferencedSeriesSequence`` of an RTSTRUCT). One rule covers them
all: every item of a nested sequence that carries a
``SeriesInstanceUID`` names a referenced series, in the study its own or
an enclosing item's ``StudyInstanceUID`` names; every
``ReferencedSOPInstanceUID`` is a referenced instance. All of them come
before the pixel data (SR and RTSTRUCT have none), so the header read
that acquisition does sees them.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterable
from typing import IO, Any, BinaryIO, cast

from pydicom.dataset import Dataset
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag

lgr = logging.getLogger('datalad.tcia.archive.references')

#: modalities of objects made of other series (read for references)
DERIVED_MODALITIES = frozenset(
    {'SEG', 'SR', 'RTSTRUCT', 'ANN', 'PR', 'KO', 'M3D', 'REG', 'RTPLAN', 'RTDOSE'}
)
#: the per-file record's keys of what an object references
REFERENCED_SERIES = 'ReferencedSeriesInstanceUID'
REFERENCED_STUDIES = 'ReferencedStudyInstanceUID'
REFERENCED_INSTANCES = 'ReferencedInstanceCount'

#: the top-level elements that hold references; others are skipped
#: unparsed: an SR's content tree, and a SEG's per-frame groups (their
#: ``SourceImageSequence`` names instances of the series its
#: ``ReferencedSeriesSequence`` names; hundreds of frames cost
#: milliseconds each to parse)
_HOLDERS = (
    'SeriesInstanceUID',
    'ReferencedSeriesSequence',
    'ReferencedImageSequence',
    'SourceImageSequence',
    'StudiesContainingOtherReferencedInstancesSequence',
    'CurrentRequestedProcedureEvidenceSequence',
    'PertinentOtherEvidenceSequence',
    'ReferencedFrameOfReferenceSequence',
)


def _past_holders(tag: BaseTag, vr: str | None, length: int) -> bool:
    # after the last holder (an RTSTRUCT's (3006,0010)): a SEG's functional
    # groups (5200,xxxx) and the pixel data are not even read
    return int(tag) > _LAST_HOLDER


_LAST_HOLDER = max(int(Tag(k)) for k in _HOLDERS)


def _walk(
    items: Iterable[Dataset],
    study: str | None,
    series: dict[str, None],
    studies: dict[str, None],
    sops: set[str],
) -> None:
    for item in items:
        here = str(item.get('StudyInstanceUID') or study or '') or None
        uid = item.get('SeriesInstanceUID')
        if uid:
            series[str(uid)] = None
            if here:
                studies[here] = None
        elif item.get('StudyInstanceUID'):
            studies[str(item.StudyInstanceUID)] = None
        sop = item.get('ReferencedSOPInstanceUID')
        if sop:
            sops.add(str(sop))
        for elem in item:
            if elem.VR == 'SQ' and elem.value:
                _walk(elem.value, here, series, studies, sops)


def references(ds: Dataset) -> dict[str, Any]:
    """The series, studies and instance count ``ds`` references (keys
    :data:`REFERENCED_SERIES`, :data:`REFERENCED_STUDIES`,
    :data:`REFERENCED_INSTANCES`; empty if it references none)."""
    series: dict[str, None] = {}
    studies: dict[str, None] = {}
    sops: set[str] = set()
    for elem in ds:
        if elem.VR == 'SQ' and elem.value:
            _walk(elem.value, None, series, studies, sops)
    # its own series is not one it describes
    series.pop(str(ds.get('SeriesInstanceUID') or ''), None)
    if not series and not sops:
        return {}
    out: dict[str, Any] = {}
    if series:
        out[REFERENCED_SERIES] = list(series)
    if studies:
        out[REFERENCED_STUDIES] = list(studies)
    if sops:
        out[REFERENCED_INSTANCES] = len(sops)
    return out


def read_references(data: bytes | memoryview | IO[bytes]) -> dict[str, Any]:
    """:func:`references` of the DICOM object in ``data`` (its header, up
    to the pixel data, is read); empty if it cannot be read."""
    if isinstance(data, bytes | memoryview):
        source: BinaryIO = io.BytesIO(data)
    else:
        data.seek(0)
        source = cast(BinaryIO, data)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for force in (False, True):
            try:
                source.seek(0)
                ds = read_partial(
                    source,
                    stop_when=_past_holders,
                    force=force,
                    specific_tags=[Tag(k) for k in _HOLDERS],
                )
                return references(ds)
            except Exception as e:  # noqa: BLE001 - unreadable: no references
                lgr.debug('references not readable (force=%s): %r', force, e)
    return {}
