"""``datalad tcia-ls`` against the look-alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer

from tests.helpers import api, datalad

tcia_ls = api('tcia_ls')

PHI = 'Pseudo-PHI-DICOM-Data'


@pytest.mark.slow
def test_cli_json_lists_every_series(tcia: LookalikeServer) -> None:
    """The must-show of the foundation issue, through the real CLI."""
    proc = datalad(
        'tcia-ls', '--api-url', tcia.api_url, '--collection', PHI, '-f', 'json'
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    series = {r['SeriesInstanceUID']: r for r in records if r['type'] == 'series'}
    truth = {s.uid: s for s in tcia.archive.iter_series() if s.collection.name == PHI}
    assert set(series) == set(truth)
    for uid, rec in series.items():
        s = truth[uid]
        assert rec['status'] == 'ok'
        assert rec['action'] == 'tcia_ls'
        assert rec['Modality'] == s.modality
        assert rec['PatientID'] == s.patient.patient_id
        assert rec['StudyInstanceUID'] == s.study.uid
        assert rec['ImageCount'] == len(s.instances)
        assert rec['FileSize'] == s.file_size
    coll = [r for r in records if r['type'] == 'collection']
    assert len(coll) == 1
    assert coll[0]['PatientCount'] == 2
    assert coll[0]['SeriesCount'] == len(truth)
    assert coll[0]['FileSize'] == sum(s.file_size for s in truth.values())


@pytest.mark.slow
def test_cli_default_renderer_is_a_table(tcia: LookalikeServer) -> None:
    proc = datalad('tcia-ls', '--api-url', tcia.api_url, '--collection', PHI)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f'collection {PHI}')
    assert '2 patients' in lines[0]
    assert any(line.startswith('  patient    Pseudo-PHI-001') for line in lines)
    assert sum(line.lstrip().startswith('series') for line in lines) == 4


@pytest.mark.slow
def test_cli_unknown_collection(tcia: LookalikeServer) -> None:
    proc = datalad('tcia-ls', '--api-url', tcia.api_url, '--collection', 'Pseudo-PHI')
    assert proc.returncode != 0
    assert "unknown collection 'Pseudo-PHI'" in proc.stdout + proc.stderr
    assert 'Did you mean' in proc.stdout + proc.stderr


def test_config_api_url(tcia: LookalikeServer, datalad_cfg) -> None:
    datalad_cfg.set('datalad.tcia.api-url', tcia.api_url, scope='global')
    res = tcia_ls(collection='lookalike-rt', level='collection')
    assert [(r['type'], r['Collection']) for r in res] == [
        ('collection', 'LOOKALIKE-RT')
    ]


def test_no_selection_lists_collections(tcia: LookalikeServer) -> None:
    res = tcia_ls(api_url=tcia.api_url)
    assert sorted(r['Collection'] for r in res) == sorted(
        c.name for c in tcia.archive.collections
    )


def test_levels_and_filters(tcia: LookalikeServer) -> None:
    res = tcia_ls(api_url=tcia.api_url, collection=PHI, modality='mr', level='patient')
    assert [r['type'] for r in res] == ['collection', 'patient']
    assert res[1]['PatientID'] == 'Pseudo-PHI-002'
    assert res[1]['SeriesCount'] == 2
    res = tcia_ls(api_url=tcia.api_url, patient='pseudo-phi-001', level='study')
    assert [r['type'] for r in res] == ['collection', 'patient', 'study']
    assert res[2]['StudyDate'] == '2019-03-14'
    assert res[2]['StudyDescription'] == 'CT CHEST W CONTRAST'


def test_study_and_series_selection(tcia: LookalikeServer) -> None:
    series = list(tcia.archive.iter_series())
    res = tcia_ls(api_url=tcia.api_url, study=series[0].study.uid)
    got = {r['SeriesInstanceUID'] for r in res if r['type'] == 'series'}
    assert got == {s.uid for s in series[0].study.series}
    res = tcia_ls(api_url=tcia.api_url, series=[series[0].uid, series[-1].uid])
    got = {r['SeriesInstanceUID'] for r in res if r['type'] == 'series'}
    assert got == {series[0].uid, series[-1].uid}
    assert len([r for r in res if r['type'] == 'collection']) == 2


def test_manifest_selection(tcia: LookalikeServer, tmp_path: Path) -> None:
    series = list(tcia.archive.iter_series())
    manifest = tmp_path / 'cart.tcia'
    manifest.write_bytes(
        (
            'downloadServerUrl=x\r\nincludeAnnotation=true\r\nnoOfrRetry=4\r\n'
            'databasketId=m.tcia\r\nmanifestVersion=3.0\r\nListOfSeriesToDownload=\r\n'
            + '\r\n'.join(s.uid for s in series[:3])
        ).encode()
    )
    res = tcia_ls(api_url=tcia.api_url, manifest=str(manifest), modality='CT')
    got = {r['SeriesInstanceUID'] for r in res if r['type'] == 'series'}
    assert got == {s.uid for s in series[:3] if s.modality == 'CT'}


@pytest.mark.parametrize(
    ('kwargs', 'kind', 'named'),
    [
        ({'collection': 'NOPE'}, 'unknown-collection', 'NOPE'),
        ({'patient': 'NOBODY'}, 'unknown-patient', 'NOBODY'),
        ({'study': '1.2.3'}, 'unknown-study', '1.2.3'),
        ({'series': ['1.2.3.4']}, 'unknown-series', '1.2.3.4'),
        ({'series': ['1.2.x']}, 'malformed-uid', '1.2.x'),
        ({'collection': PHI, 'modality': 'PT'}, 'no-match', 'PT'),
    ],
)
def test_bad_input_is_impossible(
    tcia: LookalikeServer, kwargs: dict, kind: str, named: str
) -> None:
    res = tcia_ls(api_url=tcia.api_url, **kwargs)
    bad = [r for r in res if r['status'] != 'ok']
    assert len(bad) == 1
    assert bad[0]['status'] == 'impossible'
    assert bad[0]['type'] == kind
    assert named in bad[0]['message']


def test_partly_bad_series_list(tcia: LookalikeServer) -> None:
    good = next(iter(tcia.archive.iter_series())).uid
    res = tcia_ls(api_url=tcia.api_url, series=[good, '1.2.3.4'])
    assert [r['status'] for r in res if r['type'] == 'unknown-series'] == ['impossible']
    assert [r['SeriesInstanceUID'] for r in res if r['type'] == 'series'] == [good]


def test_malformed_manifest(tcia: LookalikeServer, tmp_path: Path) -> None:
    manifest = tmp_path / 'bad.tcia'
    manifest.write_text('ListOfSeriesToDownload=\n1.2.3\nnot-a-uid\n')
    res = tcia_ls(api_url=tcia.api_url, manifest=str(manifest))
    assert len(res) == 1
    assert res[0]['status'] == 'impossible'
    assert f'{manifest}, line 3' in res[0]['message']
    assert tcia.requests('getSeries') == []


def test_server_down_is_an_error_record(tcia: LookalikeServer, fast_retries) -> None:
    tcia.faults.add('status', 'getCollectionValues', status=500, times=None)
    res = tcia_ls(api_url=tcia.api_url, collection=PHI)
    assert len(res) == 1
    assert res[0]['status'] == 'error'
    assert 'HTTP 500' in res[0]['message']
    assert 'run again' in res[0]['message']
    assert len(tcia.requests('getCollectionValues')) == 4
