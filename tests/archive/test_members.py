"""One-pass archive indexing and verification."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from tcia_lookalike import build_default_archive

from datalad_tcia.archive import (
    DEFAULT_TAGS,
    ArchiveError,
    index_archive,
    json_value,
    parse_md5_manifest,
    read_header,
    unsafe_member_name,
    verification_problems,
)
from datalad_tcia.archive.fastheader import scan_header


def _testfile(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert path is not None
    return Path(path).read_bytes()


def _zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.mark.parametrize(
    'name',
    [
        'CT_small.dcm',  # explicit VR little endian
        'MR_small_implicit.dcm',
        'MR_small_bigendian.dcm',
        'image_dfl.dcm',  # deflated
        'MR_small_RLE.dcm',
        'MR_small_jp2klossless.dcm',
        'MR_truncated.dcm',  # truncated pixel data
        'rtstruct.dcm',  # no preamble, ISO_IR 100
        'SC_rgb_rle.dcm',  # ISO_IR 192 (UTF-8)
        'test-SR.dcm',
    ],
)
def test_header_survives_real_world_files(name: str) -> None:
    data = _testfile(name)
    header = read_header(data)
    assert header is not None
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    assert header['SOPInstanceUID'] == ds.SOPInstanceUID
    if 'Modality' in ds:
        assert header['Modality'] == ds.Modality


def test_odd_character_set() -> None:
    ds = pydicom.dcmread(io.BytesIO(_testfile('CT_small.dcm')))
    ds.SeriesDescription = 'Knochen'
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    # an unknown character set, patched into the bytes after writing
    data = buf.getvalue().replace(b'ISO_IR 100', b'ISO_IR 999', 1)
    assert b'ISO_IR 999' in data
    header = read_header(data)
    assert header is not None
    assert header['SOPInstanceUID'] == ds.SOPInstanceUID
    assert 'SeriesDescription' in header


def test_not_dicom() -> None:
    assert read_header(b'License Information. The X collection ...') is None
    assert read_header(b'') is None
    assert read_header(b'\x00' * 500) is None


def test_json_values() -> None:
    ds = pydicom.dcmread(io.BytesIO(_testfile('CT_small.dcm')))
    header = read_header(
        _testfile('CT_small.dcm'),
        ['ImageType', 'SliceThickness', 'PatientName', 'Rows'],
    )
    assert header is not None
    assert header['ImageType'] == list(ds.ImageType)
    assert isinstance(header['SliceThickness'], float)
    assert header['PatientName'] == str(ds.PatientName)
    assert header['Rows'] == 128
    assert json_value(b'bytes') is None
    assert json_value(float('nan')) is None


def test_index_nbia_zip(tmp_path: Path) -> None:
    archive = build_default_archive()
    series = next(iter(archive.iter_series()))
    members = [('LICENSE', b'License Information.')]
    members += [
        (f'1-{i + 1}.dcm', inst.data) for i, inst in enumerate(series.instances)
    ]
    csv = 'Filename,MD5Hash\n' + ''.join(f'{n},{_md5(d)}\n' for n, d in members[1:])
    members.append(('md5hashes.csv', csv.encode()))
    index = index_archive(_zip(tmp_path / 'a.zip', members))
    assert index.atype == 'zip'
    assert [m.path for m in index.members] == [n for n, _ in members]
    assert index.license_text == 'License Information.'
    for (_name, data), rec in zip(members, index.members, strict=True):
        assert rec.size == len(data)
        assert rec.md5 == _md5(data)
    assert [m.dicom for m in index.members] == [False, True, True, True, False]
    assert verification_problems(index, len(series.instances)) == []
    # fewer files than NBIA says
    assert 'ImageCount is 4' in verification_problems(index, 4)[0]


def test_verification_catches_md5_and_missing(tmp_path: Path) -> None:
    a, b = _testfile('CT_small.dcm'), _testfile('MR_small.dcm')
    csv = f'Filename,MD5Hash\n1.dcm,{_md5(a)}\n2.dcm,{"0" * 32}\n3.dcm,{_md5(b)}\n'
    index = index_archive(
        _zip(
            tmp_path / 'a.zip',
            [('1.dcm', a), ('2.dcm', b), ('md5hashes.csv', csv.encode())],
        )
    )
    problems = verification_problems(index, None)
    assert any("MD5 of '2.dcm'" in p for p in problems)
    assert any("missing member(s) '3.dcm'" in p for p in problems)


def test_unsafe_and_duplicate_names(tmp_path: Path) -> None:
    data = _testfile('CT_small.dcm')
    with pytest.warns(UserWarning, match='Duplicate name'):
        path = _zip(
            tmp_path / 'a.zip',
            [('../x.dcm', data), ('/etc/x', b'x'), ('ok.dcm', data), ('ok.dcm', data)],
        )
    index = index_archive(path)
    problems = verification_problems(index, None)
    assert any("'../x.dcm'" in p and '(..)' in p for p in problems)
    assert any("'/etc/x'" in p and 'absolute' in p for p in problems)
    assert any("duplicate member name 'ok.dcm'" in p for p in problems)
    assert unsafe_member_name('a\\..\\b') is not None
    assert unsafe_member_name('C:/x') is not None
    assert unsafe_member_name('a\nb') is not None


def test_corrupt_and_truncated(tmp_path: Path) -> None:
    data = _testfile('CT_small.dcm')
    good = _zip(tmp_path / 'a.zip', [('1.dcm', data)]).read_bytes()
    (tmp_path / 'short.zip').write_bytes(good[: len(good) // 2])
    with pytest.raises(ArchiveError):
        index_archive(tmp_path / 'short.zip', atype='zip')
    # flip a byte inside the compressed member: CRC error on read
    bad = bytearray(good)
    bad[100] ^= 0xFF
    (tmp_path / 'crc.zip').write_bytes(bytes(bad))
    with pytest.raises(ArchiveError):
        index_archive(tmp_path / 'crc.zip', atype='zip')
    (tmp_path / 'junk.bin').write_bytes(b'not an archive')
    with pytest.raises(ArchiveError, match='neither a ZIP nor a tar'):
        index_archive(tmp_path / 'junk.bin')


def test_tar_archive(tmp_path: Path) -> None:
    path = tmp_path / 'visit.tar'
    with tarfile.open(path, 'w') as tf:
        for name in ('CT_small.dcm', 'MR_small.dcm'):
            data = _testfile(name)
            info = tarfile.TarInfo(f'visit/{name}')
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo('visit/link')
        link.type = tarfile.SYMTYPE
        link.linkname = '/etc/passwd'
        tf.addfile(link)
    index = index_archive(path)
    assert index.atype == 'tar'
    assert [m.path for m in index.members] == [
        'visit/CT_small.dcm',
        'visit/MR_small.dcm',
    ]
    assert all(m.dicom for m in index.members)
    assert any('symlink' in p for p in index.problems)
    assert index.md5 is None and index.size is None  # not asked for


@pytest.mark.parametrize('workers', [1, 2])
@pytest.mark.parametrize('atype', ['zip', 'tar'])
def test_digest_of_the_archive_while_indexing(
    tmp_path: Path, atype: str, workers: int
) -> None:
    """The archive's own MD5 and size come with the index (one pass)."""
    path = tmp_path / f'a.{atype}'
    names = [f'{n:03d}.dcm' for n in range(70)]  # enough for parallel
    data = _testfile('CT_small.dcm')
    if atype == 'zip':
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                zf.writestr(name, data)
    else:
        with tarfile.open(path, 'w') as tf:
            for name in names:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    index = index_archive(path, digest=True, workers=workers)
    raw = path.read_bytes()
    assert (index.md5, index.size) == (hashlib.md5(raw).hexdigest(), len(raw))
    assert [m.path for m in index.members] == names


@pytest.mark.parametrize('head', [1024 * 1024, 300])
def test_large_members_are_streamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, head: int
) -> None:
    """Members above the in-memory limit are hashed in chunks; the header
    comes from their head, or (if it does not fit) from a second read."""
    from datalad_tcia.archive import members

    monkeypatch.setattr(members, 'IN_MEMORY_LIMIT', 1000)
    monkeypatch.setattr(members, '_CHUNK', 4096)
    monkeypatch.setattr(members, 'HEAD_BYTES', head)
    names = ['CT_small.dcm', 'MR_small_bigendian.dcm', 'rtstruct.dcm']
    data = [_testfile(n) for n in names]
    zpath = _zip(tmp_path / 'a.zip', list(zip(names, data, strict=True)))
    tpath = tmp_path / 'a.tar'
    with tarfile.open(tpath, 'w') as tf:
        for n, d in zip(names, data, strict=True):
            info = tarfile.TarInfo(n)
            info.size = len(d)
            tf.addfile(info, io.BytesIO(d))
    for path in (zpath, tpath):
        index = index_archive(path, workers=1)
        for rec, d in zip(index.members, data, strict=True):
            header = read_header(d)
            assert header is not None
            assert rec.to_json() == {
                'path': rec.path,
                'size': len(d),
                'md5': _md5(d),
                'dicom': True,
                **header,
            }


def test_md5_manifest_parsing() -> None:
    assert parse_md5_manifest('Filename,MD5Hash\r\na,b.dcm,' + 'A' * 32) == {
        'a,b.dcm': 'a' * 32
    }
    with pytest.raises(ValueError, match='Filename,MD5Hash'):
        parse_md5_manifest('name,hash\n')
    with pytest.raises(ValueError, match='malformed row'):
        parse_md5_manifest('Filename,MD5Hash\nx.dcm,nothex\n')


def _all_pydicom_files() -> list[Path]:
    first = get_testdata_file('CT_small.dcm', download=False)
    assert first is not None
    root = Path(first).parent
    return sorted(p for p in root.rglob('*') if p.is_file())


def test_fast_header_path_agrees_with_pydicom() -> None:
    """The fast path must give exactly what pydicom's reader gives, on every
    file pydicom ships and every file the look-alike serves."""
    tags = [
        *DEFAULT_TAGS,
        'ImageType',
        'PatientName',
        'SliceThickness',
        'PixelSpacing',
        'WindowCenter',
        'ImagePositionPatient',
        'ReferencedImageSequence',
        'NoSuchKeyword',
    ]
    samples = [p.read_bytes() for p in _all_pydicom_files()]
    samples += [
        i.data for s in build_default_archive().iter_series() for i in s.instances
    ]
    on_fast_path = 0
    for data in samples:
        assert read_header(data, tags, fast=True) == read_header(data, tags, fast=False)
        on_fast_path += scan_header(data, tags) is not None
    # the common encodings do take the fast path
    assert on_fast_path > len(samples) // 2


def test_fast_path_declines_what_it_does_not_handle() -> None:
    for name in ('MR_small_bigendian.dcm', 'image_dfl.dcm', 'rtstruct.dcm'):
        assert scan_header(_testfile(name), DEFAULT_TAGS) is None
    assert scan_header(_testfile('CT_small.dcm'), DEFAULT_TAGS) is not None
    truncated = _testfile('CT_small.dcm')[:400]
    assert scan_header(truncated, DEFAULT_TAGS) is None


@pytest.mark.parametrize('workers', [1, 2], ids=['serial', 'parallel'])
def test_hostile_members_on_both_indexing_paths(tmp_path: Path, workers: int) -> None:
    """A symlink member, a ``..`` member and a duplicate name are refused
    the same way whether the ZIP is indexed in-process or in slices by
    worker processes (``PARALLEL_MIN_MEMBERS`` members or more)."""
    from datalad_tcia.archive import members

    data = _testfile('CT_small.dcm')
    path = tmp_path / 'hostile.zip'
    with (
        pytest.warns(UserWarning, match='Duplicate name'),
        zipfile.ZipFile(path, 'w') as zf,
    ):
        for n in range(members.PARALLEL_MIN_MEMBERS + 4):
            zf.writestr(f'1-{n:03d}.dcm', data)
        link = zipfile.ZipInfo('evil-link')
        link.create_system = 3
        link.external_attr = (0o120777 << 16) | 0x20  # a symlink to /etc/passwd
        zf.writestr(link, '/etc/passwd')
        zf.writestr('../escape.dcm', data)
        zf.writestr('1-000.dcm', data)
    index = index_archive(path, workers=workers)
    if workers > 1:  # the slices were indexed by worker processes
        assert members._POOL is not None and not members._POOL_BROKEN
    problems = verification_problems(index, None)
    assert any("'evil-link' is a symlink, not a file" in p for p in problems)
    assert any("'../escape.dcm'" in p and '(..)' in p for p in problems)
    assert any("duplicate member name '1-000.dcm'" in p for p in problems)
    assert 'evil-link' not in {m.path for m in index.members}
