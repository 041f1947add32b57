"""``.s5cmd`` manifests as IDC's portal (AWS and GCS), idc-index and
TCIA's portal write them: parsed, mapped to series through the IDC index
(and prior_versions_index), unmatched lines reported, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
from datalad.api import tcia_download
from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc_index import instance_key, series_uuid

from datalad_tcia.idc.s5cmd import is_s5cmd, read_s5cmd_manifest
from datalad_tcia.nbia import ManifestError
from tests.idc_fixtures import PHI, CleanIdc

U1 = '5fa8d1da-ee6e-41d6-a072-970e90402515'
U2 = 'de2bf37c-ca0c-40be-ab15-75ceb1c0d420'

IDC_PORTAL_AWS = f"""# To download the files in this manifest,
# first install s5cmd (https://github.com/peak/s5cmd),
# then run the following command:
# s5cmd --no-sign-request --endpoint-url https://s3.amazonaws.com run manifest.s5cmd
# Manifest generated at 2026-11-30 09:12:44.520145 UTC
# IDC Data Version(s): v25
cp s3://idc-open-data/{U1}/* .
cp s3://idc-open-data/{U2}/* .
"""

IDC_PORTAL_GCS = (
    '# s5cmd --no-sign-request --endpoint-url https://storage.googleapis.com '
    f'run m.s5cmd\n# IDC Data Version(s): v25\ncp s3://public-datasets-idc/{U1}/* ./\n'
)

IDC_INDEX_STYLE = f"""study_manifest_cp_command
cp s3://idc-open-data/{U1}/*  "dl/nlst/207014"
  cp   s3://idc-open-data-two/{U2}/*   .
"""

PER_FILE = f"""cp s3://idc-open-data/{U1}/0a1b2c3d-0000-4000-8000-000000000001.dcm LIDC/
cp s3://idc-open-data/{U1}/0a1b2c3d-0000-4000-8000-000000000002.dcm LIDC/
s3://idc-open-data/{U2}/*
"""


@pytest.mark.parametrize(
    ('text', 'uuids', 'buckets', 'versions'),
    [
        (IDC_PORTAL_AWS, [U1, U2], {'idc-open-data'}, 'v25'),
        (IDC_PORTAL_GCS, [U1], {'idc-open-data'}, 'v25'),
        (IDC_INDEX_STYLE, [U1, U2], {'idc-open-data', 'idc-open-data-two'}, None),
        (PER_FILE, [U1, U2], {'idc-open-data'}, None),
    ],
    ids=['idc-portal-aws', 'idc-portal-gcs', 'idc-index', 'per-file'],
)
def test_parse_each_format(
    tmp_path: Path, text: str, uuids: list[str], buckets: set[str], versions: str | None
) -> None:
    path = tmp_path / 'cart.txt'  # not named .s5cmd: known by its lines
    path.write_text(text)
    assert is_s5cmd(path)
    manifest = read_s5cmd_manifest(path)
    assert manifest.series_uuids == uuids
    assert {line.bucket for line in manifest.lines} == buckets
    assert manifest.idc_versions == versions


def test_not_a_manifest(tmp_path: Path) -> None:
    path = tmp_path / 'x.s5cmd'
    path.write_text('# only comments\nhello\n')
    with pytest.raises(ManifestError, match='names no s3:// object'):
        read_s5cmd_manifest(path)
    tcia = tmp_path / 'x.tcia'
    tcia.write_text('downloadServerUrl=x\n1.2.3\n')
    assert not is_s5cmd(tcia)


@pytest.mark.slow
def test_manifests_select_their_series(
    tcia: LookalikeServer, clean_idc: CleanIdc, tmp_path: Path
) -> None:
    """Each portal's format selects the series it names; a line naming
    no series is a note (the run succeeds), and IDC's series come
    without pixel data."""
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    series = [s for p in coll.patients for st in p.studies for s in st.series][:3]
    a, b, c = (series_uuid(s) for s in series)
    one = instance_key(series[2], series[2].instances[0])
    stray = '00000000-0000-4000-8000-000000000000'
    formats = {
        'aws': f'# IDC Data Version(s): v25\ncp s3://idc-open-data/{a}/* .\n'
        f'cp s3://idc-open-data/{b}/* .\ncp s3://idc-open-data/{stray}/* .\n',
        'gcs': f'cp s3://public-datasets-idc/{a}/* ./\n'
        f'cp s3://public-datasets-idc/{b}/*  ./\n',
        'idc-index': f'study_manifest_cp_command\ncp s3://idc-open-data/{a}/*  "d/x"\n'
        f'  cp s3://idc-open-data/{b}/* .\n',
        'tcia-portal': f'cp s3://idc-open-data/{one} PHI/\ns3://idc-open-data/{a}/*\n'
        f's3://idc-open-data/{b}/*\n',
    }
    expected = {
        'aws': {series[0].uid, series[1].uid},
        'gcs': {series[0].uid, series[1].uid},
        'idc-index': {series[0].uid, series[1].uid},
        'tcia-portal': {series[0].uid, series[1].uid, series[2].uid},
    }
    for name, text in formats.items():
        manifest = tmp_path / f'{name}.s5cmd'
        manifest.write_text(text)
        res = tcia_download(
            manifest=str(manifest),
            store=str(tmp_path / name),
            api_url=tcia.api_url,
            index='idc',
            source='idc',
            jobs=4,
            result_renderer='disabled',
            on_failure='ignore',
        )
        got = {r['SeriesInstanceUID'] for r in res if r.get('source') == 'idc'}
        assert got == expected[name], name
        assert all(r['status'] in ('ok', 'notneeded') for r in res), res
        notes = [r for r in res if r.get('type') == 'unmatched-line']
        assert len(notes) == (1 if name == 'aws' else 0), name
        if notes:
            assert stray in notes[0]['message'] and 'skipped' in notes[0]['message']
    assert tcia.requests('getImage') == []


def test_s5cmd_needs_the_index(
    tcia: LookalikeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the IDC index an .s5cmd manifest is refused with what to
    do, and nothing is written."""
    manifest = tmp_path / 'm.s5cmd'
    manifest.write_text(IDC_PORTAL_AWS)
    res = tcia_download(
        manifest=str(manifest),
        store=str(tmp_path / 'store'),
        api_url=tcia.api_url,
        no_idc=True,
        result_renderer='disabled',
        on_failure='ignore',
    )
    assert [r['status'] for r in res] == ['impossible']
    assert 'only the IDC index maps to series' in res[0]['message']
    assert not (tmp_path / 'store').exists()
