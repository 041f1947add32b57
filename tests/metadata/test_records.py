"""``metadata/``: the metadata records of a series written and read back
whole (an analysis result's series included), the store's folders told
apart, and an invalid record refused with what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datalad_tcia.metadata import (
    MemberRecord,
    MetadataError,
    SeriesRecord,
    SeriesRecords,
    read_series_records,
    stored_analysis_results,
    stored_collections,
    write_series_records,
)
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.store import StoreLayout


def _series_records(
    collection: str, uid: str, analysis: str | None = None
) -> SeriesRecords:
    row = {
        'SeriesInstanceUID': uid,
        'StudyInstanceUID': '1.2',
        'PatientID': 'LIDC-IDRI-0001',
        'Collection': 'LIDC-IDRI',
        'Modality': 'SEG' if analysis else 'CT',
        'ImageCount': 1,
        'DataDescriptionURI': 'https://doi.org/10.7937/tcia.2018.h7umfurq',
        'ThirdPartyAnalysis': 'YES' if analysis else 'NO',
    }
    if analysis:
        row['AnalysisResult'] = analysis
    series = SeriesInfo.from_json(row)
    tags = {'SOPInstanceUID': f'{uid}.1', 'Modality': series.modality}
    if analysis:
        tags['ReferencedSeriesInstanceUID'] = ['1.3.6.1.4.1.14519.5.2.1.6279']
    member = MemberRecord('1-1.dcm', 100, 'a' * 32, True, tags, 'http://x/1.dcm')
    record = SeriesRecord(
        collection=collection,
        collection_id=StoreLayout(Path('.'), collection).cid,
        series=series,
        source='idc',
        image_count=1,
    )
    return SeriesRecords(record, [member])


def test_records_round_trip(tmp_path: Path) -> None:
    ar = StoreLayout(tmp_path, 'dicom_lidc_idri_nodules')
    dep = _series_records('dicom_lidc_idri_nodules', '1.9.1', 'dicom_lidc_idri_nodules')
    write_series_records(ar, dep)
    again = read_series_records(ar, '1.9.1')
    assert again.record.to_json() == dep.record.to_json()
    assert again.series.analysis_result == 'dicom_lidc_idri_nodules'
    assert again.series.published_in == 'dicom_lidc_idri_nodules'
    assert again.series.collection == 'LIDC-IDRI'  # the one it describes
    (member,) = again.images
    assert member.tags['ReferencedSeriesInstanceUID'] == [
        '1.3.6.1.4.1.14519.5.2.1.6279'
    ]
    assert member.idc_url == 'http://x/1.dcm'
    # the store's folders: a collection, and an analysis result
    write_series_records(
        StoreLayout(tmp_path, 'LIDC-IDRI'), _series_records('LIDC-IDRI', '1.8')
    )
    assert stored_collections(tmp_path) == ['LIDC-IDRI']
    assert stored_analysis_results(tmp_path) == ['dicom_lidc_idri_nodules']


def test_an_invalid_record_says_what_to_do(tmp_path: Path) -> None:
    layout = StoreLayout(tmp_path, 'C')
    write_series_records(layout, _series_records('C', '1.7'))
    layout.dicoms_metadata('1.7').write_text(json.dumps([{'path': 'x'}]))
    with pytest.raises(MetadataError) as e:
        read_series_records(layout, '1.7')
    assert '1.7_metadata_dicoms.json' in str(e.value)
