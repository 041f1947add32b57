"""Third-party series: one rule for NBIA's and IDC's records."""

from __future__ import annotations

from dataclasses import replace

from datalad_tcia.idc import AnalysisResult
from datalad_tcia.nbia import SeriesInfo
from datalad_tcia.pipeline.third_party import (
    analysis_listing,
    analysis_mode,
    canonical_analysis_result,
    keeps,
    label_third_party,
)

KNOWN = {
    'dicom_lidc_idri_nodules': AnalysisResult(
        'dicom_lidc_idri_nodules',
        title='Standardized representation of the LIDC annotations',
        doi='10.7937/tcia.2018.h7umfurq',
        collections=('lidc_idri',),
        modalities=('SEG', 'SR'),
        subjects=875,
    ),
    'nlstseg': AnalysisResult('nlstseg', doi='10.5281/zenodo.17362624'),
}


def _nbia(uid: str, third: str, doi: str | None) -> SeriesInfo:
    """A series as NBIA's getSeries (v4) lists it."""
    row = {
        'SeriesInstanceUID': uid,
        'StudyInstanceUID': '1.2',
        'PatientID': 'LIDC-IDRI-0001',
        'Collection': 'LIDC-IDRI',
        'Modality': 'SEG' if third == 'YES' else 'CT',
        'ThirdPartyAnalysis': third,
    }
    if doi:
        row['DataDescriptionURI'] = f'https://doi.org/{doi}'
    return SeriesInfo.from_json(row)


def test_nbia_third_party_series_are_named_by_their_doi() -> None:
    series = [
        _nbia('1.1', 'NO', '10.7937/K9/TCIA.2015.LO9QL9SX'),
        _nbia('1.2', 'YES', '10.7937/TCIA.2018.h7umfurq'),
        _nbia('1.3', 'YES', '10.7937/TCIA.NOT-IN-IDC'),
        _nbia('1.4', 'YES', None),
    ]
    out = label_third_party(series, KNOWN)
    assert [s.published_in for s in out] == [
        'LIDC-IDRI',
        'dicom_lidc_idri_nodules',
        'doi_10_7937_tcia_not_in_idc',
        'lidc_idri_third_party',
    ]
    # the described collection stays the series' collection
    assert {s.collection for s in out} == {'LIDC-IDRI'}
    # the id survives the metadata record (the raw row keeps it)
    again = SeriesInfo.from_json(dict(out[1].raw))
    assert again.analysis_result == 'dicom_lidc_idri_nodules'
    assert again.to_json()['ThirdPartyAnalysis'] == 'YES'


def test_a_selection_keeps_original_data_unless_asked() -> None:
    ct, seg = label_third_party(
        [_nbia('1.1', 'NO', None), _nbia('1.2', 'YES', '10.7937/tcia.2018.h7umfurq')],
        KNOWN,
    )
    exclude = analysis_mode(None, False)
    include = analysis_mode(None, True)
    only = analysis_mode('dicom_lidc_idri_nodules', False)
    assert [keeps(s, exclude, None) for s in (ct, seg)] == [True, False]
    assert [keeps(s, include, None) for s in (ct, seg)] == [True, True]
    assert [keeps(s, only, 'dicom_lidc_idri_nodules') for s in (ct, seg)] == [
        False,
        True,
    ]
    assert [keeps(s, only, 'nlstseg') for s in (ct, seg)] == [False, False]


def test_analysis_results_by_id_or_doi_with_a_hint() -> None:
    assert canonical_analysis_result('DICOM_LIDC_IDRI_NODULES', KNOWN) == (
        'dicom_lidc_idri_nodules',
        None,
    )
    assert canonical_analysis_result('https://doi.org/10.5281/zenodo.17362624', KNOWN)[
        0
    ] == ('nlstseg')
    # ids made for those only NBIA lists are taken as they are
    for made in ('doi_10_7937_tcia_not_in_idc', 'lidc_idri_third_party'):
        assert canonical_analysis_result(made, KNOWN) == (made, None)
    ident, why = canonical_analysis_result('dicom_lidc_idri_nodule', KNOWN)
    assert ident is None
    assert "Did you mean 'dicom_lidc_idri_nodules'" in str(why)
    assert 'tcia-ls --analysis-results' in str(why)


def test_listing_rows() -> None:
    known = {
        **KNOWN,
        'dicom_lidc_idri_nodules': replace(
            KNOWN['dicom_lidc_idri_nodules'], series=13718
        ),
    }
    rows = analysis_listing(known)
    assert [r['AnalysisResult'] for r in rows] == ['dicom_lidc_idri_nodules', 'nlstseg']
    first = rows[0]
    assert first['DOI'] == '10.7937/tcia.2018.h7umfurq'
    assert (first['Series'], first['Patients'], first['Publisher']) == (
        13718,
        875,
        'TCIA',
    )
    assert rows[1]['Publisher'] == 'IDC (Zenodo)'
