"""``pipeline/build_patient.py``: one patient's dataset built from its
metadata deposit (every file annexed under its MD5E key, with NBIA's
sources) and its deposit written; nothing changes on a second run."""

from __future__ import annotations

from tcia_lookalike import LookalikeServer

from datalad_tcia.formats.annex_branch import hashdirlower
from datalad_tcia.formats.annex_keys import md5e_key
from datalad_tcia.metadata import read_collection
from datalad_tcia.pipeline import PatientWork, RunSettings, build_patient
from datalad_tcia.pipeline.build_collection import license_files, prepare_collection
from datalad_tcia.store.git import git_line
from tests.helpers import run_ok

from .conftest import PHI


def _work(settings: RunSettings, pid: str | None = None) -> PatientWork:
    stored = read_collection(settings.store, PHI)
    slugs = prepare_collection(stored)
    pid = pid or sorted(stored.patients)[0]
    return PatientWork(
        stored.layout,
        pid,
        slugs[pid],
        stored.patients[pid],
        settings.base_url,
        '{StudyUID}/{SeriesUID}/{member}',
        license_files(stored),
    )


def test_a_patient_dataset_from_its_deposit(
    tcia: LookalikeServer, acquired: RunSettings
) -> None:
    work = _work(acquired)
    out = build_patient(work)
    assert out.status == 'ok', out.message
    repo = work.layout.repo(work.slug)
    assert out.path == repo and out.entry is not None
    assert out.url.endswith(f'/datasets/{work.slug}.git')
    tree = run_ok(['git', 'ls-tree', '-r', 'HEAD'], repo).splitlines()
    links = {}
    for line in tree:
        meta, path = line.split('\t', 1)
        if meta.startswith('120000'):
            target = run_ok(['git', 'cat-file', 'blob', meta.split()[2]], repo)
            links[path] = target.rsplit('/', 1)[-1]
    expected = {}
    for dep in work.patient_series:
        for m in dep.images:
            path = f'{dep.record.study_uid}/{dep.record.series_uid}/{m.path}'
            expected[path] = str(md5e_key(m.size, m.md5, m.path))
    assert links == expected
    assert out.files == len(expected)
    # NBIA's per-file URL is a source of every file (git-annex's URL log)
    for key in expected.values():
        log = run_ok(
            ['git', 'show', f'git-annex:{hashdirlower(key)}{key}.log.web'], repo
        )
        assert 'getSingleImage' in log, log
    head = git_line(repo, 'rev-parse', 'HEAD')
    assert out.commit == head
    refs = work.layout.patient_export(work.slug).bare / 'info' / 'refs'
    assert head in refs.read_text()
    again = build_patient(work)
    assert again.status == 'notneeded'
    assert git_line(repo, 'rev-parse', 'HEAD') == head
