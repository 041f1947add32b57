"""The collection step: the superdataset over the patient datasets and its
export (the catalog and the archive deletion follow, see
:mod:`.write_catalog` and :mod:`.clean_up`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalad_tcia.datacite import Citation
from datalad_tcia.dataset import (
    SubdatasetEntry,
    assign_slugs,
    ensure_superdataset,
    remove_stale_datasets,
    update_superdataset,
)
from datalad_tcia.dataset.groups import update_groups
from datalad_tcia.dataset.naming import GROUP_ABOVE, group_digits, group_of
from datalad_tcia.dataset.provenance import (
    CITATION,
    PROVENANCE,
    citation_cff,
    provenance_bytes,
)
from datalad_tcia.dataset.versions import gitlinks
from datalad_tcia.export import clone_url, export_dataset
from datalad_tcia.metadata import (
    CollectionRecords,
    load_grouping,
    load_slugs,
    save_grouping,
    save_slugs,
)
from datalad_tcia.store import COLLECTION, StoreLayout
from datalad_tcia.store.git import cat_blobs

from .build_patient import BUILD_ERRORS, failure_message
from .gather_provenance import PatientSummary, summarize_patients
from .make_version import make_version
from .outcomes import CollectionOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.build_collection')


def prepare_collection(
    stored: CollectionRecords, group_above: int = GROUP_ABOVE
) -> dict[str, str]:
    """Clean up after interrupted runs and give every patient a slug.

    Call while holding the collection's lock. Returns PatientID -> slug;
    the mapping is recorded in the store (export URLs depend on it, so an
    assignment never changes). A collection of more than ``group_above``
    patients holds them in group datasets from now on (recorded: see
    :mod:`~datalad_tcia.dataset.groups`).
    """
    layout = stored.layout
    # patients' leftovers are removed under their own locks (build_patient)
    for stale in remove_stale_datasets(layout.stale_repos_of(COLLECTION)):
        lgr.info('removed %s, left unfinished by an interrupted run', stale)
    old = load_slugs(layout)
    slugs = assign_slugs(stored.patients, old)
    if slugs != old:
        save_slugs(layout, slugs)
    if len(slugs) > group_above and load_grouping(layout) is None:
        digits = group_digits(slugs.values())
        save_grouping(layout, digits)
        lgr.info(
            '%s: %d patients, held in group datasets (%s...)',
            layout.collection,
            len(slugs),
            group_of(min(slugs.values()), digits),
        )
    return slugs


def license_files(stored: CollectionRecords) -> dict[str, bytes]:
    """Files every dataset of the collection commits to git: the LICENSE
    that TCIA puts into its archives, or for series that came without one
    (from IDC) the same text made from the series' licence."""
    return license_files_of(summarize_patients(stored))


def license_files_of(summaries: Sequence[PatientSummary]) -> dict[str, bytes]:
    """:func:`license_files` from the summaries of the patients."""
    text = next((p.license_text for p in summaries if p.license_text), None)
    text = text or next((p.made_license for p in summaries if p.made_license), None)
    return {'LICENSE': text.encode()} if text else {}


@dataclass(frozen=True)
class SelfDescription:
    """What a collection dataset says of itself.

    Attributes
    ----------
    files: mapping
      Files committed as they are (``LICENSE``; an analysis result's
      record).
    record: mapping or None
      Its provenance record (``None``: left as it is).
    citation: Citation or None
      Its DataCite record, made its ``CITATION.cff`` (``None``: kept as
      it is).
    """

    files: Mapping[str, bytes] = field(default_factory=dict)
    record: Mapping[str, Any] | None = None
    citation: Citation | None = None


def build_collection(
    layout: StoreLayout,
    entries: Sequence[SubdatasetEntry],
    base_url: str,
    about: SelfDescription,
    *,
    force: bool = False,
    patients_failed: bool = False,
    jobs: int = 1,
) -> CollectionOutcome:
    """Register ``entries`` in the collection superdataset, with what it
    says of itself (``about``), name a new state as a version (its
    patients tagged ``jobs`` at once), and write the export."""
    path = layout.collection_repo
    target = layout.collection_export
    url = clone_url(base_url, target.relpath)
    try:
        ensure_superdataset(
            path, f'TCIA collection {layout.collection}', layout.temp_path(path)
        )
        digits = load_grouping(layout)
        subs, drop = list(entries), []
        if digits is not None:
            subs = update_groups(layout, entries, base_url, digits)
            # patients registered before the collection was grouped
            groups = {group_of(s, digits) for s in load_slugs(layout).values()}
            drop = [name for name in gitlinks(path) if name not in groups]
        files = dict(about.files)
        if about.record is not None:
            files.update(_self_description(path, subs, about.record, about.citation))
        commit = update_superdataset(
            path,
            subs,
            files,
            f'Register {len(entries)} patient dataset(s) of TCIA collection '
            f'{layout.collection}\n\nEach subdataset URL points at its git '
            f'repository in {base_url}/{layout.patient_exports}',
            drop,
        )
        version = make_version(layout, jobs)
        pushed = export_dataset(path, target, force=force)
    except BUILD_ERRORS as e:
        return CollectionOutcome(
            'error',
            failure_message('building the collection dataset', e),
            layout.collection,
            path,
            url,
            exception=e,
        )
    status = pushed.status if pushed.status != 'notneeded' or commit else 'notneeded'
    if patients_failed and status == 'ok':
        message = 'exported, without the patients that failed'
    else:
        message = pushed.message if status != 'ok' else 'collection dataset exported'
    if version:
        message += f'; version {version}'
    return CollectionOutcome(
        status, message, layout.collection, path, url, version=version
    )


def _self_description(
    path: Path,
    entries: Sequence[SubdatasetEntry],
    record: Mapping[str, Any],
    citation: Citation | None,
) -> dict[str, bytes]:
    """``CITATION.cff`` and the provenance record to commit; the
    provenance's time moves only when something else does."""
    old = cat_blobs(path, [f'HEAD:{PROVENANCE}', f'HEAD:{CITATION}'])
    files = {}
    recorded = gitlinks(path)  # once: one ls-tree lists every patient
    changed = any(recorded.get(e.slug) != e.commit for e in entries)
    record = dict(record)
    if citation is not None:
        what = 'analysis result' if record.get('describes') else 'collection'
        cff = citation_cff(citation, what).encode()
        files[CITATION] = cff
        changed = changed or old.get(f'HEAD:{CITATION}') != cff
        if citation.version:
            record['datacite_version'] = citation.version
    else:
        # not looked up this run: what the last run recorded stays
        try:
            before = json.loads(old.get(f'HEAD:{PROVENANCE}', b'{}'))
        except ValueError:
            before = {}
        if isinstance(before, dict) and before.get('datacite_version'):
            record['datacite_version'] = before['datacite_version']
    (path / PROVENANCE).parent.mkdir(parents=True, exist_ok=True)
    files[PROVENANCE] = provenance_bytes(record, old.get(f'HEAD:{PROVENANCE}'), changed)
    return files
