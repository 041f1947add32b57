"""Where a header ends, from a file's first bytes: the fast scan agrees
with pydicom wherever it answers, and a cut header is never complete."""

from __future__ import annotations

import io

from pydicom.filereader import read_partial
from tcia_lookalike.holdings import build_default_archive

from datalad_tcia.archive.fastheader import pixel_data_offset
from datalad_tcia.idc.header import _at_pixels, pixel_offset


def _pydicom_offset(buf: bytes) -> int | None:
    fp = io.BytesIO(buf)
    try:
        read_partial(fp, stop_when=_at_pixels, force=True)
    except Exception:  # noqa: BLE001 - cut in an element header
        return None
    return fp.tell() if fp.tell() < len(buf) else None


def test_fast_offset_agrees_with_pydicom_at_every_cut() -> None:
    archive = build_default_archive()
    answered = 0
    for series in archive.iter_series():
        for inst in series.instances:
            data = inst.data
            whole = pixel_offset(data)
            for cut in [*range(0, min(len(data), 16384), 61), len(data)]:
                buf = data[:cut]
                fast = pixel_data_offset(buf)
                found = pixel_offset(buf)
                if fast is not None:
                    answered += 1
                    assert fast == _pydicom_offset(buf), (series.modality, cut)
                # complete only once PixelData is in the buffer: never early
                if found is not None:
                    assert whole == found, (series.modality, cut)
                    assert cut >= found + 8
    assert answered > 500
