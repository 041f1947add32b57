"""``pipeline/build_collection.py``: patient slugs assigned once, the
collection's LICENSE, and the superdataset over the patient datasets
with its provenance record and citation."""

from __future__ import annotations

import json
from dataclasses import replace

from tcia_lookalike import LookalikeServer

from datalad_tcia.dataset.groups import patient_commits
from datalad_tcia.dataset.provenance import PROVENANCE
from datalad_tcia.dataset.versions import gitlinks
from datalad_tcia.metadata import load_grouping, load_slugs, read_collection
from datalad_tcia.pipeline import (
    PatientOutcome,
    RunSettings,
    build_collection,
    build_datasets,
    license_files,
    prepare_collection,
)
from datalad_tcia.pipeline.build_collection import SelfDescription
from datalad_tcia.pipeline.gather_provenance import lookup_citation, provenance_record
from datalad_tcia.store import StoreLayout
from tests.helpers import run_ok

from .conftest import PHI


def test_slugs_are_assigned_once(acquired: RunSettings) -> None:
    stored = read_collection(acquired.store, PHI)
    slugs = prepare_collection(stored)
    assert sorted(slugs) == sorted(stored.patients)
    assert len(set(slugs.values())) == len(slugs)
    assert load_slugs(stored.layout) == slugs
    assert prepare_collection(read_collection(acquired.store, PHI)) == slugs


def test_license_comes_from_the_archives(
    tcia: LookalikeServer, acquired: RunSettings
) -> None:
    files = license_files(read_collection(acquired.store, PHI))
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    assert files == {'LICENSE': coll.license_text().encode()}


def test_the_superdataset_of_the_patients(acquired: RunSettings) -> None:
    patients = [
        o
        for o in build_datasets(acquired, PHI, collection_step=False)
        if isinstance(o, PatientOutcome)
    ]
    stored = read_collection(acquired.store, PHI)
    layout = StoreLayout(acquired.store, PHI)
    assert not (layout.collection_repo / '.git').exists()
    citation = lookup_citation(acquired.citations, stored)
    out = build_collection(
        layout,
        [o.entry for o in patients if o.entry is not None],
        acquired.base_url,
        SelfDescription(
            license_files(stored), provenance_record(stored, citation), citation
        ),
    )
    assert out.status == 'ok', out.message
    repo = layout.collection_repo
    tree = run_ok(['git', 'ls-tree', 'HEAD'], repo).splitlines()
    links = {
        line.split('\t')[1]: line.split()[2]
        for line in tree
        if line.startswith('160000')
    }
    assert links == {o.slug: o.commit for o in patients}
    names = {line.split('\t')[1] for line in tree}
    assert {'LICENSE', 'CITATION.cff', '.gitmodules'} <= names
    record = json.loads(run_ok(['git', 'show', f'HEAD:{PROVENANCE}'], repo))
    assert record['collection'] == PHI and record['doi'] == '10.7937/s17z-r072'
    cff = run_ok(['git', 'show', 'HEAD:CITATION.cff'], repo)
    assert citation is not None and citation.title in cff
    assert (layout.collection_export.bare / 'info' / 'refs').exists()


def test_a_big_collection_holds_its_patients_in_groups(acquired: RunSettings) -> None:
    """Above ``group_above`` patients, the collection dataset's subdatasets
    are group datasets (plain git, published as ``groups/<group>.git``)
    whose subdatasets are the patients; a collection built flat before is
    regrouped in one new version, and stays grouped."""
    store = acquired.store
    layout = StoreLayout(store, PHI)
    build = list(build_datasets(acquired, PHI))
    patients = {o.slug: o.commit for o in build if isinstance(o, PatientOutcome)}
    assert set(gitlinks(layout.collection_repo)) == set(patients)
    out = list(build_datasets(replace(acquired, group_above=1), PHI))
    assert {o.status for o in out} <= {'ok', 'notneeded'}, out
    digits = load_grouping(layout)
    assert digits == 1
    assert gitlinks(layout.collection_repo) == {
        'Pseudo-PHI-00x': run_ok(
            ['git', 'rev-parse', 'HEAD'], layout.group_repo('Pseudo-PHI-00x')
        ).strip()
    }
    group = layout.group_repo('Pseudo-PHI-00x')
    assert gitlinks(group) == patients
    assert not (group / '.git' / 'annex').exists()
    bare = layout.group_export('Pseudo-PHI-00x').bare
    assert (bare / 'info' / 'refs').exists()
    modules = run_ok(['git', 'config', '-f', '.gitmodules', '--list'], group)
    assert f'{acquired.base_url}/pseudo_phi_dicom_data/datasets/Pseudo-PHI-001.git' in (
        modules
    )
    listing = ['git', 'config', '-f', '.gitmodules', '--list']
    top = run_ok(listing, layout.collection_repo)
    assert 'groups/Pseudo-PHI-00x.git' in top and 'Pseudo-PHI-001' not in top
    # the patients, through the group, at the version the collection names
    tags = run_ok(['git', 'tag', '--list'], layout.collection_repo).split()
    assert len(tags) == 2  # noqa: PLR2004  flat, then grouped
    assert patient_commits(layout, digits, f'refs/tags/{tags[-1]}') == patients
    # grouped for good, and nothing new: nothing changes
    again = list(build_datasets(acquired, PHI))
    assert {o.status for o in again} == {'notneeded'}, again
    assert run_ok(['git', 'tag', '--list'], layout.collection_repo).split() == tags
