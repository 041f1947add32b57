"""What each patient dataset was built from: its built record,
``<collection-id>/built/<slug>.json``, written after the patient's export.

A run over a collection (``tcia-deposit-dataset``, ``tcia-add``) takes
the stamps of the series records (:meth:`~datalad_tcia.store.StoreLayout.
record_stamps`: one listing of ``metadata/``) and finds the patients whose
series records are exactly those their dataset was built from, built under
the same conditions (layout, LICENSE, IDC release), and whose git
repository is still published. Those patients are done: neither their
series records are read nor their datasets touched (no git process), and
the collection step takes their commits and summaries from the built
records. Measured on NLST (26,254 patients, 203,087 series): see
``docs/source/hpc.rst``.

A built record is written after the export it describes, atomically; a
run killed before leaves the patient to be built again, which finds its
dataset done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from datalad_tcia.dataset import SubdatasetEntry
from datalad_tcia.export import clone_url
from datalad_tcia.store import StoreLayout, atomic_write_json

from .gather_provenance import PatientSummary

lgr = logging.getLogger('datalad.tcia.pipeline.ledger')

#: the format of built records
SCHEMA = 'datalad-tcia-built/1'
#: the make-up of patient datasets this version builds: a dataset built by
#: a version with another number is built again (raise it with any change
#: of what a patient dataset holds or how its remotes are configured)
DATASET_FORMAT = '1'


@dataclass(frozen=True)
class BuiltPatient:
    """What a patient's dataset was built from.

    Attributes
    ----------
    patient_id, slug, collection: str
      The patient and its collection (NBIA's name).
    commit, dataset_id: str
      The dataset's commit and ID, as its export holds them.
    files: int
      Its files.
    stamps: mapping
      SeriesInstanceUID -> the stamp of its series record it was built from.
    conditions: mapping
      What else it was built from (:func:`build_conditions`).
    summary: PatientSummary
      What the collection step needs of its series.
    """

    patient_id: str
    slug: str
    collection: str
    commit: str
    dataset_id: str
    files: int
    stamps: Mapping[str, tuple[int, int]]
    conditions: Mapping[str, str | None]
    summary: PatientSummary = field(default_factory=PatientSummary)

    def entry(self, layout: StoreLayout, base_url: str) -> SubdatasetEntry:
        """Its entry in the collection dataset."""
        url = clone_url(base_url, layout.patient_export(self.slug).relpath)
        return SubdatasetEntry(self.slug, url, self.dataset_id, self.commit)

    def to_json(self) -> dict[str, Any]:
        return {
            'schema': SCHEMA,
            'patient_id': self.patient_id,
            'slug': self.slug,
            'collection': self.collection,
            'commit': self.commit,
            'dataset_id': self.dataset_id,
            'files': self.files,
            'stamps': {k: list(v) for k, v in sorted(self.stamps.items())},
            'conditions': dict(self.conditions),
            'summary': self.summary.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BuiltPatient:
        return cls(
            patient_id=str(obj['patient_id']),
            slug=str(obj['slug']),
            collection=str(obj['collection']),
            commit=str(obj['commit']),
            dataset_id=str(obj['dataset_id']),
            files=int(obj['files']),
            stamps={str(k): (int(v[0]), int(v[1])) for k, v in obj['stamps'].items()},
            conditions=dict(obj['conditions']),
            summary=PatientSummary.from_json(obj.get('summary') or {}),
        )


def build_conditions(
    template: str, git_files: Mapping[str, bytes], idc_version: str | None
) -> dict[str, str | None]:
    """What a patient's dataset depends on besides its series records:
    the dataset format of this version, the file layout, the files
    committed to git (a digest), and the IDC index release its sources
    came from (``None``: no IDC step)."""
    digest = hashlib.sha1()  # noqa: S324 - a fingerprint
    for name, content in sorted(git_files.items()):
        digest.update(name.encode() + b'\0' + content + b'\0')
    return {
        'format': DATASET_FORMAT,
        'template': template,
        'git_files': digest.hexdigest(),
        'idc': idc_version,
    }


def load_built(layout: StoreLayout) -> dict[str, BuiltPatient]:
    """slug -> built record of every patient of the collection: those the
    last collection step gathered into ``built.json``, and those written
    since (``built/<slug>.json``; records that cannot be read are left
    out: their patients are built again)."""
    found: dict[str, BuiltPatient] = {}
    try:
        with open(layout.built_index, 'rb') as fp:
            gathered = json.loads(fp.read())
    except (OSError, ValueError):
        gathered = {}
    if isinstance(gathered, dict) and gathered.get('schema') == SCHEMA:
        for obj in gathered.get('patients') or []:
            rec = _record(obj, layout.built_index)
            if rec is not None:
                found[rec.slug] = rec
    for path, _stamp in _loose(layout):
        try:
            with open(path, 'rb') as fp:
                obj = json.loads(fp.read())
        except (OSError, ValueError) as err:
            lgr.debug('unreadable built record %s: %s', path, err)
            continue
        rec = _record(obj, path)
        if rec is not None:
            found[rec.slug] = rec
    return found


def _record(obj: Any, where: str | os.PathLike[str]) -> BuiltPatient | None:
    if not isinstance(obj, dict) or obj.get('schema') != SCHEMA:
        return None
    try:
        return BuiltPatient.from_json(obj)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        lgr.debug('unreadable built record in %s: %s', where, err)
        return None


def _loose(layout: StoreLayout) -> list[tuple[str, int]]:
    """The per-patient built records (paths, modification times)."""
    if not layout.built.is_dir():
        return []
    with os.scandir(layout.built) as entries:
        return [
            (e.path, e.stat().st_mtime_ns)
            for e in entries
            if e.name.endswith('.json') and not e.name.startswith('.')
        ]


def gather_built(layout: StoreLayout) -> None:
    """Gather the per-patient built records into ``built.json`` (one file
    to read instead of one per patient: 3.3 s for NLST's 26,254 on a cold
    cache) and remove those gathered. Call under the collection's lock; a
    record rewritten meanwhile stays (it is newer)."""
    loose = _loose(layout)
    if not loose:
        return
    records = load_built(layout)
    atomic_write_json(
        layout.built_index,
        {
            'schema': SCHEMA,
            'patients': [r.to_json() for _, r in sorted(records.items())],
        },
    )
    for path, stamp in loose:
        try:
            if os.stat(path).st_mtime_ns == stamp:
                os.unlink(path)
        except OSError:
            continue


def save_built(layout: StoreLayout, record: BuiltPatient) -> None:
    """Write a patient's built record (call under the patient's lock,
    after its export is written)."""
    atomic_write_json(layout.built_record(record.slug), record.to_json())


class Unchanged:
    """The patients of a collection whose datasets are built from their
    series records as they are: the candidates of the built records,
    discarded one by one as a run learns more.

    Parameters
    ----------
    layout: StoreLayout
      The collection.
    stamps: mapping
      The stamps of its series records, taken before any is read.
    records: mapping
      slug -> built record (:func:`load_built`).
    template: str
      This run's file layout.
    """

    def __init__(
        self,
        layout: StoreLayout,
        stamps: Mapping[str, tuple[int, int]],
        records: Mapping[str, BuiltPatient],
        template: str,
    ) -> None:
        self.layout = layout
        self.stamps = stamps
        self.template = template
        #: PatientID -> built record, of the patients still unchanged
        self.records = {r.patient_id: r for r in records.values()}
        self._discarded: dict[str, BuiltPatient] = {}

    def keep(self, idc_version: str | None) -> None:
        """Keep the patients built with this run's layout and IDC release,
        from their series records as they are, and still published."""
        published = self.layout.published_patients()
        for pid, rec in list(self.records.items()):
            cond = rec.conditions
            if not (
                cond.get('format') == DATASET_FORMAT
                and cond.get('template') == self.template
                and cond.get('idc') == idc_version
                and all(self.stamps.get(u) == st for u, st in rec.stamps.items())
                and rec.slug in published
            ):
                self._discard(pid)

    def unknown(self) -> set[str]:
        """Series with records that no unchanged patient was built from."""
        known = {u for rec in self.records.values() for u in rec.stamps}
        return set(self.stamps) - known

    def discard(self, patients: Iterable[str]) -> None:
        """These patients have series their datasets lack."""
        for pid in patients:
            self._discard(pid)

    def discard_unlike(self, patients: Mapping[str, Iterable[Any]]) -> None:
        """Keep the patients whose series (``patients``: PatientID -> its
        series records) are those their datasets were built from."""
        for pid, rec in list(self.records.items()):
            now = {d.record.series_uid for d in patients.get(pid, ())}
            if now != set(rec.stamps):
                self._discard(pid)

    def discard_unless(self, conditions: Mapping[str, str | None]) -> None:
        """Keep the patients built under ``conditions``."""
        for pid, rec in list(self.records.items()):
            if dict(rec.conditions) != dict(conditions):
                self._discard(pid)

    def unread(self, read: Mapping[str, Iterable[Any]]) -> set[str]:
        """Series of discarded patients not among the series ``read``
        (PatientID -> series records)."""
        have = {d.record.series_uid for deps in read.values() for d in deps}
        return {
            u
            for rec in self._discarded.values()
            for u in rec.stamps
            if u in self.stamps and u not in have
        }

    def summaries(self) -> list[PatientSummary]:
        return [rec.summary for _, rec in sorted(self.records.items())]

    def _discard(self, pid: str) -> None:
        rec = self.records.pop(pid, None)
        if rec is not None:
            self._discarded[pid] = rec
