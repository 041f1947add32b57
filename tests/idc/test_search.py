"""Offline search with the IDC index: the same answers as NBIA's listing
on the look-alike, and real answers from the idc-index-data package."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc_index import write_index

from datalad_tcia.idc import IdcIndex, IdcIndexError
from datalad_tcia.nbia import NbiaClient
from datalad_tcia.pipeline.select import resolve_selection
from datalad_tcia.pipeline.selection import Selection
from tests.helpers import api
from tests.idc_fixtures import ENC, PHI

tcia_ls = api('tcia_ls')


@pytest.fixture(scope='module')
def full_index(
    lookalike_session: LookalikeServer, tmp_path_factory: pytest.TempPathFactory
) -> IdcIndex:
    """The look-alike's series, all of them, as an IDC index."""
    path = tmp_path_factory.mktemp('idx') / 'idc_index.parquet'
    # IDC also holds analysis results and other data: never TCIA's series
    extra = {
        'collection_id': 'pseudo_phi_dicom_data',
        'analysis_result_id': 'some_segmentations',
        'PatientID': 'Pseudo-PHI-001',
        'SeriesInstanceUID': '1.2.3.999',
        'source_DOI': '10.5281/zenodo.1',
        'instanceCount': 1,
    }
    return IdcIndex(write_index(lookalike_session.archive, path, extra_rows=[extra]))


def _selections(srv: LookalikeServer, manifest: Path) -> list[Selection]:
    series = list(srv.archive.iter_series())
    phi = srv.archive.collection(PHI)
    assert phi is not None
    patient = phi.patients[0]
    study = patient.studies[0]
    manifest.write_text(
        'downloadServerUrl=x\nmanifestVersion=3.0\nListOfSeriesToDownload=\n'
        + '\n'.join(s.uid for s in series[::2])
        + '\n'
    )
    return [
        Selection(collection=PHI),
        Selection(collection=PHI.lower()),
        Selection(collection=ENC),
        Selection(collection='LOOKALIKE-RT'),
        Selection(patient=patient.patient_id),
        Selection(collection=PHI, patient=patient.patient_id.lower()),
        Selection(study=study.uid),
        Selection(series=tuple(s.uid for s in series[:5])),
        Selection(manifest=str(manifest)),
        Selection(manifest=str(manifest), modality='MR'),
        Selection(collection=PHI, modality='ct'),
        Selection(collection=PHI, body_part='chest'),
        Selection(collection=ENC, manufacturer='LOOKALIKE MEDICAL'),
        Selection(collection=PHI, modality='PT'),
        # across collections: filters alone, every collection
        Selection(modality='MR'),
        Selection(body_part='chest', modality='CT'),
        Selection(all_collections=True),
        Selection(all_collections=True, manufacturer='LOOKALIKE MEDICAL'),
        Selection(modality='NOPE'),
        Selection(collection='NOPE'),
        Selection(patient='NOBODY'),
        Selection(series=('1.2.3.4', '1.2.x')),
    ]


def test_offline_search_agrees_with_nbia(
    tcia: LookalikeServer, full_index: IdcIndex, tmp_path: Path
) -> None:
    """Every kind of selection resolves to the same series with the same
    facts, and the same bad parts, whether NBIA or the IDC index answers."""
    client = NbiaClient(tcia.api_url)
    for sel in _selections(tcia, tmp_path / 'cart.tcia'):
        nbia = resolve_selection(client, sel)
        idc = resolve_selection(full_index, sel)
        assert [s.series_uid for s in idc.series] == [
            s.series_uid for s in nbia.series
        ], sel
        assert [p.kind for p in idc.problems] == [p.kind for p in nbia.problems], sel
        for a, b in zip(nbia.series, idc.series, strict=True):
            for attr in (
                'collection',
                'patient_id',
                'study_uid',
                'modality',
                'image_count',
                'file_size',
                'series_number',
                'series_description',
                'body_part',
                'manufacturer',
                'study_date',
                'study_description',
                'license_name',
            ):
                assert getattr(a, attr) == getattr(b, attr), (sel, attr)
            # IDC holds TCIA collections with a DOI only: the look-alike's
            # collection without one has a made-up DOI there
            if a.data_description_uri:
                assert a.data_description_uri == b.data_description_uri


def test_a_condition_over_the_index(
    tcia: LookalikeServer, full_index: IdcIndex
) -> None:
    """``--where``: any SQL condition over the index's columns, across
    collections, combined with the other parts; a bad one is refused with
    the column named."""
    wanted = {
        s.uid
        for s in tcia.archive.iter_series()
        if s.patient.sex == 'O' and s.modality != 'SEG'
    }
    cond = "PatientSex = 'O' AND Modality <> 'SEG'"
    res = resolve_selection(full_index, Selection(where=cond))
    assert not res.problems
    assert {s.series_uid for s in res.series} == wanted
    assert len({s.collection for s in res.series}) >= 2  # noqa: PLR2004
    # a part of a selection like any other
    res = resolve_selection(full_index, Selection(collection=ENC, where=cond))
    assert {s.collection for s in res.series} <= {ENC}
    # nothing matches: said so
    res = resolve_selection(full_index, Selection(where="PatientSex = 'X'"))
    assert [p.kind for p in res.problems] == ['no-match']
    # a column the index lacks is named, with the one meant
    res = resolve_selection(full_index, Selection(where="PatientSx = 'F'"))
    assert [p.kind for p in res.problems] == ['bad-where'] and not res.series
    assert (
        "no column 'PatientSx' (did you mean 'PatientSex'?)" in res.problems[0].message
    )
    # one expression, never a statement
    for bad in ('1=1; DROP VIEW tcia', '1=1) UNION SELECT 1 --', 'Modality = '):
        res = resolve_selection(full_index, Selection(where=bad))
        assert [p.kind for p in res.problems] == ['bad-where'], bad
    assert resolve_selection(full_index, Selection(modality='MR')).series
    # NBIA cannot answer a condition
    res = resolve_selection(NbiaClient(tcia.api_url), Selection(where=cond))
    assert [p.kind for p in res.problems] == ['bad-where']
    assert '--index idc' in res.problems[0].message


def test_collections_by_id_and_doi(full_index: IdcIndex) -> None:
    for name in (
        'pseudo_phi_dicom_data',
        '10.7937/S17Z-R072',
        'https://doi.org/10.7937/s17z-r072',
        'doi:10.7937/s17z-r072',
    ):
        res = resolve_selection(full_index, Selection(collection=name))
        assert not res.problems, name
        assert {s.collection for s in res.series} == {PHI}
        assert len(res.series) == 4
    # an analysis result's series is never one of the collection's; named
    # by its UID it is selected, for its analysis result's dataset
    res = resolve_selection(full_index, Selection(series=('1.2.3.999',)))
    assert not res.problems
    assert [(s.collection, s.published_in) for s in res.series] == [
        (PHI, 'some_segmentations')
    ]
    res = resolve_selection(
        full_index, Selection(collection=PHI, with_analysis_results=True)
    )
    assert len(res.series) == 5
    assert {s.published_in for s in res.series} == {PHI, 'some_segmentations'}
    res = resolve_selection(full_index, Selection(analysis_result='some_segmentations'))
    assert [s.series_uid for s in res.series] == ['1.2.3.999']


def test_tcia_ls_index_idc(
    tcia: LookalikeServer, idc_side, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    """``tcia-ls --index idc`` lists what NBIA lists (but the series IDC
    lacks) and says which index answered; NBIA is not asked."""
    import datalad

    monkeypatch.setenv('DATALAD_TCIA_IDC__INDEX', str(idc_side.index))
    datalad.cfg.reload(force=True)
    try:
        tcia.reset()
        offline = tcia_ls(collection=PHI, index='idc', api_url=tcia.api_url)
        assert tcia.requests() == []
        online = tcia_ls(collection=PHI, api_url=tcia.api_url)
    finally:
        monkeypatch.undo()
        datalad.cfg.reload(force=True)
    assert {r['status'] for r in offline} == {'ok'}
    assert {r['idc_version'] for r in offline} == {'25.0.5'}
    assert all(str(idc_side.index) in r['index'] for r in offline)
    got = {r['SeriesInstanceUID'] for r in offline if r['type'] == 'series'}
    want = {r['SeriesInstanceUID'] for r in online if r['type'] == 'series'}
    assert got == want - {idc_side.missing}


def test_not_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datalad
    import duckdb

    bad = tmp_path / 'bad.parquet'
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{bad}' (FORMAT PARQUET)")
    with pytest.raises(IdcIndexError, match='lacks the column'):
        IdcIndex(bad)
    with pytest.raises(IdcIndexError, match='no IDC index'):
        IdcIndex(tmp_path / 'missing.parquet')
    monkeypatch.setenv('DATALAD_TCIA_IDC__INDEX', str(bad))
    datalad.cfg.reload(force=True)
    try:
        res = tcia_ls(collection=PHI, index='idc')
    finally:
        monkeypatch.undo()
        datalad.cfg.reload(force=True)
    assert [r['status'] for r in res] == ['impossible']
    assert str(bad) in res[0]['message']
    assert 'SeriesInstanceUID' in res[0]['message']


def test_real_index_lidc() -> None:
    """The installed idc-index-data answers for all of TCIA offline."""
    index = IdcIndex()
    res = resolve_selection(index, Selection(collection='LIDC-IDRI'))
    assert not res.problems
    assert len(res.series) == 1308
    assert len({s.patient_id for s in res.series}) == 1010
    assert {s.collection for s in res.series} == {'LIDC-IDRI'}
    ct = resolve_selection(index, Selection(collection='lidc_idri', modality='CT'))
    assert 0 < len(ct.series) < len(res.series)
    assert all(s.modality == 'CT' for s in ct.series)
    by_doi = resolve_selection(index, Selection(collection='10.7937/s17z-r072'))
    assert {s.collection for s in by_doi.series} == {'Pseudo-PHI-DICOM-Data'}
    assert len(by_doi.series) == 52
    typo = resolve_selection(index, Selection(collection='LIDC-IDRX'))
    assert "Did you mean 'LIDC-IDRI'" in typo.problems[0].message


def test_real_index_analysis_results() -> None:
    """``tcia-ls --analysis-results --index idc`` over the installed
    idc-index-data: all 26 with their DOIs; LIDC-IDRI's nodule
    segmentations apart from its images, and with them on request."""
    res = tcia_ls(analysis_results=True, index='idc', result_renderer='disabled')
    rows = {r['AnalysisResult']: r for r in res}
    assert len(rows) == 26
    assert all(r['DOI'] for r in rows.values())
    nodules = rows['dicom_lidc_idri_nodules']
    assert nodules['DOI'] == '10.7937/tcia.2018.h7umfurq'
    assert (nodules['Series'], nodules['Patients']) == (13718, 875)
    assert nodules['Collections'] == ['lidc_idri']
    assert sum(r['Publisher'] == 'TCIA' for r in rows.values()) == 12
    assert rows['qin_lungct_seg']['Collections'] == [
        'lidc_idri',
        'lung_phantom',
        'qin_lung_ct',
        'rider_lung_ct',
    ]
    index = IdcIndex()
    patient = Selection(collection='LIDC-IDRI', patient='LIDC-IDRI-0001')
    images = resolve_selection(index, patient)
    assert all(s.analysis_result is None for s in images.series)
    both = resolve_selection(index, replace(patient, with_analysis_results=True))
    extra = {s.published_in for s in both.series} - {'LIDC-IDRI'}
    assert 'dicom_lidc_idri_nodules' in extra
    only = resolve_selection(
        index, replace(patient, analysis_result='dicom_lidc_idri_nodules')
    )
    assert only.series and {s.modality for s in only.series} <= {'SEG', 'SR'}
    assert {s.collection for s in only.series} == {'LIDC-IDRI'}
