"""``pipeline/select.py``: a selection resolved to series, in-process
against the look-alike's NBIA."""

from __future__ import annotations

from pathlib import Path

from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import RunSettings, Selection, resolve_selection

from .conftest import PHI, RT, lookalike_series


def _uids(res: object) -> set[str]:
    return {s.series_uid for s in res.series}  # type: ignore[attr-defined]


def test_every_part_is_a_filter(tcia: LookalikeServer, settings: RunSettings) -> None:
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    every = {s.uid for p in coll.patients for st in p.studies for s in st.series}
    res = resolve_selection(settings.nbia, Selection(collection=PHI))
    assert _uids(res) == every and not res.problems
    patient = coll.patients[0]
    mine = {s.uid for st in patient.studies for s in st.series}
    res = resolve_selection(
        settings.nbia, Selection(collection=PHI, patient=patient.patient_id)
    )
    assert _uids(res) == mine
    ct = {
        s.uid
        for p in coll.patients
        for st in p.studies
        for s in st.series
        if s.modality == 'CT'
    }
    assert ct and ct != every
    res = resolve_selection(settings.nbia, Selection(collection=PHI, modality='CT'))
    assert _uids(res) == ct


def test_series_and_manifest_are_pooled(
    tcia: LookalikeServer, settings: RunSettings, tmp_path: Path
) -> None:
    phi = lookalike_series(tcia, PHI)[0]
    rt = lookalike_series(tcia, RT)[0]
    manifest = tmp_path / 'one.tcia'
    manifest.write_text(
        'downloadServerUrl=https://example.org\nincludeAnnotation=true\n'
        f'noOfrRetry=4\ndatabasketId=x.tcia\nmanifestVersion=3.0\nListOfSeriesToDownload=\n{rt.uid}\n'
    )
    res = resolve_selection(
        settings.nbia, Selection(series=(phi.uid,), manifest=str(manifest))
    )
    assert _uids(res) == {phi.uid, rt.uid} and not res.problems


def test_inputs_that_name_nothing_are_problems_with_their_value(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    res = resolve_selection(settings.nbia, Selection(collection='Pseudo-PHI'))
    assert [(p.kind, p.value) for p in res.problems] == [
        ('unknown-collection', 'Pseudo-PHI')
    ]
    assert PHI in res.problems[0].message  # the near miss is named
    assert not res.series
    res = resolve_selection(settings.nbia, Selection(series=('1.2.3.999', 'x.y')))
    assert sorted((p.kind, p.value) for p in res.problems) == [
        ('malformed-uid', 'x.y'),
        ('unknown-series', '1.2.3.999'),
    ]
    res = resolve_selection(
        settings.nbia, Selection(collection=PHI, patient='NO-SUCH-PATIENT')
    )
    assert [p.kind for p in res.problems] == ['unknown-patient']
