"""The look-alike is code too: its HTTP behaviour, data and faults.

These tests talk to the server with plain ``requests`` (not the client), so
they check the server against the documented NBIA facts on their own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pydicom
import pytest
import requests
from tcia_lookalike import LookalikeServer, build_default_archive
from tcia_lookalike.zipstream import member_names

PHI = 'Pseudo-PHI-DICOM-Data'


def _get(srv: LookalikeServer, endpoint: str, **params: str) -> requests.Response:
    return requests.get(f'{srv.api_url}/{endpoint}', params=params, timeout=10)


def _a_series(srv: LookalikeServer, collection: str = PHI):
    coll = srv.archive.collection(collection)
    assert coll is not None
    return coll.patients[0].studies[0].series[0]


def test_json_rows_and_null_omission(tcia: LookalikeServer) -> None:
    resp = _get(tcia, 'getSeries', Collection=PHI)
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == 'application/json'
    rows = resp.json()
    assert isinstance(rows, list)
    assert all(isinstance(r, dict) for r in rows)
    # v4 columns, nulls omitted
    assert all('AnnotationsFlag' not in r for r in rows)
    assert all(r['Authorized'] == 1 for r in rows)
    assert {r['StudyDate'] for r in rows} == {'03-14-2019', '11-02-2020'}


def test_empty_result_is_empty_200(tcia: LookalikeServer) -> None:
    resp = _get(tcia, 'getSeries', Collection='nope')
    assert resp.status_code == 200
    assert resp.content == b''


@pytest.mark.parametrize(
    ('endpoint', 'param'),
    [
        ('getSeries', 'collection'),
        ('getPatient', 'PatientID'),
        ('getImage', 'seriesInstanceUID'),
        ('getCollectionValues', 'Collection'),
    ],
)
def test_v4_rejects_unknown_parameters(
    tcia: LookalikeServer, endpoint: str, param: str
) -> None:
    resp = _get(tcia, endpoint, **{param: 'x'})
    assert resp.status_code == 400
    assert resp.text.startswith(f"Invalid query parameter: '{param}'. Allowed")


def test_required_parameters(tcia: LookalikeServer) -> None:
    resp = _get(tcia, 'getSeriesSize')
    assert resp.status_code == 400
    assert resp.text == 'A parameter, SeriesInstanceUID is required for this API call.'
    resp = _get(tcia, 'getSingleImage', SeriesInstanceUID='1.2')
    assert resp.status_code == 400
    assert 'SeriesInstanceUID and SOPInstanceUID' in resp.text
    resp = requests.post(f'{tcia.api_url}/getSeriesMetadata', data={}, timeout=10)
    assert resp.status_code == 400
    assert 'form parameter, list' in resp.text


def test_unknown_series_and_instance(tcia: LookalikeServer) -> None:
    resp = _get(tcia, 'getImage', SeriesInstanceUID='1.2.3')
    assert resp.status_code == 400
    assert 'has not been granted the access' in resp.text
    assert '1.2.3' in resp.text
    resp = _get(tcia, 'getSingleImage', SeriesInstanceUID='1.2.3', SOPInstanceUID='4')
    assert resp.status_code == 500
    assert resp.text.startswith('Server was not able to process your request')


def test_case_sensitive_paths(tcia: LookalikeServer) -> None:
    assert _get(tcia, 'getseries').status_code == 404
    # the path is getSeriesMetadata (lower-case d) and POST only
    resp = requests.post(
        f'{tcia.api_url}/getSeriesMetaData', data={'list': '1'}, timeout=10
    )
    assert resp.status_code == 404
    assert _get(tcia, 'getSeriesMetadata').status_code == 405


def test_series_metadata_default_csv(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    resp = requests.post(
        f'{tcia.api_url}/getSeriesMetadata', data={'list': f' {s.uid} ,'}, timeout=10
    )
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == 'text/csv'
    assert 'SeriesMetaData.csv' in resp.headers['Content-Disposition']
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert rows[0]['SeriesInstanceUID'] == s.uid
    assert rows[0]['SeriesNumber'] == '1.000000'


def test_other_formats(tcia: LookalikeServer) -> None:
    assert _get(tcia, 'getCollectionValues', format='xml').text.startswith('<?xml')
    assert '<TABLE' in _get(tcia, 'getCollectionValues', format='HTML').text
    resp = _get(tcia, 'getCollectionValues', format='csv')
    assert resp.text.splitlines()[0] == '"Collection"'
    assert _get(tcia, 'getCollectionValues', format='yaml').status_code == 500


def test_distinct_value_endpoints(tcia: LookalikeServer) -> None:
    rows = _get(tcia, 'getBodyPartValues', Collection=PHI).json()
    # a NULL body part is rendered as {}
    assert {} in rows
    assert {'BodyPartExamined': 'CHEST'} in rows
    mods = _get(tcia, 'getModalityValues', Collection=PHI).json()
    assert {m['Modality'] for m in mods} == {'CT', 'MR', 'SR'}
    makers = _get(tcia, 'getManufacturerValues').json()
    assert makers == [{'Manufacturer': 'LOOKALIKE MEDICAL'}]


def test_get_image_stream(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    resp = _get(
        tcia, 'getImage', SeriesInstanceUID=s.uid, NewFileNames='yes', IncludeMD5='YES'
    )
    assert resp.status_code == 200
    assert 'Content-Length' not in resp.headers
    assert resp.headers['Transfer-Encoding'] == 'chunked'
    assert resp.headers['Content-Type'] == 'application/octet-stream'
    assert f'filename="{s.uid}.zip"' in resp.headers['Content-Disposition']
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    names = zf.namelist()
    assert names == ['LICENSE', '1-1.dcm', '1-2.dcm', '1-3.dcm', 'md5hashes.csv']
    assert 'Creative Commons Attribution 4.0' in zf.read('LICENSE').decode()
    md5csv = zf.read('md5hashes.csv').decode().splitlines()
    assert md5csv[0] == 'Filename,MD5Hash'
    listed = dict(line.split(',') for line in md5csv[1:])
    for name in names[1:-1]:
        assert hashlib.md5(zf.read(name)).hexdigest() == listed[name]
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())


def test_get_image_plain_names_no_md5(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    resp = _get(tcia, 'getImage', SeriesInstanceUID=s.uid)
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert names == ['LICENSE', '00000001.dcm', '00000002.dcm', '00000003.dcm']


def test_get_image_differs_every_time(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    a = _get(tcia, 'getImage', SeriesInstanceUID=s.uid).content
    b = _get(tcia, 'getImage', SeriesInstanceUID=s.uid).content
    assert a != b
    za, zb = zipfile.ZipFile(io.BytesIO(a)), zipfile.ZipFile(io.BytesIO(b))
    assert [za.read(n) for n in za.namelist()] == [zb.read(n) for n in zb.namelist()]


def test_member_name_padding() -> None:
    archive = build_default_archive()
    s = next(iter(archive.iter_series()))
    insts = s.instances * 4  # 12 "instances" with 3 distinct numbers
    assert member_names(insts, True)[0] == '1-1.dcm'
    assert member_names(insts, False)[-1] == '00000012.dcm'


def test_single_image(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    inst = s.instances[1]
    resp = _get(
        tcia, 'getSingleImage', SeriesInstanceUID=s.uid, SOPInstanceUID=inst.sop_uid
    )
    assert resp.headers['Content-Type'] == 'application/dicom'
    assert resp.content == inst.data
    assert pydicom.dcmread(io.BytesIO(resp.content)).SOPInstanceUID == inst.sop_uid


def test_request_log(tcia: LookalikeServer) -> None:
    _get(tcia, 'getSeries', Collection=PHI)
    _get(tcia, 'getSeries', SeriesInstanceUID='1.2.3')
    log = tcia.requests('getSeries')
    assert [e.query for e in log] == [
        {'Collection': PHI},
        {'SeriesInstanceUID': '1.2.3'},
    ]
    assert [e.status for e in log] == [200, 200]
    assert tcia.requests('getSeries', series_uid='1.2.3') == log[1:]
    tcia.reset()
    assert tcia.requests() == []


# -- DataCite ----------------------------------------------------------------


def test_datacite_real_record(tcia: LookalikeServer) -> None:
    resp = requests.get(f'{tcia.datacite_url}/dois/10.7937/s17z-r072', timeout=10)
    assert resp.status_code == 200
    doc = resp.json()['data']
    assert doc['id'] == '10.7937/s17z-r072'
    assert doc['type'] == 'dois'
    attrs = doc['attributes']
    assert 'Pseudo-PHI-DICOM-Data' in attrs['titles'][0]['title']
    assert attrs['rightsList'][0]['rightsIdentifier'] == 'cc-by-4.0'
    # URL-encoded slash, other case
    resp = requests.get(f'{tcia.datacite_url}/dois/10.7937%2FS17Z-R072', timeout=10)
    assert resp.json()['data']['id'] == '10.7937/s17z-r072'


def test_datacite_catalog_cases(tcia: LookalikeServer) -> None:
    resp = requests.get(
        f'{tcia.datacite_url}/dois/10.7937/tcia.lookalike.mrenc', timeout=10
    )
    attrs = resp.json()['data']['attributes']
    ids = [n['nameIdentifier'] for c in attrs['creators'] for n in c['nameIdentifiers']]
    assert any(i.startswith('https://orcid.org/') for i in ids)
    assert attrs['rightsList'] == []
    assert '\n' in attrs['descriptions'][0]['description']
    assert any('<script>' in c['name'] for c in attrs['creators'])


def test_datacite_unknown(tcia: LookalikeServer) -> None:
    resp = requests.get(f'{tcia.datacite_url}/dois/10.1234/nope', timeout=10)
    assert resp.status_code == 404
    assert resp.json()['errors'][0]['status'] == '404'


# -- faults ------------------------------------------------------------------


def _zip_of(tcia: LookalikeServer, uid: str) -> bytes:
    return _get(
        tcia, 'getImage', SeriesInstanceUID=uid, NewFileNames='Yes', IncludeMD5='Yes'
    ).content


def test_fault_status_and_retry_after(tcia: LookalikeServer) -> None:
    rule = tcia.faults.add('status', 'getSeries', status=429, retry_after=3, times=2)
    assert _get(tcia, 'getSeries').status_code == 429
    resp = _get(tcia, 'getSeries')
    assert resp.headers['Retry-After'] == '3'
    assert _get(tcia, 'getSeries').status_code == 200
    assert rule.hits == 2


def test_fault_only_hits_its_series(tcia: LookalikeServer) -> None:
    a, b = list(tcia.archive.iter_series())[:2]
    tcia.faults.add('status', 'getImage', series_uid=b.uid, status=500)
    assert _get(tcia, 'getImage', SeriesInstanceUID=a.uid).status_code == 200
    assert _get(tcia, 'getImage', SeriesInstanceUID=b.uid).status_code == 500
    assert _get(tcia, 'getImage', SeriesInstanceUID=b.uid).status_code == 200


def test_fault_drop_member(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    tcia.faults.add('drop_member', 'getImage')
    names = zipfile.ZipFile(io.BytesIO(_zip_of(tcia, s.uid))).namelist()
    # like NBIA after a missing file: one DICOM short, no md5hashes.csv
    assert names == ['LICENSE', '1-1.dcm', '1-2.dcm']


def test_fault_corrupt(tcia: LookalikeServer) -> None:
    tcia.faults.add('corrupt', 'getImage')
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(_zip_of(tcia, _a_series(tcia).uid)))


def test_fault_truncate_clean(tcia: LookalikeServer) -> None:
    tcia.faults.add('truncate', 'getImage', clean=True)
    data = _zip_of(tcia, _a_series(tcia).uid)
    assert len(data) > 1000
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data))


def test_fault_truncate_drops_connection(tcia: LookalikeServer) -> None:
    tcia.faults.add('truncate', 'getImage', after_bytes=5000)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _zip_of(tcia, _a_series(tcia).uid)
    assert tcia.requests('getImage')[0].bytes_sent == 5000


def test_fault_extra_member_and_bad_md5(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    tcia.faults.add(
        'extra_member', 'getImage', members=[('../evil.dcm', b'x'), ('1-1.dcm', b'dup')]
    )
    names = zipfile.ZipFile(io.BytesIO(_zip_of(tcia, s.uid))).namelist()
    assert '../evil.dcm' in names
    assert names.count('1-1.dcm') == 2
    tcia.faults.add('bad_md5', 'getImage')
    zf = zipfile.ZipFile(io.BytesIO(_zip_of(tcia, s.uid)))
    assert 'f' * 32 in zf.read('md5hashes.csv').decode()


def test_fault_reset_and_nonjson(tcia: LookalikeServer) -> None:
    tcia.faults.add('reset', 'getSeries')
    with pytest.raises(requests.ConnectionError):
        _get(tcia, 'getSeries')
    tcia.faults.add('nonjson', 'getSeries')
    resp = _get(tcia, 'getSeries')
    assert resp.headers['Content-Type'] == 'text/html'
    with pytest.raises(json.JSONDecodeError):
        resp.json()


def test_fault_stall(tcia: LookalikeServer) -> None:
    tcia.faults.add('stall', 'getCollectionValues', delay=0.5)
    start = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(f'{tcia.api_url}/getCollectionValues', timeout=0.2)
    assert time.monotonic() - start < 0.5


def test_unknown_fault_kind(tcia: LookalikeServer) -> None:
    with pytest.raises(ValueError, match='unknown fault kind'):
        tcia.faults.add('explode')


# -- data --------------------------------------------------------------------


def test_archive_is_deterministic() -> None:
    a, b = build_default_archive(), build_default_archive()
    assert [(s.uid, [i.md5 for i in s.instances]) for s in a.iter_series()] == [
        (s.uid, [i.md5 for i in s.instances]) for s in b.iter_series()
    ]


def test_archive_covers_encodings_and_modalities() -> None:
    archive = build_default_archive()
    syntaxes, modalities, no_preamble = set(), set(), 0
    for s in archive.iter_series():
        modalities.add(s.modality)
        for inst in s.instances:
            assert len(inst.sop_uid) <= 64
            assert hashlib.md5(inst.data).hexdigest() == inst.md5
            if inst.data[128:132] != b'DICM':
                no_preamble += 1
                ds = pydicom.dcmread(io.BytesIO(inst.data), force=True)
            else:
                ds = pydicom.dcmread(io.BytesIO(inst.data))
                syntaxes.add(str(ds.file_meta.TransferSyntaxUID))
            # headers agree with what NBIA reports
            assert ds.SeriesInstanceUID == s.uid
            assert ds.SOPInstanceUID == inst.sop_uid
            assert ds.PatientID == s.patient.patient_id
    assert {
        '1.2.840.10008.1.2',  # implicit VR LE
        '1.2.840.10008.1.2.1',  # explicit VR LE
        '1.2.840.10008.1.2.2',  # explicit VR BE
        '1.2.840.10008.1.2.1.99',  # deflated
        '1.2.840.10008.1.2.5',  # RLE
        '1.2.840.10008.1.2.4.90',  # JPEG 2000 lossless
        '1.2.840.10008.1.2.4.91',  # JPEG 2000
    } <= syntaxes
    assert {'CT', 'MR', 'SR', 'RTSTRUCT', 'RTDOSE', 'RTPLAN', 'SEG', 'NM'} <= modalities
    assert no_preamble == 1


@pytest.mark.slow
def test_command_line(tmp_path: Path) -> None:
    url_file = tmp_path / 'url'
    proc = subprocess.Popen(
        [sys.executable, '-m', 'tcia_lookalike', '--url-file', str(url_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        url = url_file.read_text().strip()
        assert url.startswith('http://127.0.0.1:')
        assert url.endswith('/nbia-api/services/v4')
        resp = requests.get(f'{url}/getCollectionValues', timeout=10)
        assert {'Collection': PHI} in resp.json()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert 'NBIA v4 API: http://127.0.0.1:' in out


# -- what the client no longer asks, as NBIA answers it ----------------------


def test_get_patient_spells_patientid_with_lowercase_d(tcia: LookalikeServer) -> None:
    rows = _get(tcia, 'getPatient', Collection=PHI).json()
    assert {r['PatientId'] for r in rows} == {'Pseudo-PHI-001', 'Pseudo-PHI-002'}
    one = _get(tcia, 'getPatient', Collection=PHI, PatientId='pseudo-phi-001').json()
    assert [r['PatientId'] for r in one] == ['Pseudo-PHI-001']


def test_get_patient_study(tcia: LookalikeServer) -> None:
    rows = _get(
        tcia, 'getPatientStudy', Collection=PHI, PatientID='Pseudo-PHI-002'
    ).json()
    assert len(rows) == 1
    assert rows[0]['StudyDescription'] == 'MRI BRAIN'
    assert int(rows[0]['SeriesCount']) == 2


def test_series_size_and_sop_uids(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    size = _get(tcia, 'getSeriesSize', SeriesInstanceUID=s.uid).json()
    assert float(size[0]['TotalSizeInBytes']) == s.file_size
    assert int(float(size[0]['ObjectCount'])) == len(s.instances)
    sops = _get(tcia, 'getSOPInstanceUIDs', SeriesInstanceUID=s.uid).json()
    assert sorted(r['SOPInstanceUID'] for r in sops) == sorted(
        i.sop_uid for i in s.instances
    )
    # an unknown series: an empty body, not []
    assert _get(tcia, 'getSeriesSize', SeriesInstanceUID='1.2.3.4').content == b''


def test_series_metadata_gives_numbers_as_strings(tcia: LookalikeServer) -> None:
    s = _a_series(tcia)
    rows = requests.post(
        f'{tcia.api_url}/getSeriesMetadata',
        data={'list': f'{s.uid},1.2.3.4', 'format': 'json'},
        timeout=10,
    ).json()
    assert len(rows) == 1
    assert rows[0]['SeriesNumber'] == f'{s.series_number}.000000'
