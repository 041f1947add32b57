"""Every git-annex format datalad-tcia writes by hand (``datalad_tcia.formats``),
checked against the installed git-annex: it reads what is written as it
reads its own, and writes the same for the same changes."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from datalad_tcia.dataset import AnnexedFile, init_repository, update_dataset
from datalad_tcia.dataset.keys import archive_key
from datalad_tcia.dataset.repository import REMOTES
from datalad_tcia.dataset.sources import unsourced_files
from datalad_tcia.formats import CHECKED_WITH
from datalad_tcia.formats.annex_branch import (
    hashdirlower,
    journal_name,
    merge_location_log,
    merge_remote_log,
    merge_url_log,
    metadata_line,
    present_uuids,
    remote_log_fields,
)
from datalad_tcia.formats.annex_config import read_config
from datalad_tcia.formats.annex_keys import key_extension, md5e_key, object_path
from tests.helpers import run_ok


def _git(repo: Path, *args: str, input: str | None = None) -> str:  # noqa: A002
    return run_ok(['git', *args], repo, input=input)


@pytest.fixture(scope='module')
def annex_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository git-annex made, with git-annex's own special remotes:
    web instances as ``idc``/``nbia`` are made, and an external one."""
    repo = tmp_path_factory.mktemp('annex')
    _git(repo, 'init', '-q')
    _git(repo, 'annex', 'init', '-q', 'made by git-annex')
    for name, spec in REMOTES.items():
        params = [f'{k}={v}' for k, v in spec.log_fields().items() if k != 'name']
        _git(repo, 'annex', 'initremote', name, *params)
    return repo


def test_version_checked() -> None:
    """The formats were checked with this git-annex (a newer one is run by
    the tests below; this says which one the docs name)."""
    version = subprocess.run(
        ['git', 'annex', 'version', '--raw'], capture_output=True, text=True, check=True
    ).stdout
    assert re.fullmatch(r'\d+\.\d{8}', CHECKED_WITH)
    assert version.split('-')[0] >= CHECKED_WITH


def test_object_paths(annex_repo: Path) -> None:
    keys = [
        str(md5e_key(i * 7919, hashlib.md5(str(i).encode()).hexdigest(), f'{i}.dcm'))
        for i in range(300)
    ]
    keys += [str(archive_key(f'1.2.840.{i}')) for i in range(50)]
    keys += ['MD5E-s1--00000000000000000000000000000000', 'SHA256E-s0--e3b0.nii.gz']
    out = _git(
        annex_repo,
        'annex',
        'examinekey',
        '--batch',
        '--format=${objectpath} ${hashdirlower}\\n',
        input=''.join(f'{k}\n' for k in keys),
    )
    assert out.splitlines() == [f'{object_path(k)} {hashdirlower(k)}' for k in keys]


@pytest.mark.parametrize(
    'name',
    [
        '1-01.dcm',
        'a.nii.gz',
        'x',
        'a.b.c.verylong',
        'weird.dcm ',
        'no.ext.',
        'd.DCM',
        'a.b.x-y.c',
        'a.b.c.',
        'a.dcm.toolong',
        'x.ü.dcm',
        'a.bcdé',
        'a.€',
        'a.x_y',
        '.dcm',
        'a..dcm',
        'a.DC M',
        '1.2.840.113654.2.55.1.dcm',
    ],
)
def test_md5e_keys(annex_repo: Path, name: str) -> None:
    """The key git-annex computes for a file is the one built from its MD5
    and size (``annex.maxextensions``/``maxextensionlength`` defaults)."""
    path = annex_repo / 'calc' / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b'content of ' + name.encode())
    data = path.read_bytes()
    theirs = _git(annex_repo, 'annex', 'calckey', '--backend=MD5E', str(path)).strip()
    ours = md5e_key(len(data), hashlib.md5(data).hexdigest(), name)
    assert str(ours) == theirs
    assert theirs.endswith(key_extension(name))


def _branch(repo: Path, path: str) -> str:
    return _git(repo, 'show', f'git-annex:{path}')


def test_logs_as_git_annex_writes_them(annex_repo: Path) -> None:
    """registerurl, setpresentkey, metadata and initremote by git-annex give
    the lines ours give, timestamps aside."""
    key = 'MD5E-s3--900150983cd24fb0d6963f7d28e17f72.dcm'
    web = 'https://s3.amazonaws.com/idc-open-data/a/b.dcm'
    claimed = 'dl+archive:VURL--x#path=b.dcm&size=3&atype=zip'
    archivist = read_config(annex_repo)['remote.archivist.annex-uuid']
    idc = read_config(annex_repo)['remote.idc.annex-uuid']
    _git(annex_repo, 'annex', 'registerurl', key, web)
    _git(annex_repo, 'annex', 'registerurl', '--remote', 'archivist', key, claimed)
    _git(annex_repo, 'annex', 'setpresentkey', key, idc, '1')
    _git(annex_repo, 'annex', 'metadata', '--key', key, '-s', 'seriesdescription=T1 AX')
    _git(annex_repo, 'annex', 'metadata', '--key', key, '-s', 'modality=CT')
    base = hashdirlower(key) + key

    def strip(text: str) -> list[str]:
        return sorted(re.sub(r'^\d+(\.\d+)?s ', 'T ', ln) for ln in text.splitlines())

    url_log = merge_url_log('', 1, {web: False, claimed: True})
    assert strip(_branch(annex_repo, base + '.log.web')) == strip(url_log)
    theirs = _branch(annex_repo, base + '.log')
    assert {idc, archivist} <= present_uuids(theirs)
    ours = merge_location_log('', 1, [idc, archivist])
    assert present_uuids(ours) == {idc, archivist}
    assert all(ln in strip(theirs) for ln in strip(ours))
    # git-annex writes one line per change; the values are what ours says
    met = _branch(annex_repo, base + '.log.met')
    assert '+!VDEgQVg=' in met and '+CT' in met
    assert metadata_line(1, {'modality': ['CT'], 'seriesdescription': ['T1 AX']}) == (
        '1s modality +CT seriesdescription +!VDEgQVg=\n'
    )
    # remote.log: git-annex's fields for each remote are ours
    lines = {ln.split()[0]: ln for ln in _branch(annex_repo, 'remote.log').splitlines()}
    config = read_config(annex_repo)
    for name, spec in REMOTES.items():
        ruuid = config[f'remote.{name}.annex-uuid']
        assert dict(remote_log_fields(lines[ruuid])) == spec.log_fields()
        mine = merge_remote_log('', 1, {ruuid: spec.log_fields()})
        assert dict(remote_log_fields(mine.strip())) == dict(
            remote_log_fields(lines[ruuid])
        )


def test_git_annex_reads_a_dataset_written_without_it(tmp_path: Path) -> None:
    """A patient dataset written by ``init_repository`` + ``update_dataset``
    (one ``git fast-import``): git-annex sees its remotes, costs, sources,
    metadata and descriptions as if it had made them."""
    repo = tmp_path / 'ds'
    new = init_repository(repo, 'TCIA test patient P1', '{member}')
    key = 'MD5E-s3--900150983cd24fb0d6963f7d28e17f72.dcm'
    urls = (
        'https://s3.amazonaws.com/idc-open-data/a/b.dcm',
        'https://x.example/v4/getSingleImage?SeriesInstanceUID=1&SOPInstanceUID=2',
    )
    update_dataset(
        repo,
        [
            AnnexedFile(
                'a/1-1.dcm',
                key,
                urls,
                ('idc', 'nbia', 'uncurl'),
                {'modality': ['CT'], 'seriesdescription': ['T1 AX']},
            )
        ],
        [],
        {},
        'Register 1 file',
        new=new,
    )
    assert _git(repo, 'annex', 'version', '--raw')
    for name, cost, kind in (('idc', '100.0', 'web'), ('nbia', '150.0', 'web')):
        info = json.loads(_git(repo, 'annex', 'info', '--json', name))
        assert (info['cost'], info['type']) == (cost, kind)
    info = json.loads(_git(repo, 'annex', 'info', '--json', 'uncurl'))
    assert (info['cost'], info['type']) == ('175.0', 'external')
    whereis = json.loads(
        _git(repo, 'annex', 'whereis', '--json', '--key', key).splitlines()[0]
    )
    assert {w['description'] for w in whereis['whereis']} == {
        '[idc]',
        '[nbia]',
        '[uncurl]',
    }
    meta = json.loads(_git(repo, 'annex', 'metadata', '--json', '--key', key))
    assert meta['fields']['seriesdescription'] == ['T1 AX']
    described = json.loads(_git(repo, 'annex', 'info', '--json', 'here'))
    assert described['description'] == 'TCIA test patient P1 [here]'
    # git-annex's journal (changes not yet committed) is read as git-annex
    # reads it: a file it marks absent everywhere has no source
    for name in ('idc', 'nbia', 'uncurl'):
        ruuid = read_config(repo)[f'remote.{name}.annex-uuid']
        _git(
            repo,
            '-c',
            'annex.alwayscommit=false',
            'annex',
            'setpresentkey',
            key,
            ruuid,
            '0',
        )
    journal = repo / '.git' / 'annex' / 'journal'
    assert (journal / journal_name(hashdirlower(key) + key + '.log')).exists()
    assert unsourced_files(repo) == ['a/1-1.dcm']
