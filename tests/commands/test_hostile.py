"""Hostile names end to end: PatientIDs and descriptions that would
escape a directory, hide a file, collide, or carry control characters and
markup become safe, unique paths; nothing is written outside the store."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from pathlib import Path

import pydicom
import pytest
from tcia_lookalike import LookalikeServer, build_default_archive
from tcia_lookalike.hostile import (
    HOSTILE_NAME,
    HOSTILE_PATIENT_IDS,
    build_hostile_collection,
)

from datalad_tcia.store import DEPOSIT_SUFFIXES, collection_id
from tests.faults.harness import Row, partial_files, record
from tests.helpers import DATALAD, fresh_env


@pytest.mark.slow
def test_hostile_names_end_to_end(tmp_path: Path) -> None:
    archive = build_default_archive()
    archive.collections.append(build_hostile_collection())
    archive.reindex()
    work = tmp_path / 'work'
    work.mkdir()
    with LookalikeServer(archive) as srv:
        store = work / 'store'
        clone = work / 'clone'
        proc = subprocess.run(
            [
                DATALAD,
                '-f',
                'json',
                'tcia-add',
                '--api-url',
                srv.api_url,
                '--datacite-url',
                srv.datacite_url,
                '--collection',
                HOSTILE_NAME,
                '--store',
                str(store),
                str(clone),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        summary = json.loads(proc.stdout.splitlines()[-1])
        assert summary['status'] == 'ok'
        assert summary['files_registered'] == len(HOSTILE_PATIENT_IDS)

        # nothing outside the store and the clone
        assert sorted(p.name for p in work.iterdir()) == ['clone', 'store']
        cid = collection_id(HOSTILE_NAME)
        assert cid == 'lookalike_hostile_names'
        # the collection, and the store's top-level dataset and catalog home
        assert sorted(p.name for p in store.iterdir()) == sorted(
            [
                cid,
                '.tcia',
                'catalog',
                'tcia.git',
                *(f'tcia{s}' for s in DEPOSIT_SUFFIXES),
            ]
        )
        slugs = json.loads((store / cid / 'metadata' / 'patients.json').read_text())
        assert set(slugs) == set(HOSTILE_PATIENT_IDS)
        values = list(slugs.values())
        assert len({v.lower() for v in values}) == len(values)
        for slug in values:
            assert '/' not in slug
            assert not slug.startswith('.')
            assert slug not in ('collection', '..', '.')
            assert all(c.isprintable() and c != ' ' for c in slug)
            assert (store / cid / 'datasets' / f'{slug}_XDLRA--refs').exists()
        # every path in every dataset stays inside it
        for repo in (store / cid / 'repos').iterdir():
            for line in subprocess.run(
                ['git', 'ls-files', '-z'], cwd=repo, capture_output=True, check=True
            ).stdout.split(b'\0'):
                if not line:
                    continue
                parts = line.decode().split('/')
                assert '..' not in parts
                assert not any(
                    p.startswith('.')
                    and p not in ('.datalad', '.gitattributes', '.gitmodules')
                    for p in parts
                )

        # a fresh HOME clones and gets every file
        env = fresh_env(tmp_path / 'home')
        fresh = tmp_path / 'fresh'
        proc = subprocess.run(
            [DATALAD, 'clone', summary['clone_urls'][0], str(fresh)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        proc = subprocess.run(
            [DATALAD, 'get', '-r', '.'],
            cwd=fresh,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        coll = srv.archive.collection(HOSTILE_NAME)
        assert coll is not None
        truth = {
            i.sop_uid: i.md5
            for p in coll.patients
            for st in p.studies
            for s in st.series
            for i in s.instances
        }
        got = {}
        for path in fresh.rglob('*.dcm'):
            if '.git' in path.relative_to(fresh).parts:
                continue
            data = path.read_bytes()
            got[pydicom.dcmread(io.BytesIO(data), force=True).SOPInstanceUID] = (
                hashlib.md5(data).hexdigest()
            )
        assert got == truth
        row = Row(
            'input', 'hostile PatientIDs and descriptions', len(HOSTILE_PATIENT_IDS)
        )
        row.runs.append('complete')
        row.lost = len(set(truth.items()) - set(got.items()))
        row.partial = len(partial_files(store))
        assert row.partial == 0
        record(row)
