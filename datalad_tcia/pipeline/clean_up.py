"""Delete a collection's archives once nothing depends on them: every file
of its patient datasets has a TCIA source registered, and the collection
export clones."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from datalad_tcia.dataset.sources import unsourced_files
from datalad_tcia.store import StoreLayout, StoreLock, StoreLocked
from datalad_tcia.store.git import GitError, clone_probe

from .outcomes import ArchivesOutcome

lgr = logging.getLogger('datalad.tcia.pipeline.clean_up')


def delete_archives(layout: StoreLayout, clone_url: str | None) -> ArchivesOutcome:
    """Delete the collection's archives once the datasets are verified,
    holding the collection's lock (another run may be downloading)."""
    try:
        with StoreLock(layout.lock):
            return _delete_verified(layout, clone_url)
    except StoreLocked as e:
        return ArchivesOutcome('impossible', f'archives kept: {e}', layout.archives)


def _delete_verified(layout: StoreLayout, clone_url: str | None) -> ArchivesOutcome:
    problems = missing_sources(layout) + clone_problems(clone_url)
    if problems:
        return ArchivesOutcome(
            'error', 'archives kept: ' + '; '.join(problems[:3]), layout.archives
        )
    # only archives of series whose metadata the datasets were built from
    archives = [
        a
        for a in layout.archive_files()
        if layout.archive_metadata(a.stem).exists()
        and layout.dicoms_metadata(a.stem).exists()
    ]
    for archive in archives:
        archive.unlink()
    if layout.archives.is_dir() and not any(layout.archives.iterdir()):
        layout.archives.rmdir()
    return ArchivesOutcome(
        'ok' if archives else 'notneeded',
        f'{len(archives)} archive(s) deleted: every file has its TCIA '
        'sources and the collection export clones',
        layout.archives,
        deleted=len(archives),
    )


def missing_sources(layout: StoreLayout) -> list[str]:
    """Patient datasets with files that lack a registered source."""
    problems = []
    for repo in layout.patient_repos():
        try:
            missing = unsourced_files(repo)
        except (GitError, KeyError, OSError) as e:
            problems.append(f'cannot check the sources of {repo.name}: {e}')
            continue
        if missing:
            problems.append(
                f'{len(missing)} file(s) of {repo.name} have no TCIA source'
            )
    return problems


def clone_problems(url: str | None) -> list[str]:
    """Whether the collection export clones (into a throw-away directory
    that is no git repository)."""
    if not url:
        return ['the collection export has no clone URL']
    with tempfile.TemporaryDirectory() as tmp:
        error = clone_probe(url, Path(tmp))
        if error:
            return [f'the collection export does not clone: {error}']
        if not (Path(tmp) / 'probe' / '.gitmodules').exists():
            return ['the cloned collection dataset has no subdatasets']
    return []
