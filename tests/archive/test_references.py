"""What derived DICOM objects reference: SEG, SR, RTSTRUCT, ANN; and an M3D
(no references where it names none), each read as acquisition reads
headers."""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from datalad_tcia.archive.dicomtags import DEFAULT_TAGS, read_header
from datalad_tcia.archive.references import (
    REFERENCED_INSTANCES,
    REFERENCED_SERIES,
    REFERENCED_STUDIES,
)

CT_SERIES = generate_uid()
CT_STUDY = generate_uid()


def _item(**values: object) -> Dataset:
    ds = Dataset()
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def _file(ds: Dataset, sop_class: str) -> bytes:
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyInstanceUID = CT_STUDY
    ds.PatientID = 'P-1'
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _refs(n: int) -> Sequence:
    return Sequence(
        [
            _item(
                ReferencedSOPClassUID='1.2.840.10008.5.1.4.1.1.2',
                ReferencedSOPInstanceUID=generate_uid(),
            )
            for _ in range(n)
        ]
    )


def _ann() -> bytes:
    ds = Dataset()
    ds.Modality = 'ANN'
    ds.ReferencedSeriesSequence = Sequence(
        [_item(SeriesInstanceUID=CT_SERIES, ReferencedInstanceSequence=_refs(2))]
    )
    return _file(ds, '1.2.840.10008.5.1.4.1.1.91.1')


def _rtstruct() -> bytes:
    ds = Dataset()
    ds.Modality = 'RTSTRUCT'
    series = _item(SeriesInstanceUID=CT_SERIES, ContourImageSequence=_refs(3))
    study = _item(
        ReferencedSOPClassUID='1.2.840.10008.3.1.2.3.1',
        ReferencedSOPInstanceUID=CT_STUDY,
        RTReferencedSeriesSequence=Sequence([series]),
    )
    ds.ReferencedFrameOfReferenceSequence = Sequence(
        [
            _item(
                FrameOfReferenceUID=generate_uid(),
                RTReferencedStudySequence=Sequence([study]),
            )
        ]
    )
    return _file(ds, '1.2.840.10008.5.1.4.1.1.481.3')


def _sr() -> bytes:
    ds = Dataset()
    ds.Modality = 'SR'
    ds.CurrentRequestedProcedureEvidenceSequence = Sequence(
        [
            _item(
                StudyInstanceUID=CT_STUDY,
                ReferencedSeriesSequence=Sequence(
                    [_item(SeriesInstanceUID=CT_SERIES, ReferencedSOPSequence=_refs(4))]
                ),
            )
        ]
    )
    return _file(ds, '1.2.840.10008.5.1.4.1.1.88.34')


def _seg() -> bytes:
    path = get_testdata_file('liver_1frame.dcm')
    ds = pydicom.dcmread(path)
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = CT_SERIES
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _m3d() -> bytes:
    ds = Dataset()
    ds.Modality = 'M3D'
    ds.MIMETypeOfEncapsulatedDocument = 'model/stl'
    ds.EncapsulatedDocument = b'solid x\nendsolid x\n'
    return _file(ds, '1.2.840.10008.5.1.4.1.1.104.3')


@pytest.mark.parametrize(
    ('make', 'studies', 'instances'),
    [(_ann, None, 2), (_rtstruct, None, 4), (_sr, [CT_STUDY], 4), (_seg, None, 3)],
)
def test_derived_objects_name_the_series_they_describe(
    make, studies, instances
) -> None:  # noqa: ANN001
    data = make()
    for fast in (True, False):
        head = read_header(data, DEFAULT_TAGS, fast=fast)
        assert head is not None
        assert head[REFERENCED_SERIES] == [CT_SERIES]
        assert head.get(REFERENCED_STUDIES) == studies
        assert head[REFERENCED_INSTANCES] == instances
    # a file object too (an archive member)
    assert read_header(io.BytesIO(data), DEFAULT_TAGS, fast=False)[
        REFERENCED_SERIES
    ] == [CT_SERIES]


def test_m3d_and_images_reference_nothing() -> None:
    head = read_header(_m3d(), DEFAULT_TAGS)
    assert head is not None and head['Modality'] == 'M3D'
    assert REFERENCED_SERIES not in head
    ct = open(get_testdata_file('CT_small.dcm'), 'rb').read()  # noqa: PTH123, SIM115
    head = read_header(ct, DEFAULT_TAGS)
    assert head is not None and REFERENCED_SERIES not in head
