"""Analysis results for the look-alike, shaped like TCIA's
(``dicom_lidc_idri_nodules``: per patient a DICOM SEG of the nodules and a
TID 1500 SR of their measurements, both referencing the patient's CT
series; ``qin_lungct_seg``: one analysis result over several
collections).

Their series sit in the studies of the CT series they describe, as 99.95 %
of IDC's analysis series do. IDC's index and bucket hold them
(:func:`~.idc_index.write_index`, :meth:`~.idc.S3Lookalike.fill`); NBIA
lists them among the collection's series (``ThirdPartyAnalysis`` YES)
only once a test publishes them into their study
(:meth:`~.data.Archive.publish`).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID

from .data import AnalysisSet, Archive, Instance, Series, make_uid, md5_hex
from .synthesis import rewrite_ids, template_bytes

#: the look-alike's analysis result over two collections (a TCIA DOI)
NODULES = 'lookalike_nodule_annotations'
NODULES_DOI = '10.7937/tcia.lookalike-nodules'
CC_BY_3 = (
    'Creative Commons Attribution 3.0 Unported License',
    'http://creativecommons.org/licenses/by/3.0/',
)
CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2'
#: what each kind of series holds, for its description
WHAT = {'SEG': 'nodules', 'SR': 'measurements'}


def _item(**values: object) -> Dataset:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


def _instance_refs(ct: Series) -> DicomSequence:
    return DicomSequence(
        [
            _item(
                ReferencedSOPClassUID=CT_IMAGE_STORAGE,
                ReferencedSOPInstanceUID=i.sop_uid,
            )
            for i in ct.instances
        ]
    )


def _encode(ds: Dataset) -> Instance:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    return Instance(str(ds.SOPInstanceUID), 1, 1, (data,), md5_hex(data))


def _describe(ds: Dataset, series: Series, ct: Series) -> None:
    """Give ``ds`` (a SEG or SR template) the identity of the one file of
    ``series`` and make it reference ``ct``'s study, series and files:
    a SEG by its ``ReferencedSeriesSequence``, an SR by its
    ``CurrentRequestedProcedureEvidenceSequence``."""
    sop_uid = make_uid(series.uid, 'instance', '1')
    rewrite_ids(ds, series, sop_uid, 1)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    refs = _instance_refs(ct)
    if series.modality == 'SEG':
        ds.ReferencedSeriesSequence = DicomSequence(
            [_item(SeriesInstanceUID=ct.uid, ReferencedInstanceSequence=refs)]
        )
        return
    for stale in (
        'PredecessorDocumentsSequence',
        'ReferencedPerformedProcedureStepSequence',
    ):
        if stale in ds:
            delattr(ds, stale)
    ds.CurrentRequestedProcedureEvidenceSequence = DicomSequence(
        [
            _item(
                StudyInstanceUID=ct.study.uid,
                ReferencedSeriesSequence=DicomSequence(
                    [_item(SeriesInstanceUID=ct.uid, ReferencedSOPSequence=refs)]
                ),
            )
        ]
    )


def seg_instance(seg: Series, ct: Series) -> Instance:
    """A DICOM SEG (pydicom's ``liver_1frame``) of ``ct``: its
    ``ReferencedSeriesSequence`` names the CT series and every file of it,
    its frame's ``SourceImageSequence`` the first file."""
    ds = pydicom.dcmread(io.BytesIO(template_bytes('liver_1frame.dcm')))
    _describe(ds, seg, ct)
    ds.FrameOfReferenceUID = make_uid(ct.uid, 'frame-of-reference')
    first = ct.instances[0].sop_uid
    for frame in ds.PerFrameFunctionalGroupsSequence:
        for derivation in frame.DerivationImageSequence:
            derivation.SourceImageSequence = DicomSequence(
                [
                    _item(
                        ReferencedSOPClassUID=CT_IMAGE_STORAGE,
                        ReferencedSOPInstanceUID=first,
                    )
                ]
            )
    return _encode(ds)


def sr_instance(sr: Series, ct: Series) -> Instance:
    """A structured report (pydicom's ``test-SR``) whose
    ``CurrentRequestedProcedureEvidenceSequence`` names ``ct``'s study,
    series and files."""
    ds = pydicom.dcmread(io.BytesIO(template_bytes('test-SR.dcm')))
    _describe(ds, sr, ct)
    return _encode(ds)


def analysis_series(
    analysis: AnalysisSet,
    ct: Series,
    modality: str,
    number: int,
    *,
    key: str | None = None,
    description: str | None = None,
) -> Series:
    """A series (without files) of ``analysis`` made of ``ct``, in its
    study (``key`` tells apart several of one modality)."""
    return Series(
        uid=make_uid(analysis.ident, ct.uid, key or modality),
        study=ct.study,
        modality=modality,
        series_number=number,
        description=description or f'{analysis.title}: {WHAT[modality]}',
        body_part=ct.body_part,
        manufacturer='Lookalike Analysis Lab',
        model='dcmqi',
        software='1.2.4',
        protocol=None,
        date_released=ct.date_released,
        analysis=analysis,
    )


def _derived(analysis: AnalysisSet, ct: Series, modality: str, number: int) -> Series:
    series = analysis_series(analysis, ct, modality, number)
    make = seg_instance if modality == 'SEG' else sr_instance
    series.instances.append(make(series, ct))
    return series


def build_analysis_results(
    archive: Archive,
    described: Sequence[str] = ('Pseudo-PHI-DICOM-Data', 'LOOKALIKE-RT'),
) -> list[AnalysisSet]:
    """The look-alike's analysis result :data:`NODULES`: a SEG and an SR
    of the first CT series of every patient of the collections
    ``described`` (added to ``archive.analyses``)."""
    analysis = AnalysisSet(
        NODULES,
        'Look-alike nodule segmentations and reports',
        NODULES_DOI,
        *CC_BY_3,
    )
    for name in described:
        coll = archive.collection(name)
        if coll is None:
            continue
        for patient in coll.patients:
            ct = next(
                (s for st in patient.studies for s in st.series if s.modality == 'CT'),
                None,
            )
            if ct is None:
                continue
            analysis.series.append(_derived(analysis, ct, 'SEG', 9001))
            analysis.series.append(_derived(analysis, ct, 'SR', 9002))
    archive.analyses.append(analysis)
    return [analysis]


def _frames(ds: Dataset, frames: int, side: int) -> None:
    """Make the SEG ``ds`` one of ``frames`` binary frames of ``side``
    squared pixels (per-frame groups copied from its first frame)."""
    first = ds.PerFrameFunctionalGroupsSequence[0]
    items = []
    for n in range(frames):
        item = copy.deepcopy(first)
        item.FrameContentSequence[0].DimensionIndexValues = [1, n + 1]
        item.PlanePositionSequence[0].ImagePositionPatient = [0.0, 0.0, float(n)]
        items.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(items)
    ds.NumberOfFrames = frames
    ds.Rows = ds.Columns = side
    ds.PixelData = bytes(frames * side * side // 8)


def build_shaped_analysis(
    archive: Archive,
    collection: str,
    *,
    ident: str = 'nodules_shape',
    per_patient: int = 16,
    frames: int = 10,
    side: int = 512,
    sr_items: int = 18,
) -> AnalysisSet:
    """An analysis result shaped like ``dicom_lidc_idri_nodules`` (13,718
    series of one object each for 875 patients, 2.45 GB: per patient
    about 16, a SEG of a nodule and the SR of its measurements in turn) of
    the first CT series of every patient of ``collection``: each SEG
    ``frames`` bit-packed frames of ``side`` squared pixels (10 x 512 x
    512: 320 KB of pixels behind a header of per-frame groups), each SR
    ``sr_items`` content items (about 30 KB, no pixel data: read whole)."""
    analysis = AnalysisSet(
        ident,
        f'{ident} (shape of dicom_lidc_idri_nodules)',
        f'10.7937/{ident}',
        *CC_BY_3,
    )
    coll = archive.collection(collection)
    assert coll is not None
    seg_template = pydicom.dcmread(io.BytesIO(template_bytes('liver_1frame.dcm')))
    _frames(seg_template, frames, side)
    sr_template = pydicom.dcmread(io.BytesIO(template_bytes('test-SR.dcm')))
    filler = copy.deepcopy(sr_template.ContentSequence[-1])
    sr_template.ContentSequence = DicomSequence(
        [
            *sr_template.ContentSequence,
            *(copy.deepcopy(filler) for _ in range(sr_items)),
        ]
    )
    for patient in coll.patients:
        ct = patient.studies[0].series[0]
        for n in range(per_patient):
            modality = 'SEG' if n % 2 == 0 else 'SR'
            series = analysis_series(
                analysis,
                ct,
                modality,
                9000 + n,
                key=str(n),
                description=f'{ident}: {WHAT[modality]} {n // 2 + 1}',
            )
            template = seg_template if modality == 'SEG' else sr_template
            series.instances.append(_shaped(template, series, ct))
            analysis.series.append(series)
    archive.analyses.append(analysis)
    archive.reindex()
    return analysis


def _shaped(template: Dataset, series: Series, ct: Series) -> Instance:
    ds = copy.deepcopy(template)
    _describe(ds, series, ct)
    return _encode(ds)
