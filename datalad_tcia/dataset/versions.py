"""Named versions: annotated ``tcia-YYYY-MM-DD`` tags.

Every run that changes a collection dataset tags its new commit; every
patient dataset carries the same tag on the commit the collection points
to. A second version on one day is ``tcia-YYYY-MM-DD.2`` (then ``.3``,
...). A collection acquired from IDC names the IDC release its series
come from: ``tcia-YYYY-MM-DD-idc-v25``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from datalad_tcia.store.git import GitError, cat_blobs, git, git_line

#: the prefix of version tags
PREFIX = 'tcia-'


_TAG = re.compile(r'(\d{4}-\d{2}-\d{2})(-[A-Za-z0-9-]+)?(?:\.(\d+))?')


def version_order(name: str) -> tuple[str, int]:
    """Where a version tag sorts: by its day, then its number (two
    versions made within one second have the same tag date).

    >>> sorted(['tcia-2026-12-01.10', 'tcia-2026-12-01', 'tcia-2026-12-01-idc-v25.2'],
    ...        key=version_order)
    ['tcia-2026-12-01', 'tcia-2026-12-01-idc-v25.2', 'tcia-2026-12-01.10']
    """
    match = _TAG.fullmatch(name[len(PREFIX) :])
    if match is None:
        return name, 0
    return match[1], int(match[3]) if match[3] else 1


def version_tags(repo: Path) -> list[str]:
    """The version tags of ``repo``, oldest first."""
    out = git(repo, 'for-each-ref', '--format=%(refname:short)', f'refs/tags/{PREFIX}*')
    return sorted(out.decode().split(), key=version_order)


def next_version(existing: Iterable[str], day: date, suffix: str = '') -> str:
    """The name of a new version made on ``day`` (``suffix``, e.g.
    ``idc-v25``, names where its files come from). Numbers count the
    day's versions whatever their suffix.

    >>> next_version([], date(2026, 11, 29))
    'tcia-2026-11-29'
    >>> next_version(['tcia-2026-11-29', 'tcia-2026-11-29.2'], date(2026, 11, 29))
    'tcia-2026-11-29.3'
    >>> next_version(['tcia-2026-11-29-idc-v25'], date(2026, 11, 29), 'idc-v26')
    'tcia-2026-11-29-idc-v26.2'
    """
    base = f'{PREFIX}{day.isoformat()}' + (f'-{suffix}' if suffix else '')
    same_day = [t for t in existing if version_order(t)[0] == day.isoformat()]
    if not same_day:
        return base
    return f'{base}.{max(version_order(t)[1] for t in same_day) + 1}'


def gitlinks(repo: Path, ref: str = 'HEAD') -> dict[str, str]:
    """Subdataset path -> the commit ``ref`` records for it (none for a
    repository without commits)."""
    try:
        out = git(repo, 'ls-tree', '-z', ref)
    except GitError:  # no commit yet: no gitlinks
        return {}
    links = {}
    for entry in out.split(b'\0'):
        meta, _, path = entry.partition(b'\t')
        if meta.startswith(b'160000 '):
            links[path.decode('utf-8', 'surrogateescape')] = meta.split()[2].decode()
    return links


def tag_version(repo: Path, name: str, message: str, commit: str = 'HEAD') -> None:
    """Tag ``commit`` of ``repo`` as the version ``name`` (annotated)."""
    git(repo, 'tag', '-a', '-F', '-', name, commit, input=message.encode())


def changed_patients(
    before: Mapping[str, str], after: Mapping[str, str]
) -> dict[str, str]:
    """Subdatasets (path -> commit) that are new or moved since ``before``.

    >>> changed_patients({'a': '1', 'b': '2'}, {'a': '1', 'b': '3', 'c': '4'})
    {'b': '3', 'c': '4'}
    """
    return {p: c for p, c in after.items() if before.get(p) != c}


def tagged_commit(repo: Path, name: str) -> str:
    """The commit the tag ``name`` points to."""
    return git_line(repo, 'rev-parse', f'refs/tags/{name}^{{commit}}')


def subjects(repo: Path, since: str | None, until: str) -> list[str]:
    """The subject lines of ``repo``'s commits after ``since`` up to
    ``until``, oldest first."""
    span = f'{since}..{until}' if since else until
    out = git(repo, 'log', '--reverse', '--format=%s', span)
    return [s for s in out.decode('utf-8', 'replace').splitlines() if s]


def version_notes(repo: Path) -> list[tuple[str, str, str]]:
    """``(name, date, message)`` of the version tags, newest first."""
    out = git(
        repo,
        'for-each-ref',
        '--format=%(refname:short)%00%(creatordate:short)%00%(contents)%00%00',
        f'refs/tags/{PREFIX}*',
    )
    notes = []
    for entry in out.decode('utf-8', 'replace').split('\0\0'):
        parts = entry.strip('\n').split('\0')
        if len(parts) == 3 and parts[0]:  # noqa: PLR2004
            notes.append((parts[0], parts[1], parts[2].strip()))
    return sorted(notes, key=lambda n: version_order(n[0]), reverse=True)


@dataclass
class FileChanges:
    """What changed in a dataset's files between two commits."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    #: bytes of the new contents (added and changed files)
    new_bytes: int = 0

    def __iadd__(self, other: FileChanges) -> FileChanges:
        self.added += other.added
        self.changed += other.changed
        self.removed += other.removed
        self.new_bytes += other.new_bytes
        return self


_KEY_SIZE = re.compile(r'-s(\d+)--')


def file_changes(repo: Path, since: str | None, until: str) -> FileChanges:
    """Annexed files added, changed and removed after ``since`` up to
    ``until`` (all of ``until``'s files if ``since`` is ``None``), and the
    bytes of their new contents (from the keys: no content needed)."""
    if since:
        out = git(repo, 'diff', '--no-renames', '--name-status', '-z', since, until)
        fields = out.decode('utf-8', 'surrogateescape').split('\0')
        pairs = list(zip(fields[0::2], fields[1::2], strict=False))
    else:
        out = git(repo, 'ls-tree', '-r', '-z', '--name-only', until)
        pairs = [('A', p) for p in out.decode('utf-8', 'surrogateescape').split('\0')]
    result = FileChanges()
    fresh = []
    for status, path in pairs:
        if not path.endswith('.dcm'):
            continue
        if status == 'A':
            result.added += 1
            fresh.append(path)
        elif status == 'M':
            result.changed += 1
            fresh.append(path)
        elif status == 'D':
            result.removed += 1
    targets = cat_blobs(repo, [f'{until}:{p}' for p in fresh])
    for blob in targets.values():
        match = _KEY_SIZE.search(blob.decode('utf-8', 'replace'))
        if match:
            result.new_bytes += int(match.group(1))
    return result
