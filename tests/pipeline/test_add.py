"""``pipeline/add.py``: every step of ``tcia-add`` for a selection,
in-process; a second run finds nothing to do; shards build their
patients and leave the collection step to a run without a shard."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.hpc import Shard
from datalad_tcia.pipeline import (
    AddSummary,
    ArchivesOutcome,
    CatalogOutcome,
    CloneOutcome,
    CollectionOutcome,
    PatientOutcome,
    RunSettings,
    Selection,
    SeriesOutcome,
    TopOutcome,
    add_selection,
)
from datalad_tcia.store import StoreLayout
from tests.helpers import api

from .conftest import PHI, lookalike_series


def test_every_step_then_nothing(
    tcia: LookalikeServer, settings: RunSettings, tmp_path: Path
) -> None:
    summary = AddSummary()
    clone = tmp_path / 'clone'
    out = list(
        add_selection(
            settings, Selection(collection=PHI), clone_to=clone, summary=summary
        )
    )
    kinds = [type(o) for o in out]
    n = len(lookalike_series(tcia, PHI))
    assert kinds.count(SeriesOutcome) == n
    assert kinds[-6:] == [
        CollectionOutcome,
        CatalogOutcome,
        ArchivesOutcome,
        TopOutcome,
        CatalogOutcome,  # the catalog's home
        CloneOutcome,
    ]
    assert all(o.status == 'ok' for o in out), [
        o.message for o in out if o.status != 'ok'
    ]
    assert (summary.downloaded, summary.failed, summary.deleted) == (n, False, n)
    layout = StoreLayout(settings.store, PHI)
    assert layout.archive_files() == []
    # the clone gets a file's bytes from NBIA's per-file URL
    api('get')(dataset=str(clone), path=str(clone), recursive=True, get_data=False)
    files = sorted(p for p in clone.rglob('*.dcm') if '.git' not in p.parts)
    got = api('get')(dataset=str(files[0].parents[2]), path=str(files[0]))
    assert [r['status'] for r in got if r['action'] == 'get'] == ['ok']
    md5s = {i.md5 for s in lookalike_series(tcia, PHI) for i in s.instances}
    assert hashlib.md5(files[0].read_bytes()).hexdigest() in md5s
    tcia.reset()
    again = AddSummary()
    second = list(add_selection(settings, Selection(collection=PHI), summary=again))
    assert {o.status for o in second} == {'notneeded'}
    assert again.downloaded == 0 and tcia.requests('getImage') == []


def test_shards_then_the_collection_step(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    pids = sorted(p.patient_id for p in tcia.archive.collection(PHI).patients)  # type: ignore[union-attr]
    built: list[str] = []
    for k in range(2):
        out = list(
            add_selection(settings, Selection(collection=PHI), shard=Shard(k, 2))
        )
        patients = [o for o in out if isinstance(o, PatientOutcome)]
        assert {o.status for o in patients} <= {'ok'}
        built += [o.patient_id for o in patients]
        assert not [o for o in out if isinstance(o, CollectionOutcome)]
    assert sorted(built) == pids  # each patient built by one shard
    layout = StoreLayout(settings.store, PHI)
    assert not (layout.collection_repo / '.git').exists()
    final = list(add_selection(settings, Selection(collection=PHI)))
    assert [o.status for o in final if isinstance(o, CollectionOutcome)] == ['ok']
