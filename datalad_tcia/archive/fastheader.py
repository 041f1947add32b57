"""A fast path for reading a few header values of common DICOM files.

Why this exists: the metadata records reads the header of every file, and
pydicom's element-by-element reader costs about a millisecond per CT file,
several times the cost of inflating and hashing it. This module only
*locates* the wanted elements in the byte layout of the two encodings that
nearly all TCIA files use (explicit and implicit VR little endian, with
preamble and file meta) and leaves the decoding of their values to
pydicom's own converters. Anything else -- big endian, deflated, no
preamble, a layout it does not expect, a value it cannot find -- returns
``None`` and the caller falls back to pydicom's full reader. The test suite
checks that both paths agree on every file pydicom ships.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag
from pydicom.values import convert_value

IMPLICIT_LE = '1.2.840.10008.1.2'
BIG_ENDIAN = '1.2.840.10008.1.2.2'
DEFLATED = '1.2.840.10008.1.2.1.99'

# VRs whose explicit-VR header has a 4-byte length after 2 reserved bytes
_LONG_VRS = frozenset(
    {
        b'OB',
        b'OD',
        b'OF',
        b'OL',
        b'OV',
        b'OW',
        b'SQ',
        b'SV',
        b'UC',
        b'UN',
        b'UR',
        b'UT',
        b'UV',
    }
)
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQ_END = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_CHARSET = 0x00080005
_TS = 0x00020010

_U16 = struct.Struct('<H')
_U32 = struct.Struct('<L')
_TAG = struct.Struct('<HH')


class _Unsupported(Exception):
    """The layout is not one this fast path handles."""


def scan_header(
    data: bytes, keywords: Sequence[str], *, complete: bool = True
) -> dict[str, Any] | None:
    """Values of ``keywords`` (plus ``SOPInstanceUID`` and the transfer
    syntax), or ``None`` when the file needs pydicom's full reader.

    With ``complete=False``, ``data`` is only the beginning of a file; if
    the wanted elements may lie beyond it, ``None`` is returned.
    """
    if len(data) < 144 or data[128:132] != b'DICM':
        return None
    wanted = {int(Tag(k)): k for k in keywords if tag_for_keyword(k) is not None}
    wanted[0x00080018] = 'SOPInstanceUID'
    wanted[_CHARSET] = 'SpecificCharacterSet'
    last = max(wanted)
    try:
        pos, ts, implicit = _layout(data)
        found = _scan(data, pos, implicit, wanted, last, complete)
    except (_Unsupported, struct.error, IndexError):
        return None
    if 0x00080018 not in found:
        return None
    charset = found.pop(_CHARSET, None)
    encodings: list[str] = [default_encoding]
    if charset is not None:
        value = convert_value('CS', charset)
        terms = [value] if isinstance(value, str) else [str(v) for v in value]
        encodings = convert_encodings([t for t in terms if t] or None)
    out: dict[str, Any] = {}
    for tag, raw in found.items():
        vr = raw.VR
        if vr is None or vr == 'UN':
            # implicit VR, or UN for a known tag: pydicom uses the
            # dictionary VR (config.replace_un_with_known_vr)
            vr = dictionary_VR(tag)
        value = convert_value(vr, raw, encodings)
        if isinstance(value, bytes):
            # a VR this path does not decode like pydicom would
            return None
        out[wanted[tag]] = value
    out['TransferSyntaxUID'] = ts
    return out


def pixel_data_offset(data: bytes) -> int | None:
    """Where the PixelData element starts, if ``data`` (a file's first
    bytes) reaches it, for the layouts this module reads; ``None`` when
    the header is cut before it or the layout is another (pydicom then
    decides)."""
    return _pixel_scan(data)[0]


def header_cut(data: bytes) -> bool:
    """Whether ``data`` (a file's first bytes, in a layout this module
    reads) ends inside the header, before any PixelData: then more bytes
    are needed, and pydicom need not be asked."""
    offset, cut = _pixel_scan(data)
    return offset is None and cut


def _pixel_scan(data: bytes) -> tuple[int | None, bool]:
    """PixelData's offset, and whether the scan ran off the end of
    ``data`` (not: stopped at a layout it does not read)."""
    if len(data) < 144 or data[128:132] != b'DICM':
        return None, False
    try:
        pos, _ts, implicit = _layout(data)
    except (_Unsupported, struct.error, IndexError):
        return None, False
    end = len(data)
    try:
        while pos + 8 <= end:
            group, elem = _TAG.unpack_from(data, pos)
            if (group << 16) | elem >= _PIXEL_DATA:
                return pos, False
            if group == 0xFFFE:
                return None, False
            vr_bytes, length, pos = _element_header(data, pos, implicit)
            if length == _UNDEFINED:
                if vr_bytes not in (None, b'SQ'):
                    return None, False
                pos = _skip_sequence(data, pos, implicit)
            else:
                pos += length
    except _Unsupported:
        return None, False
    except (struct.error, IndexError):
        return None, True
    return None, True


def _layout(data: bytes) -> tuple[int, str, bool]:
    """The offset after the file meta group, the transfer syntax, and
    whether it is implicit VR; :class:`_Unsupported` for the encodings this
    module does not read (big endian, deflated, unknown)."""
    pos, ts = _file_meta(data)
    if ts == IMPLICIT_LE:
        return pos, ts, True
    if ts in (BIG_ENDIAN, DEFLATED) or not ts.startswith('1.2.840.10008.1.2'):
        raise _Unsupported
    # explicit VR little endian, including every encapsulated syntax
    return pos, ts, False


def _file_meta(data: bytes) -> tuple[int, str]:
    """Return the offset after the file meta group and the transfer syntax."""
    pos = 132
    ts = None
    while True:
        group, _elem = _TAG.unpack_from(data, pos)
        if group != 0x0002:
            break
        tag = (group << 16) | _elem
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            length = _U32.unpack_from(data, pos + 8)[0]
            pos += 12
        else:
            length = _U16.unpack_from(data, pos + 6)[0]
            pos += 8
        if length == _UNDEFINED or pos + length > len(data):
            raise _Unsupported
        if tag == _TS:
            ts = data[pos : pos + length].rstrip(b'\x00 ').decode('ascii')
        pos += length
    if ts is None:
        raise _Unsupported
    return pos, ts


def _scan(
    data: bytes,
    pos: int,
    implicit: bool,
    wanted: dict[int, str],
    last: int,
    complete: bool,
) -> dict[int, RawDataElement]:
    found: dict[int, RawDataElement] = {}
    end = len(data)
    while True:
        if pos + 8 > end:
            if not complete:
                # the prefix ended before the last wanted element
                raise _Unsupported
            break
        group, elem = _TAG.unpack_from(data, pos)
        tag = (group << 16) | elem
        if tag > last or tag >= _PIXEL_DATA:
            break
        if group == 0xFFFE:
            raise _Unsupported
        vr_bytes, length, pos = _element_header(data, pos, implicit)
        vr = None if vr_bytes is None else vr_bytes.decode('ascii')
        if length == _UNDEFINED and vr_bytes not in (None, b'SQ'):
            # undefined-length UN/OB: its content may be implicit VR
            raise _Unsupported
        if length == _UNDEFINED:
            if tag in wanted:
                raise _Unsupported
            pos = _skip_sequence(data, pos, implicit)
            continue
        if pos + length > end:
            raise _Unsupported
        if tag in wanted:
            found[tag] = RawDataElement(
                Tag(tag), vr, length, data[pos : pos + length], pos, implicit, True
            )
        pos += length
    return found


def _element_header(
    data: bytes, pos: int, implicit: bool
) -> tuple[bytes | None, int, int]:
    """(VR or None if implicit, value length, value offset) of the element
    at ``pos``."""
    if implicit:
        return None, _U32.unpack_from(data, pos + 4)[0], pos + 8
    vr_bytes = data[pos + 4 : pos + 6]
    if vr_bytes in _LONG_VRS:
        return vr_bytes, _U32.unpack_from(data, pos + 8)[0], pos + 12
    if vr_bytes.isalpha() and vr_bytes.isupper():
        return vr_bytes, _U16.unpack_from(data, pos + 6)[0], pos + 8
    raise _Unsupported


def _skip_sequence(data: bytes, pos: int, implicit: bool) -> int:
    """Skip an undefined-length sequence value; return the offset after its
    delimiter."""
    while True:
        group, elem = _TAG.unpack_from(data, pos)
        tag = (group << 16) | elem
        length = _U32.unpack_from(data, pos + 4)[0]
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise _Unsupported
        if length == _UNDEFINED:
            pos = _skip_item(data, pos, implicit)
        else:
            pos += length


def _skip_item(data: bytes, pos: int, implicit: bool) -> int:
    """Skip an undefined-length item (a nested data set, in the outer
    encoding); return the offset after its delimiter."""
    while True:
        group, elem = _TAG.unpack_from(data, pos)
        tag = (group << 16) | elem
        if tag == _ITEM_END:
            return pos + 8
        if group == 0xFFFE:
            raise _Unsupported
        vr_bytes, length, pos = _element_header(data, pos, implicit)
        # in implicit VR only sequences may have an undefined length
        is_sq = vr_bytes is None or vr_bytes == b'SQ'
        if length == _UNDEFINED:
            if not is_sq:
                raise _Unsupported
            pos = _skip_sequence(data, pos, implicit)
        else:
            pos += length
        if pos > len(data):
            raise _Unsupported
