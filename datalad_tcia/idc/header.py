"""One IDC object's facts without its pixel data: size and MD5 from the
listing, the DICOM header from its first bytes (HTTP ``Range``).

The first request asks for :data:`FIRST_RANGE` bytes, which hold the
header of a CT or MR file (pydicom's ``CT_small`` reaches PixelData at
6,288 bytes); a longer header (a SEG with many frames: 53 KB) asks again
for more, doubling, until PixelData is reached or the object ends. A cut
header has to be *detected*: pydicom reads a short buffer into a partial
dataset without complaint, so the header counts as complete only when
the parser stopped at PixelData with bytes left over, or when the buffer
is the whole object. An object whose listing gives no MD5 (a multipart
upload's ETag) is downloaded whole and hashed while it streams.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag
from pydicom.uid import DeflatedExplicitVRLittleEndian

from datalad_tcia.archive import DEFAULT_TAGS
from datalad_tcia.archive.dicomtags import PIXEL_DATA, read_header
from datalad_tcia.archive.fastheader import header_cut, pixel_data_offset
from datalad_tcia.store.hashing import ContentHash

from .s3 import IdcClientError, S3Client, S3Object

lgr = logging.getLogger('datalad.tcia.idc.header')

#: bytes of the first request for an object's header
FIRST_RANGE = 8 * 1024
#: bytes of a whole download kept to read its header from
HEAD_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class ObjectFacts:
    """What was learned of one object.

    Attributes
    ----------
    key: str
      The object key.
    size: int
      Bytes.
    md5: str
      MD5 of the whole object (the listing's ETag, or computed).
    header: dict or None
      ``SOPInstanceUID``, the requested tags and the transfer syntax, as
      :func:`~datalad_tcia.archive.dicomtags.read_header` gives them;
      ``None`` if the object is not DICOM.
    received: int
      Body bytes received for it.
    """

    key: str
    size: int
    md5: str
    header: dict[str, Any] | None
    received: int


def _at_pixels(tag: BaseTag, vr: str | None, length: int) -> bool:
    return int(tag) >= PIXEL_DATA


def pixel_offset(buf: bytes) -> int | None:
    """Where PixelData starts, if ``buf`` (an object's first bytes) holds
    the whole header before it; ``None`` if the header is cut (or there
    is no PixelData within ``buf``), or if the header cannot be read from
    a prefix at all (deflated: only the whole object tells).

    >>> from pydicom.data import get_testdata_file
    >>> data = open(get_testdata_file('CT_small.dcm'), 'rb').read()
    >>> pixel_offset(data[:8192]), pixel_offset(data[:6290]), pixel_offset(data[:900])
    (6288, None, None)
    """
    fast = pixel_data_offset(buf)
    if fast is not None:
        return fast
    if header_cut(buf):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for force in (False, True):
            fp = io.BytesIO(buf)
            try:
                ds = read_partial(fp, stop_when=_at_pixels, force=force)
            except InvalidDicomError:
                continue  # no preamble: once more without insisting on one
            except Exception as e:  # noqa: BLE001 - a cut element header
                lgr.debug('header not complete in %d bytes: %r', len(buf), e)
                return None
            meta = getattr(ds, 'file_meta', None)
            if meta is not None and (
                meta.get('TransferSyntaxUID') == DeflatedExplicitVRLittleEndian
            ):
                return None
            pos = fp.tell()
            return pos if pos < len(buf) else None
    return None


def read_object(
    s3: S3Client,
    bucket: str,
    obj: S3Object,
    tags: Sequence[str] = DEFAULT_TAGS,
    *,
    first: int = FIRST_RANGE,
) -> ObjectFacts:
    """The facts of ``obj``, reading as little of it as its header needs.

    Raises
    ------
    datalad_tcia.idc.s3.IdcListingError
      When the bucket cannot be read (after retries), sends no bytes, or
      sends other bytes than its listing says.
    """
    if obj.md5 is None:
        # a multipart ETag is no MD5: the whole object, hashed as it streams
        buf, md5, received = s3.read_md5(bucket, obj.key, keep=HEAD_LIMIT)
        if received != obj.size:
            msg = f'{received} bytes received, the listing says {obj.size}'
            raise IdcClientError(s3.object_url(bucket, obj.key), msg, 200)
    else:
        buf, md5, received = b'', obj.md5, 0
    want = first
    # read on until the header is complete: PixelData, or the whole object
    while len(buf) < obj.size and (not buf or pixel_offset(buf) is None):
        start = len(buf)
        end = min(obj.size, max(want, start + first)) - 1
        chunk, whole = s3.read_range(bucket, obj.key, start, end)
        received += len(chunk)
        if whole:
            buf = chunk
        elif chunk:
            buf += chunk
        else:
            msg = f'no bytes for the range {start}-{end} of a {obj.size}-byte object'
            raise IdcClientError(s3.object_url(bucket, obj.key), msg, 206)
        want = 2 * (end + 1)
        if len(buf) >= obj.size:
            _check_whole(s3, bucket, obj, buf, md5)
    return ObjectFacts(obj.key, obj.size, md5, read_header(buf, tags), received)


def _check_whole(
    s3: S3Client, bucket: str, obj: S3Object, buf: bytes, md5: str
) -> None:
    """An object read to its end must be what its listing says."""
    if len(buf) != obj.size or ContentHash(buf).hexdigest() != md5:
        msg = (
            f'{len(buf)} bytes received that differ from the listing '
            f'({obj.size} bytes, MD5 {md5})'
        )
        raise IdcClientError(s3.object_url(bucket, obj.key), msg, 200)
