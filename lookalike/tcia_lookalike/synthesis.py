"""DICOM files for the look-alike, synthesised from pydicom's test files:
each rewritten with its patient's, study's and series' UIDs and tags.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from functools import cache

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import UID

from .data import Instance, Series, make_uid, md5_hex


@cache
def template_bytes(name: str) -> bytes:
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
        data = template_bytes(recipe.template)
        return Instance(sop_uid, number, 1, (data,), md5_hex(data))
    ds = pydicom.dcmread(io.BytesIO(template_bytes(recipe.template)), force=True)
    rewrite_ids(ds, series, sop_uid, number)
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
    return Instance(sop_uid, number, 1, (data,), md5_hex(data))


def rewrite_ids(ds: Dataset, series: Series, sop_uid: str, number: int) -> None:
    """Give ``ds`` the identity of instance ``number`` of ``series``."""
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


def shared_pixels(
    ds: Dataset, series: Series, number: int, side: int, block: bytes
) -> Instance:
    """A CT file: ``ds`` (a template, changed in place) rewritten as
    instance ``number`` of ``series``, then ``block`` as its pixel data
    (shared, not copied)."""
    sop_uid = make_uid(series.uid, 'instance', str(number))
    rewrite_ids(ds, series, sop_uid, number)
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
