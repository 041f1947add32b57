"""IDC's side of the look-alike: an index parquet in ``idc_index``'s
schema (written with DuckDB) and the look-alike's files in an
S3-compatible server (moto) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from datalad_tcia.lookalike import LookalikeServer
from datalad_tcia.lookalike.idc import S3Lookalike, write_index

PHI = 'Pseudo-PHI-DICOM-Data'
ENC = 'LOOKALIKE-MR-Encodings'


@dataclass
class IdcSide:
    """The index file and the S3 server of a session."""

    index: Path
    s3: S3Lookalike
    #: a file IDC holds with other bytes (no IDC source for it)
    changed: str
    #: a file IDC holds as a multipart upload (ETag no MD5)
    multipart: str
    #: a series IDC does not have
    missing: str


@pytest.fixture(scope='session')
def idc_side(
    lookalike_session: LookalikeServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IdcSide]:
    archive = lookalike_session.archive
    phi = archive.collection(PHI)
    enc = archive.collection(ENC)
    assert phi is not None and enc is not None
    first_phi = phi.patients[0].studies[0].series[0]
    changed = first_phi.instances[0].sop_uid
    multipart = enc.patients[0].studies[0].series[0].instances[0].sop_uid
    missing = phi.patients[-1].studies[-1].series[-1].uid
    index = write_index(
        archive, tmp_path_factory.mktemp('idc') / 'idc_index.parquet', skip=[missing]
    )
    with S3Lookalike() as s3:
        s3.fill(archive, skip=[missing], changed=[changed], multipart=[multipart])
        yield IdcSide(index, s3, changed, multipart, missing)


@pytest.fixture
def idc(idc_side: IdcSide, monkeypatch: pytest.MonkeyPatch) -> Iterator[IdcSide]:
    """The IDC side configured (``datalad.tcia.idc-index``,
    ``datalad.tcia.idc-endpoint``: environment variables, as a user may
    set them), with fast retries."""
    import datalad

    for var, value in (
        ('DATALAD_TCIA_IDC__INDEX', str(idc_side.index)),
        ('DATALAD_TCIA_IDC__ENDPOINT', idc_side.s3.endpoint),
        ('DATALAD_TCIA_RETRY__INITIAL__DELAY', '0.01'),
        ('DATALAD_TCIA_MAX__ATTEMPTS', '3'),
    ):
        monkeypatch.setenv(var, value)
    datalad.cfg.reload(force=True)
    idc_side.s3.reset()
    yield idc_side
    idc_side.s3.reset()
    monkeypatch.undo()
    datalad.cfg.reload(force=True)


@dataclass
class CleanIdc:
    """IDC holding every look-alike file with NBIA's bytes (one as a
    multipart upload), and an index of every series."""

    index: Path
    s3: S3Lookalike
    #: a file IDC holds as a multipart upload (ETag no MD5)
    multipart: str


@pytest.fixture(scope='session')
def clean_idc_side(
    lookalike_session: LookalikeServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CleanIdc]:
    archive = lookalike_session.archive
    enc = archive.collection(ENC)
    assert enc is not None
    multipart = enc.patients[0].studies[0].series[0].instances[0].sop_uid
    index = write_index(archive, tmp_path_factory.mktemp('idc') / 'idc_index.parquet')
    with S3Lookalike() as s3:
        s3.fill(archive, multipart=[multipart])
        yield CleanIdc(index, s3, multipart)


@pytest.fixture
def clean_idc(
    clean_idc_side: CleanIdc, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CleanIdc]:
    """:class:`CleanIdc` configured, with fast retries."""
    import datalad

    for var, value in (
        ('DATALAD_TCIA_IDC__INDEX', str(clean_idc_side.index)),
        ('DATALAD_TCIA_IDC__ENDPOINT', clean_idc_side.s3.endpoint),
        ('DATALAD_TCIA_RETRY__INITIAL__DELAY', '0.01'),
        ('DATALAD_TCIA_MAX__ATTEMPTS', '3'),
    ):
        monkeypatch.setenv(var, value)
    datalad.cfg.reload(force=True)
    clean_idc_side.s3.reset()
    yield clean_idc_side
    clean_idc_side.s3.reset()
    monkeypatch.undo()
    datalad.cfg.reload(force=True)
