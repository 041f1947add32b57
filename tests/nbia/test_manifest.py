"""The .tcia manifest reader, on the real sample manifests and broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from datalad_tcia.nbia import ManifestError, read_manifest

# byte copies of shared/reference/nbia-samples/manifest.* (see the .src.txt)
SAMPLES = Path(__file__).parents[1] / 'data' / 'manifests'
REAL = {
    # file: (number of series, first UID, last UID)
    'manifest.NSCLC-Radiomics-Interobserver1-2020.tcia': (
        64,
        '1.2.246.352.71.2.494841863751.4253616.20190218155318',
        None,
    ),
    'manifest.nbia-cmb-aml-2025.tcia': (
        None,
        '1.3.6.1.4.1.14519.5.2.1.200342509692530171737702339931600829926',
        None,
    ),
    'manifest.small-test.tcia': (
        5,
        '1.2.246.352.71.2.494841863751.4253616.20190218155318',
        '1.3.6.1.4.1.9590.100.1.2.99703178712084378434031648251378087426',
    ),
}


def _expected(path: Path) -> list[str]:
    # independent reading: everything after the six header lines that is
    # not blank
    lines = path.read_bytes().decode().splitlines()
    assert lines[5] == 'ListOfSeriesToDownload='
    return [line.strip() for line in lines[6:] if line.strip()]


@pytest.mark.parametrize('name', sorted(REAL))
def test_real_manifests(name: str) -> None:
    path = SAMPLES / name
    count, first, last = REAL[name]
    manifest = read_manifest(path)
    assert manifest.series_uids == _expected(path)
    if count is not None:
        assert len(manifest.series_uids) == count
    assert manifest.series_uids[0] == first
    if last is not None:
        assert manifest.series_uids[-1] == last
    assert manifest.header['manifestVersion'] == '3.0'
    assert manifest.header['noOfrRetry'] == '4'


def _write(tmp_path: Path, text: str | bytes, name: str = 'm.tcia') -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


HEADER = (
    'downloadServerUrl=https://nbia.cancerimagingarchive.net/nbia-download/'
    'servlet/DownloadServlet\nincludeAnnotation=true\nnoOfrRetry=4\n'
    'databasketId=manifest-1.tcia\nmanifestVersion=3.0\nListOfSeriesToDownload=\n'
)


def test_crlf_blank_lines_no_trailing_newline(tmp_path: Path) -> None:
    text = (HEADER + '\n1.2.3\n\n\n1.2.4\n1.2.3').replace('\n', '\r\n')
    manifest = read_manifest(_write(tmp_path, text))
    # duplicates are dropped, order kept
    assert manifest.series_uids == ['1.2.3', '1.2.4']


def test_bom_is_accepted(tmp_path: Path) -> None:
    manifest = read_manifest(_write(tmp_path, '\ufeff' + HEADER + '1.2.3\n'))
    assert manifest.series_uids == ['1.2.3']


@pytest.mark.parametrize(
    ('text', 'line', 'match'),
    [
        (HEADER + '1.2.3\n1.2.x4\n', 8, "malformed SeriesInstanceUID '1.2.x4'"),
        (HEADER + '1.2.3\n1..2\n', 8, 'malformed'),
        (HEADER + '1.02.3\n', 7, 'malformed'),
        (HEADER + '1.2.' + '3' * 70 + '\n', 7, 'at most 64'),
        (HEADER + 'includeAnnotation=true\n', 7, 'malformed'),
        ('[{"SeriesInstanceUID": "1.2.3"}]\n', 1, 'not a .tcia manifest'),
        ('1.2.3\n1.2.4\n', 1, 'not a .tcia manifest'),
    ],
)
def test_malformed(tmp_path: Path, text: str, line: int, match: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ManifestError, match=match) as exc:
        read_manifest(path)
    assert exc.value.line == line
    assert str(exc.value).startswith(f'{path}, line {line}: ')


@pytest.mark.parametrize(
    ('content', 'match'),
    [
        (HEADER, 'lists no series'),
        ('downloadServerUrl=x\nmanifestVersion=3.0\n', 'no "ListOfSeriesToDownload='),
        (b'PK\x03\x04\xff\xfe\x00binary', 'not a text file'),
        ('', 'no "ListOfSeriesToDownload='),
    ],
)
def test_not_a_manifest(tmp_path: Path, content: str | bytes, match: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ManifestError, match=match) as exc:
        read_manifest(path)
    assert exc.value.path == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match='cannot read manifest'):
        read_manifest(tmp_path / 'nope.tcia')
