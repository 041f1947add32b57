"""IDC's side of the look-alike: an index parquet in ``idc_index``'s
schema (written with DuckDB) and the look-alike's files in an
S3-compatible server (moto) on loopback.

A pytest plugin (``tests/conftest.py`` names it in ``pytest_plugins``),
so that the IDC tests and the pipeline's tests share its fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.idc import S3Lookalike
from tcia_lookalike.idc_index import write_index

PHI = 'Pseudo-PHI-DICOM-Data'
ENC = 'LOOKALIKE-MR-Encodings'
#: the bucket of IDC holding NBIA's bytes: moto's servers in one process
#: share their buckets, and ``idc_side`` alters files in ``idc-open-data``
CLEAN_BUCKET = 'idc-open-data-two'


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


def configure_idc(
    monkeypatch: pytest.MonkeyPatch, index: Path, s3: S3Lookalike
) -> None:
    """Point ``datalad.tcia.idc-index`` and ``datalad.tcia.idc-endpoint``
    at ``index`` and ``s3`` (environment variables, as a user may set
    them), with fast retries."""
    import datalad

    for var, value in (
        ('DATALAD_TCIA_IDC__INDEX', str(index)),
        ('DATALAD_TCIA_IDC__ENDPOINT', s3.endpoint),
        ('DATALAD_TCIA_RETRY__INITIAL__DELAY', '0.01'),
        ('DATALAD_TCIA_MAX__ATTEMPTS', '3'),
    ):
        monkeypatch.setenv(var, value)
    datalad.cfg.reload(force=True)


def _configured(
    side: IdcSide | CleanIdc | AnalysisSide, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    import datalad

    configure_idc(monkeypatch, side.index, side.s3)
    side.s3.reset()
    yield
    side.s3.reset()
    monkeypatch.undo()
    datalad.cfg.reload(force=True)


@pytest.fixture
def idc(idc_side: IdcSide, monkeypatch: pytest.MonkeyPatch) -> Iterator[IdcSide]:
    """The IDC side configured (see :func:`configure_idc`)."""
    for _ in _configured(idc_side, monkeypatch):
        yield idc_side


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
    index = write_index(
        archive,
        tmp_path_factory.mktemp('idc') / 'idc_index.parquet',
        bucket=CLEAN_BUCKET,
    )
    with S3Lookalike() as s3:
        s3.fill(archive, multipart=[multipart], bucket=CLEAN_BUCKET)
        yield CleanIdc(index, s3, multipart)


@pytest.fixture
def clean_idc(
    clean_idc_side: CleanIdc, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CleanIdc]:
    """:class:`CleanIdc` configured (see :func:`configure_idc`)."""
    for _ in _configured(clean_idc_side, monkeypatch):
        yield clean_idc_side


#: the bucket of the look-alike with analysis results
ANALYSIS_BUCKET = 'idc-open-data-analysis'


@dataclass
class AnalysisSide:
    """A look-alike of its own whose IDC index, bucket and DataCite hold an
    analysis result (:data:`~tcia_lookalike.analysis.NODULES`: a
    SEG and an SR of a CT series of each of two collections); NBIA lists
    its series only once a test publishes them."""

    srv: LookalikeServer
    index: Path
    s3: S3Lookalike


@pytest.fixture(scope='session')
def analysis_side_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[AnalysisSide]:
    from tcia_lookalike import build_default_archive
    from tcia_lookalike.analysis import build_analysis_results

    archive = build_default_archive()
    build_analysis_results(archive)
    archive.reindex()
    index = write_index(
        archive,
        tmp_path_factory.mktemp('idc-analysis') / 'idc_index.parquet',
        bucket=ANALYSIS_BUCKET,
    )
    with LookalikeServer(archive=archive) as srv, S3Lookalike() as s3:
        s3.fill(archive, bucket=ANALYSIS_BUCKET)
        yield AnalysisSide(srv, index, s3)


@pytest.fixture
def analysis_side(
    analysis_side_session: AnalysisSide, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AnalysisSide]:
    """:class:`AnalysisSide` configured (see :func:`configure_idc`), its
    request log empty."""
    side = analysis_side_session
    side.srv.reset()
    for _ in _configured(side, monkeypatch):
        yield side
    side.srv.reset()
