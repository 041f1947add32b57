"""Slugs, paths, key extensions and git-annex log lines (the formats are
checked against git-annex itself in ``tests/formats/test_formats.py``)."""

from __future__ import annotations

import pytest

from datalad_tcia.dataset import (
    DEFAULT_PATH_TEMPLATE,
    assign_slugs,
    file_path,
    key_extension,
    md5e_key,
    patient_slug,
    sanitize,
)
from datalad_tcia.formats.annex_branch import (
    merge_location_log,
    merge_url_log,
    metadata_line,
)
from datalad_tcia.nbia import SeriesInfo


@pytest.mark.parametrize(
    ('name', 'ext'),
    [
        ('1-01.dcm', '.dcm'),
        ('x.nii.gz', '.nii.gz'),
        ('a.b.c.d', '.c.d'),
        ('noext', ''),
        ('weird.toolong', ''),
        ('dir.x/file.dcm', '.dcm'),
        ('a.ä', '.ä'),  # beyond ASCII is fine (git annex calckey)
    ],
)
def test_key_extension(name: str, ext: str) -> None:
    assert key_extension(name) == ext
    assert str(md5e_key(5, 'f' * 32, name)) == f'MD5E-s5--{"f" * 32}{ext}'


def test_slugs_are_safe_and_unique() -> None:
    ids = [
        'LIDC-IDRI-0001',
        'a/b',
        'a_b',
        '../etc',
        '.hidden',
        'ABC',
        'abc',
        'collection',
        'Ünïcode ID',
        '',
        'x' * 300,
    ]
    slugs = assign_slugs(ids, {})
    assert slugs['LIDC-IDRI-0001'] == 'LIDC-IDRI-0001'
    values = list(slugs.values())
    assert len({v.lower() for v in values}) == len(values)
    for v in values:
        assert v == sanitize(v, 200)
        assert not v.startswith('.')
        assert '/' not in v
        assert len(v) <= 80
    assert slugs['collection'] != 'collection'
    # existing assignments never change, new IDs avoid them
    again = assign_slugs([*ids, 'ABC '], slugs)
    assert {k: again[k] for k in slugs} == slugs
    assert again['ABC '].lower() not in {v.lower() for v in values}
    assert patient_slug('abc', taken=['ABC']) != 'abc'


def test_descriptive_paths() -> None:
    series = {
        'StudyDate': '03-14-2019',
        'StudyDesc': 'CT CHEST/ABD <w> contrast',
        'StudyInstanceUID': '1.2.3.4.56789',
        'SeriesNumber': '2.000000',
        'SeriesDescription': '../../etc',
        'SeriesInstanceUID': '1.2.3.4.98765',
    }
    # NBIA's record, with its quirks, is read by SeriesInfo
    path = file_path(DEFAULT_PATH_TEMPLATE, SeriesInfo.from_json(series), '1-01.dcm')
    assert path == (
        '03-14-2019-CT CHEST_ABD _w_ contrast-56789/2-_._.._etc-98765/1-01.dcm'
    )
    assert '..' not in path.split('/')
    assert file_path(
        '{Modality}/{SeriesUID}/{member}',
        SeriesInfo.from_json({'Modality': 'CT', 'SeriesInstanceUID': '1.2'}),
        'a/../b.dcm',
    ) == ('CT/1.2/a/_./b.dcm')
    assert (
        file_path(DEFAULT_PATH_TEMPLATE, SeriesInfo.from_json({}), 'x.dcm')
        == 'NA-NA-NA/NA-NA-NA/x.dcm'
    )


def test_log_formats() -> None:
    assert merge_location_log('', 7, ['u1', 'u2']) == '7s 1 u1\n7s 1 u2\n'
    # present entries are kept as they are
    assert merge_location_log('3s 1 u1\n', 7, ['u1']) == '3s 1 u1\n'
    assert merge_location_log('3s 0 u1\n', 7, ['u1']) == '7s 1 u1\n'
    assert merge_url_log('', 7, {'http://x/a': True}) == '7s 1 :http://x/a\n'
    assert merge_url_log('', 7, {'http://x/a': False}) == '7s 1 http://x/a\n'
    # a URL an earlier version let uncurl claim moves to the web remote
    assert merge_url_log('3s 1 :http://x/a\n', 7, {'http://x/a': False}) == (
        '7s 0 :http://x/a\n7s 1 http://x/a\n'
    )
    line = metadata_line(7, {'b': ['x y'], 'a': ['1'], 'c': []})
    assert line == '7s a +1 b +!eCB5\n'
