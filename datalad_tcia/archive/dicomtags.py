"""Read selected DICOM header values as plain JSON values.

Header reading must survive real-world files: deflated, big endian,
implicit VR, no preamble, truncated pixel data, odd character sets. Pixel
data is never read. A member that pydicom cannot parse is reported as not
DICOM, never dropped.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from collections.abc import Sequence
from typing import IO, Any, BinaryIO, cast

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.valuerep import PersonName

from .fastheader import scan_header
from .references import DERIVED_MODALITIES, read_references

lgr = logging.getLogger('datalad.tcia.archive.dicomtags')

PIXEL_DATA = 0x7FE00010

#: tags recorded per DICOM file unless configured otherwise
DEFAULT_TAGS: tuple[str, ...] = (
    'SOPClassUID',
    'Modality',
    'PatientID',
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'StudyDate',
    'StudyDescription',
    'SeriesDescription',
    'SeriesNumber',
    'InstanceNumber',
    'AcquisitionNumber',
    'BodyPartExamined',
    'ProtocolName',
    'Manufacturer',
    'Rows',
    'Columns',
)


def known_keywords(tags: Sequence[str]) -> list[str]:
    """The DICOM keywords among ``tags`` (unknown ones are dropped).

    >>> known_keywords(['Modality', 'NoSuchKeyword'])
    ['Modality']
    """
    return [t for t in tags if tag_for_keyword(t) is not None]


def json_value(value: Any) -> Any:
    """Turn a pydicom element value into a plain JSON value.

    Strings, numbers and lists of them pass; person names and UIDs become
    strings; ``DS``/``IS`` become numbers; bytes and sequences become
    ``None`` (they do not belong in a flat record).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, MultiValue | list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, str):
        return str(value)
    return None


def read_header(
    data: bytes | memoryview | IO[bytes],
    tags: Sequence[str] = DEFAULT_TAGS,
    *,
    fast: bool = True,
    head: bytes | None = None,
) -> dict[str, Any] | None:
    """Parse a DICOM header and return ``SOPInstanceUID`` and ``tags``.

    Returns ``None`` if the bytes are not DICOM. Missing tags are left out.
    ``TransferSyntaxUID`` is added from the file meta when present.

    ``data`` may be a seekable file object; ``head``, the first bytes of
    that file, lets the fast path try first (the file is then only read if
    the header does not fit into ``head``).
    """
    with warnings.catch_warnings():
        # odd character sets and invalid values warn; the value still reads
        warnings.simplefilter('ignore')
        if fast:
            whole = isinstance(data, bytes | memoryview)
            prefix = bytes(data) if whole else head  # type: ignore[arg-type]
            found = None
            if prefix is not None:
                try:
                    found = scan_header(prefix, known_keywords(tags), complete=whole)
                except (ValueError, TypeError, LookupError):
                    found = None
            if found is not None:
                return _with_references(_plain(found), data)
        return _with_references(_header_values(data, tags), data)


def _with_references(
    out: dict[str, Any] | None, data: bytes | memoryview | IO[bytes]
) -> dict[str, Any] | None:
    """``out`` with what the object references, for a derived object (a
    SEG, SR, RTSTRUCT, ...; see :mod:`.references`)."""
    if out is not None and out.get('Modality') in DERIVED_MODALITIES:
        out.update(read_references(data))
    return out


def _plain(found: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for key, raw in found.items():
        value = json_value(raw)
        if value not in (None, '', []):
            out[key] = value
    if not out.get('SOPInstanceUID'):
        return None
    return out


def _header_values(
    data: bytes | memoryview | IO[bytes], tags: Sequence[str]
) -> dict[str, Any] | None:
    ds = _parse(data, tags)
    if ds is None:
        return None
    try:
        sop = ds.get('SOPInstanceUID')
    except (ValueError, TypeError, LookupError):
        return None
    if not sop:
        return None
    out: dict[str, Any] = {'SOPInstanceUID': str(sop)}
    for keyword in tags:
        try:
            elem = ds.data_element(keyword)
        except (KeyError, ValueError, TypeError, LookupError):
            continue
        if elem is None or elem.VR == 'SQ':
            continue
        try:
            value = json_value(elem.value)
        except (ValueError, TypeError, LookupError):  # undecodable value
            continue
        if value not in (None, '', []):
            out[keyword] = value
    meta = getattr(ds, 'file_meta', None)
    if meta is not None and 'TransferSyntaxUID' in meta:
        out['TransferSyntaxUID'] = str(meta.TransferSyntaxUID)
    return out


def _parse(data: bytes | memoryview | IO[bytes], tags: Sequence[str]) -> Dataset | None:
    # only keep what we need, and stop reading after the last of it (and
    # always before the pixel data): parsing elements is the cost
    keywords = ['SOPInstanceUID', 'SpecificCharacterSet', *known_keywords(tags)]
    wanted: list[BaseTag | int] = [Tag(k) for k in keywords]
    last = max(int(t) for t in wanted)

    def stop(tag: BaseTag, vr: str | None, length: int) -> bool:
        return tag > last or tag >= PIXEL_DATA

    def source() -> BinaryIO:
        if isinstance(data, bytes | memoryview):
            return io.BytesIO(data)
        data.seek(0)
        return cast(BinaryIO, data)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return read_partial(source(), stop_when=stop, specific_tags=wanted)
        except InvalidDicomError:
            pass
        except Exception as e:  # noqa: BLE001 - any parse failure means "not DICOM"
            lgr.debug('not readable as DICOM: %r', e)
            return None
        # no preamble / no 'DICM': only accept what parses into a dataset
        # with an SOP instance (text files "parse" into garbage otherwise)
        try:
            return read_partial(
                source(), stop_when=stop, force=True, specific_tags=wanted
            )
        except Exception as e:  # noqa: BLE001
            lgr.debug('not readable as DICOM even with force: %r', e)
            return None
