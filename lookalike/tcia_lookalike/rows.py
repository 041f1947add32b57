"""NBIA v4 rows (column names and order as the server source gives them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .data import Patient, Series, Study

Row = dict[str, Any]


def _fmt_date(d: date | None) -> str | None:
    return d.strftime('%m-%d-%Y') if d else None


def _published(s: Series) -> Row:
    """Licence and DOI: the analysis result's for a third-party series
    (NBIA lists it in the collection it describes), else the
    collection's."""
    pub = s.analysis or s.collection
    return {
        'LicenseName': pub.license_name,
        'LicenseURI': pub.license_uri,
        'DataDescriptionURI': pub.data_description_uri,
    }


def nbia_series_row(s: Series) -> Row:
    """The 30 v4 ``getSeries`` columns (nulls dropped later)."""
    st, p, c = s.study, s.patient, s.collection
    return {
        'SeriesInstanceUID': s.uid,
        'StudyInstanceUID': st.uid,
        'Modality': s.modality,
        'ProtocolName': s.protocol,
        'SeriesDate': _fmt_date(st.study_date),
        'SeriesDescription': s.description,
        'BodyPartExamined': s.body_part,
        'SeriesNumber': s.series_number,
        'AnnotationsFlag': None,
        'Collection': c.name,
        'Site': c.site,
        'PatientID': p.patient_id,
        'PatientSex': p.sex,
        'PatientAge': p.age,
        'AdmittingDiagnosisDescription': None,
        'Manufacturer': s.manufacturer,
        'ManufacturerModelName': s.model,
        'SoftwareVersions': s.software,
        'ImageCount': len(s.instances),
        'MaxSubmissionTimestamp': _fmt_date(s.date_released),
        **_published(s),
        'FileSize': s.file_size,
        'ReleasedStatus': 'Released',
        'DateReleased': _fmt_date(s.date_released),
        'StudyDesc': st.description,
        'StudyDate': _fmt_date(st.study_date),
        'ThirdPartyAnalysis': 'YES' if s.analysis else 'NO',
        'Authorized': 1,
    }


def series_metadata_row(s: Series) -> Row:
    """The 40 v4 ``getSeriesMetadata`` columns: strings but for counts."""
    st, p, c = s.study, s.patient, s.collection
    row: Row = {
        'PatientID': p.patient_id,
        'PatientName': p.name or p.patient_id,
        'PatientSex': p.sex,
        'EthnicGroup': None,
        'Phantom': 'NO',
        'SpeciesCode': '337915000',
        'SpeciesDescription': 'Homo sapiens',
        'StudyInstanceUID': st.uid,
        'StudyDate': _fmt_date(st.study_date),
        'StudyDesc': st.description,
        'AdmittingDiagnosisDescription': None,
        'StudyID': None,
        'PatientAge': p.age,
        'LongitudinalTemporalEventType': None,
        'LongitudinalTemporalOffsetFromEvent': None,
        'SeriesInstanceUID': s.uid,
        'Collection': c.name,
        'Site': c.site,
        'Modality': s.modality,
        'ProtocolName': s.protocol,
        'SeriesDate': _fmt_date(st.study_date),
        'SeriesDescription': s.description,
        'BodyPartExamined': s.body_part,
        'SeriesNumber': f'{s.series_number}.000000',
        'AnnotationsFlag': None,
        'Manufacturer': s.manufacturer,
        'ManufacturerModelName': s.model,
        'PixelSpacing(mm)-Row': None,
        'SliceThickness(mm)': None,
        'SoftwareVersions': s.software,
        'ImageCount': len(s.instances),
        'MaxSubmissionTimestamp': _fmt_date(s.date_released),
        **_published(s),
        'FileSize': s.file_size,
        'ReleasedStatus': 'Released',
        'DateReleased': _fmt_date(s.date_released),
        'ThirdPartyAnalysis': 'YES' if s.analysis else 'NO',
        'Authorized': '1',
    }
    return row


def patient_row(p: Patient) -> Row:
    return {
        'PatientId': p.patient_id,
        'PatientName': p.name or p.patient_id,
        'PatientSex': p.sex,
        'EthnicGroup': None,
        'Collection': p.collection.name,
        'Phantom': 'NO',
        'SpeciesCode': '337915000',
        'SpeciesDescription': 'Homo sapiens',
        'Authorized': 1,
    }


def study_row(st: Study) -> Row:
    p = st.patient
    return {
        'StudyInstanceUID': st.uid,
        'StudyDate': _fmt_date(st.study_date),
        'StudyDescription': st.description,
        'AdmittingDiagnosesDescription': None,
        'StudyID': None,
        'PatientAge': p.age,
        'PatientID': p.patient_id,
        'PatientName': p.name or p.patient_id,
        'PatientSex': p.sex,
        'EthnicGroup': None,
        'Collection': p.collection.name,
        'SeriesCount': len(st.series),
        'LongitudinalTemporalEventType': None,
        'LongitudinalTemporalOffsetFromEvent': None,
        'Authorized': 1,
    }
