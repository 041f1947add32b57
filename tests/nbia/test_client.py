"""The NBIA client against the look-alike: quirks, faults, retries."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import zipfile
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer, Quirks

from datalad_tcia.nbia import (
    NbiaAccessDenied,
    NbiaBadRequest,
    NbiaClient,
    NbiaConnectionError,
    NbiaProtocolError,
    NbiaServerError,
    RetryPolicy,
    resolve_api_url,
)
from tests.conftest import FAST_RETRY

PHI = 'Pseudo-PHI-DICOM-Data'


def _first_series(tcia: LookalikeServer, collection: str = PHI):
    coll = tcia.archive.collection(collection)
    assert coll is not None
    return coll.patients[0].studies[0].series[0]


# -- queries and quirks ------------------------------------------------------


def test_collections(client: NbiaClient, tcia: LookalikeServer) -> None:
    names = client.get_collection_values()
    assert sorted(names) == sorted(c.name for c in tcia.archive.collections)


def test_series_of_collection(client: NbiaClient, tcia: LookalikeServer) -> None:
    # NBIA matches collection names case-insensitively
    series = client.get_series(collection=PHI.lower())
    expected = {
        s.uid: s for s in tcia.archive.iter_series() if s.collection.name == PHI
    }
    assert {s.series_uid for s in series} == set(expected)
    for s in series:
        truth = expected[s.series_uid]
        assert s.collection == PHI
        assert s.patient_id == truth.patient.patient_id
        assert s.study_uid == truth.study.uid
        assert s.modality == truth.modality
        assert s.image_count == len(truth.instances)
        assert s.file_size == truth.file_size
        # v4 dates are MM-DD-YYYY strings on the wire
        assert s.raw['StudyDate'] == truth.study.study_date.strftime('%m-%d-%Y')
        assert s.study_date == truth.study.study_date
        assert s.data_description_uri == 'https://doi.org/10.7937/s17z-r072'


def test_null_columns_are_omitted(client: NbiaClient) -> None:
    # the SR series has no BodyPartExamined: NBIA drops null keys
    sr = [s for s in client.get_series(collection=PHI) if s.modality == 'SR']
    assert sr
    assert 'BodyPartExamined' not in sr[0].raw
    assert sr[0].body_part is None


def test_empty_body_means_no_rows(client: NbiaClient, tcia: LookalikeServer) -> None:
    assert client.get_series(collection='NO-SUCH-COLLECTION') == []
    assert client.get_series(series_uid='1.2.3.4') == []
    log = tcia.requests('getSeries')
    assert [e.status for e in log] == [200, 200]


def test_string_numbers_quirk() -> None:
    with LookalikeServer(quirks=Quirks(string_numbers=True)) as srv:
        client = NbiaClient(srv.api_url, retry=FAST_RETRY)
        series = client.get_series(collection=PHI)
        assert series
        assert all(isinstance(s.raw['ImageCount'], str) for s in series)
        assert all(isinstance(s.image_count, int) for s in series)
        assert all(isinstance(s.file_size, int) for s in series)


def test_unknown_parameter_is_rejected_locally(client: NbiaClient) -> None:
    # v4 answers 400 to unknown or mis-cased parameters; never send them
    with pytest.raises(ValueError, match='does not accept'):
        client.endpoint_url('getPatient', {'PatientID': 'x'})
    with pytest.raises(ValueError, match='unknown NBIA endpoint'):
        client.endpoint_url('getEverything')


def test_server_400_is_typed_and_not_retried(tcia: LookalikeServer) -> None:
    # a client whose endpoint table is wrong meets NBIA's 400
    client = NbiaClient(tcia.api_url, retry=FAST_RETRY)
    resp = client.session.get(f'{tcia.api_url}/getPatient?collection=x')
    assert resp.status_code == 400
    assert "Invalid query parameter: 'collection'" in resp.text
    with pytest.raises(NbiaBadRequest) as exc:
        client._request('getSeriesSize', {})
    assert exc.value.status_code == 400
    assert exc.value.url.endswith('/getSeriesSize')
    assert 'SeriesInstanceUID is required' in str(exc.value)
    assert len(tcia.requests('getSeriesSize')) == 1


def test_user_agent(client: NbiaClient, tcia: LookalikeServer) -> None:
    client.get_collection_values()
    ua = tcia.requests()[-1].user_agent
    assert ua is not None
    assert ua.startswith('datalad-tcia/')


def test_aliases() -> None:
    assert resolve_api_url('NBIA') == (
        'https://nbia.cancerimagingarchive.net/nbia-api/services/v4'
    )
    assert 'nlst.cancerimagingarchive.net' in resolve_api_url('nlst')
    assert NbiaClient('nlst').base_url == resolve_api_url('nlst')


# -- download ----------------------------------------------------------------


def _read_zip(path: Path) -> tuple[list[str], dict[str, str], dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        md5s = {
            n: hashlib.md5(zf.read(n)).hexdigest() for n in names if n.endswith('.dcm')
        }
        listed = {}
        if 'md5hashes.csv' in names:
            rows = csv.DictReader(io.StringIO(zf.read('md5hashes.csv').decode()))
            listed = {r['Filename']: r['MD5Hash'] for r in rows}
    return names, md5s, listed


def test_download_series(
    client: NbiaClient, tcia: LookalikeServer, tmp_path: Path
) -> None:
    truth = _first_series(tcia)
    seen: list[int] = []
    res = client.download_series(truth.uid, tmp_path / 'a.zip', progress=seen.append)
    data = (tmp_path / 'a.zip').read_bytes()
    assert res.size == len(data)
    assert res.md5 == hashlib.md5(data).hexdigest()
    assert seen[-1] == res.size
    assert res.url == client.image_url(truth.uid)
    names, md5s, listed = _read_zip(tmp_path / 'a.zip')
    # LICENSE first, md5hashes.csv last, NewFileNames naming
    assert names[0] == 'LICENSE'
    assert names[-1] == 'md5hashes.csv'
    assert names[1:-1] == ['1-1.dcm', '1-2.dcm', '1-3.dcm']
    assert md5s == listed
    assert sorted(md5s.values()) == sorted(i.md5 for i in truth.instances)
    req = tcia.requests('getImage')[-1]
    assert req.query == {
        'SeriesInstanceUID': truth.uid,
        'NewFileNames': 'Yes',
        'IncludeMD5': 'Yes',
    }


def test_download_bytes_differ_members_identical(
    client: NbiaClient, tcia: LookalikeServer, tmp_path: Path
) -> None:
    truth = _first_series(tcia)
    a = client.download_series(truth.uid, tmp_path / 'a.zip')
    b = client.download_series(truth.uid, tmp_path / 'b.zip')
    assert a.md5 != b.md5
    assert _read_zip(tmp_path / 'a.zip')[1] == _read_zip(tmp_path / 'b.zip')[1]


def test_download_unknown_series(
    client: NbiaClient, tcia: LookalikeServer, tmp_path: Path
) -> None:
    with pytest.raises(NbiaAccessDenied) as exc:
        client.download_series('1.2.3.4', tmp_path / 'x.zip')
    assert exc.value.status_code == 400
    assert '1.2.3.4' in exc.value.url
    # 4xx is not retried
    assert len(tcia.requests('getImage')) == 1


# -- faults and retries ------------------------------------------------------


def test_500_is_retried(client: NbiaClient, tcia: LookalikeServer) -> None:
    tcia.faults.add('status', 'getCollectionValues', status=500, times=2)
    assert client.get_collection_values()
    assert [e.status for e in tcia.requests('getCollectionValues')] == [500, 500, 200]


def test_retry_count_is_bounded(client: NbiaClient, tcia: LookalikeServer) -> None:
    tcia.faults.add('status', 'getSeries', status=503, times=None)
    with pytest.raises(NbiaServerError) as exc:
        client.get_series(collection=PHI)
    assert exc.value.status_code == 503
    assert exc.value.attempts == FAST_RETRY.max_attempts
    assert len(tcia.requests('getSeries')) == FAST_RETRY.max_attempts


def test_retry_budget_is_respected(tcia: LookalikeServer) -> None:
    """The budget counts waits on the client's clock: here only the
    waits advance it, so the count does not depend on the machine's load."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(
        max_attempts=50, initial_delay=0.1, max_delay=0.1, budget=0.35, jitter=0.0
    )
    client = NbiaClient(tcia.api_url, retry=policy, sleep=sleep, clock=lambda: now[0])
    tcia.faults.add('status', 'getSeries', status=500, times=None)
    with pytest.raises(NbiaServerError):
        client.get_series(collection=PHI)
    # waits of 0.1 s fit 3 times into 0.35 s: 4 attempts
    assert waits == [0.1, 0.1, 0.1]
    assert len(tcia.requests('getSeries')) == 4


def test_backoff_is_exponential_with_jitter() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=30.0, jitter=0.5)
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0)):
        delays = {policy.delay(attempt) for _ in range(20)}
        assert all(base * 0.5 <= d <= base for d in delays)
        assert len(delays) > 1


def test_429_honours_retry_after(tcia: LookalikeServer) -> None:
    waits: list[float] = []
    client = NbiaClient(tcia.api_url, retry=FAST_RETRY, sleep=waits.append)
    tcia.faults.add('status', 'getCollectionValues', status=429, retry_after=7)
    assert client.get_collection_values()
    assert waits == [7.0]
    assert [e.status for e in tcia.requests('getCollectionValues')] == [429, 200]


def test_retry_after_beyond_budget_gives_up(tcia: LookalikeServer) -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=5, budget=10)
    client = NbiaClient(tcia.api_url, retry=policy, sleep=waits.append)
    tcia.faults.add('status', 'getCollectionValues', status=429, retry_after=3600)
    with pytest.raises(NbiaServerError) as exc:
        client.get_collection_values()
    assert exc.value.status_code == 429
    assert waits == []


def test_connection_reset_is_retried(client: NbiaClient, tcia: LookalikeServer) -> None:
    tcia.faults.add('reset', 'getSeries')
    assert client.get_series(collection=PHI)
    assert [e.fault for e in tcia.requests('getSeries')] == ['reset', None]


def test_stall_fires_timeout_and_retries(tcia: LookalikeServer) -> None:
    client = NbiaClient(tcia.api_url, retry=FAST_RETRY, timeout=(2.0, 0.3))
    tcia.faults.add('stall', 'getSeries', delay=2.0)
    start = time.monotonic()
    assert client.get_series(collection=PHI)
    assert time.monotonic() - start < 1.9
    assert [e.fault for e in tcia.requests('getSeries')] == ['stall', None]


def test_non_json_body_is_retried_then_reported(
    client: NbiaClient, tcia: LookalikeServer
) -> None:
    tcia.faults.add('nonjson', 'getSeries')
    assert client.get_series(collection=PHI)
    tcia.faults.add('nonjson', 'getSeries', times=None)
    with pytest.raises(NbiaProtocolError) as exc:
        client.get_series(collection=PHI)
    assert 'expected JSON' in str(exc.value)
    assert 'text/html' in str(exc.value)
    assert exc.value.attempts == FAST_RETRY.max_attempts


def test_empty_fault_reads_as_no_rows(
    client: NbiaClient, tcia: LookalikeServer
) -> None:
    tcia.faults.add('empty', 'getSeries')
    assert client.get_series(collection=PHI) == []


def test_connection_refused(tmp_path: Path) -> None:
    with LookalikeServer() as srv:
        url = srv.api_url
    client = NbiaClient(url, retry=RetryPolicy(max_attempts=2, initial_delay=0.01))
    with pytest.raises(NbiaConnectionError) as exc:
        client.get_collection_values()
    assert exc.value.status_code is None
    assert exc.value.attempts == 2
    assert url in str(exc.value)


@pytest.mark.parametrize('fault', ['status', 'reset', 'truncate'])
def test_download_retries_faults(
    client: NbiaClient, tcia: LookalikeServer, tmp_path: Path, fault: str
) -> None:
    truth = _first_series(tcia)
    tcia.faults.add(fault, 'getImage', series_uid=truth.uid, after_bytes=20000)
    res = client.download_series(truth.uid, tmp_path / 'a.zip')
    names, md5s, listed = _read_zip(Path(res.path))
    assert sorted(md5s.values()) == sorted(i.md5 for i in truth.instances)
    log = tcia.requests('getImage', series_uid=truth.uid)
    assert [e.fault for e in log] == [fault, None]


def test_download_stall_mid_stream(tcia: LookalikeServer, tmp_path: Path) -> None:
    truth = _first_series(tcia)
    client = NbiaClient(tcia.api_url, retry=FAST_RETRY, timeout=(2.0, 0.3))
    tcia.faults.add('slow', 'getImage', delay=1.0)
    res = client.download_series(truth.uid, tmp_path / 'a.zip')
    assert len(_read_zip(Path(res.path))[1]) == len(truth.instances)
    assert [e.fault for e in tcia.requests('getImage')] == ['slow', None]


def test_download_gives_up_after_budget(
    client: NbiaClient, tcia: LookalikeServer, tmp_path: Path
) -> None:
    truth = _first_series(tcia)
    tcia.faults.add('truncate', 'getImage', times=None, after_bytes=1000)
    with pytest.raises(NbiaConnectionError) as exc:
        client.download_series(truth.uid, tmp_path / 'a.zip')
    assert 'download interrupted' in str(exc.value)
    assert len(tcia.requests('getImage')) == FAST_RETRY.max_attempts
