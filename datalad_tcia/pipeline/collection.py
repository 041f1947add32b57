"""The collection step: the superdataset over the patient datasets and its
deposit (the catalog and the archive deletion follow, see
:mod:`.catalog` and :mod:`.archives`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from datalad_tcia.dataset import (
    PatientEntry,
    assign_slugs,
    ensure_superdataset,
    remove_stale_datasets,
    update_superdataset,
)
from datalad_tcia.export import clone_url, push_deposit
from datalad_tcia.metadata import CollectionDeposit, load_slugs, save_slugs
from datalad_tcia.store import COLLECTION, StoreLayout

from .outcomes import CollectionOutcome
from .patient import BUILD_ERRORS, failure_message
from .versions import make_version

lgr = logging.getLogger('datalad.tcia.pipeline.collection')


def prepare_collection(deposit: CollectionDeposit) -> dict[str, str]:
    """Clean up after interrupted runs and give every patient a slug.

    Call while holding the collection's lock. Returns PatientID -> slug;
    the mapping is recorded in the store (deposit URLs depend on it, so an
    assignment never changes).
    """
    layout = deposit.layout
    # patients' leftovers are removed under their own locks (build_patient)
    for stale in remove_stale_datasets(layout.stale_repos_of(COLLECTION)):
        lgr.info('removed %s, left unfinished by an interrupted run', stale)
    old = load_slugs(layout)
    slugs = assign_slugs(deposit.patients, old)
    if slugs != old:
        save_slugs(layout, slugs)
    return slugs


def license_files(deposit: CollectionDeposit) -> dict[str, bytes]:
    """Files every dataset of the collection commits to git: the LICENSE
    that TCIA puts into its archives."""
    text = next(
        (
            d.archive.license_text
            for deps in deposit.patients.values()
            for d in deps
            if d.archive.license_text
        ),
        None,
    )
    return {'LICENSE': text.encode()} if text else {}


def build_collection(
    layout: StoreLayout,
    entries: Sequence[PatientEntry],
    base_url: str,
    git_files: Mapping[str, bytes],
    *,
    force: bool = False,
    patients_failed: bool = False,
) -> CollectionOutcome:
    """Register ``entries`` in the collection superdataset and write its
    deposit."""
    path = layout.collection_repo
    deposit = layout.collection_deposit
    url = clone_url(base_url, deposit.relpath)
    try:
        ensure_superdataset(
            path, f'TCIA collection {layout.collection}', layout.temp_path(path)
        )
        commit = update_superdataset(
            path,
            entries,
            dict(git_files),
            f'Register {len(entries)} patient dataset(s) of TCIA collection '
            f'{layout.collection}\n\nEach subdataset URL points at its deposit in '
            f'{base_url}/{layout.patient_deposits}',
        )
        version = make_version(layout)
        pushed = push_deposit(path, deposit, force=force)
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
        message = 'deposited, without the patients that failed'
    else:
        message = pushed.message if status != 'ok' else 'collection dataset deposited'
    if version:
        message += f'; version {version}'
    return CollectionOutcome(
        status, message, layout.collection, path, url, version=version
    )
