"""What a dataset lacks: its annexed files without content, their keys,
and the URLs git-annex knows for them, in retrieval order.

The worktree's symlinks name the keys (``os.readlink``, no process); the
URL and location logs of every key are read from the git-annex branch in
this process (libgit2, :func:`~datalad_tcia.store.git.branch_files`: no
git process per dataset), and git-annex's journal (changes not yet committed
to the branch) supersedes what the branch says. Only files git-annex
keeps locked (symlinks) are taken; anything else is left to ``git annex
get`` (see :mod:`.transfer`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from datalad_next.types.annexkey import AnnexKey

from datalad_tcia.dataset.repository import REMOTES
from datalad_tcia.formats.annex_branch import present_uuids
from datalad_tcia.formats.annex_content import (
    annex_uuid,
    git_dir,
    journalled,
    location_log_path,
    url_log_path,
)
from datalad_tcia.store.git import branch_files

#: git-annex backends whose content is checked here, and their hashes
BACKEND_HASHES = {
    'MD5': 'md5',
    'SHA1': 'sha1',
    'SHA224': 'sha224',
    'SHA256': 'sha256',
    'SHA384': 'sha384',
    'SHA512': 'sha512',
}

#: URL patterns in retrieval order: the web remotes of a patient dataset by
#: cost (IDC's objects, then NBIA's ``getSingleImage``)
URL_ORDER = tuple(
    spec.fields['urlinclude']
    for spec in sorted(REMOTES.values(), key=lambda s: s.cost)
    if spec.web and 'urlinclude' in spec.fields
)


@dataclass(frozen=True)
class WantedKey:
    """One key a dataset lacks (files with the same key share it).

    Attributes
    ----------
    key: str
      The git-annex key.
    size: int
      Its size in bytes.
    algorithm: str
      The :mod:`hashlib` name of its backend's hash.
    digest: str
      The hex digest the content must have.
    urls: tuple of str
      Where to get it, in retrieval order (empty: none known here).
    paths: tuple of str
      The files (relative to the dataset) that point to it.
    location_log: str
      Its location log as read (what a "here" line is merged into).
    """

    key: str
    size: int
    algorithm: str
    digest: str
    urls: tuple[str, ...]
    paths: tuple[str, ...]
    location_log: str


@dataclass
class DatasetContent:
    """What one dataset holds and lacks under the paths asked for.

    Attributes
    ----------
    repo: Path
      The dataset.
    gitdir: Path
      Its git directory.
    uuid: str or None
      Its git-annex UUID (``None``: not initialised, git-annex's job).
    wanted: list of WantedKey
      Keys to fetch.
    unhandled: list of str
      Files without content that this path does not fetch (keys it
      cannot verify, unlocked files): ``git annex get`` gets them.
    present: int
      Files whose content is there already.
    unlogged: dict
      Keys whose content is there but whose location log does not say
      so (a run killed between the two): key -> its log as read.
    """

    repo: Path
    gitdir: Path
    uuid: str | None
    wanted: list[WantedKey] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    present: int = 0
    unlogged: dict[str, str] = field(default_factory=dict)

    @property
    def bytes_wanted(self) -> int:
        """Bytes of the keys to fetch."""
        return sum(w.size for w in self.wanted)


@dataclass
class AnnexedLinks:
    """Annexed files found under a dataset's paths: key -> files, for keys
    without and with content, and files only git-annex handles."""

    missing: dict[str, list[str]] = field(default_factory=dict)
    present: dict[str, list[str]] = field(default_factory=dict)
    unhandled: list[str] = field(default_factory=list)


def scan_links(
    repo: Path, scope: Sequence[str] = (), skip: Iterable[str] = ()
) -> AnnexedLinks:
    """Annexed files under ``scope`` (paths relative to ``repo``; empty:
    everything), leaving out ``.git`` and the subdatasets in ``skip``."""
    skipped = {os.path.normpath(s) for s in skip}
    links = AnnexedLinks()
    tops = [os.path.normpath(s) for s in scope] or ['.']
    seen: set[str] = set()
    for top in tops:
        _walk(repo, top, skipped, links, seen)
    return links


def _walk(
    repo: Path, rel: str, skipped: set[str], links: AnnexedLinks, seen: set
) -> None:
    if _passed(rel, skipped, seen):
        return
    full = os.path.join(repo, rel)
    if os.path.islink(full):
        _link(full, rel, links)
    elif os.path.isdir(full):
        _scan(full, rel, skipped, links, seen)
    elif os.path.isfile(full) and _is_pointer(Path(full)):
        links.unhandled.append(rel)


def _passed(rel: str, skipped: set[str], seen: set) -> bool:
    """Whether ``rel`` is seen already, skipped, or git's own."""
    if rel in seen or rel in skipped or rel.split(os.sep, maxsplit=1)[0] == '.git':
        return True
    seen.add(rel)
    return False


def _scan(
    full: str, rel: str, skipped: set[str], links: AnnexedLinks, seen: set
) -> None:
    """A directory's entries, told apart by what ``scandir`` knows (no
    ``stat`` of each)."""
    with os.scandir(full) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        child = os.path.normpath(os.path.join(rel, entry.name))
        if _passed(child, skipped, seen):
            continue
        if entry.is_symlink():
            _link(entry.path, child, links)
        elif entry.is_dir(follow_symlinks=False):
            _scan(entry.path, child, skipped, links, seen)
        elif entry.is_file(follow_symlinks=False) and _is_pointer(Path(entry.path)):
            links.unhandled.append(child)


def _link(full: str, rel: str, links: AnnexedLinks) -> None:
    """An annexed file's symlink: its key, present or missing."""
    target = os.readlink(full)
    if '/annex/objects/' not in target and not target.startswith('annex/objects/'):
        return
    kind = links.present if os.path.exists(full) else links.missing
    kind.setdefault(os.path.basename(target), []).append(rel)


def _is_pointer(path: Path) -> bool:
    """Whether ``path`` is an unlocked annexed file without content (a
    pointer file git-annex would fill)."""
    if path.stat().st_size > 1024:
        return False
    with path.open('rb') as fh:
        return fh.read(1024).startswith(b'/annex/objects/')


def key_facts(key: str) -> tuple[int, str, str] | None:
    """Size, hash name and hex digest a key's content must have, or
    ``None`` for a key whose content is not checked here.

    >>> key_facts('MD5E-s3--acbd18db4cc2f85cedef654fccc4a4d8.dcm')
    (3, 'md5', 'acbd18db4cc2f85cedef654fccc4a4d8')
    >>> key_facts('URL--http&c%%a') is None
    True
    """
    try:
        parsed = AnnexKey.from_str(key)
    except ValueError:
        return None
    backend = parsed.backend.removesuffix('E')
    algorithm = BACKEND_HASHES.get(backend)
    if algorithm is None or parsed.size is None:
        return None
    digest = parsed.name.split('.', 1)[0].lower()
    if len(digest) != hashlib.new(algorithm).digest_size * 2:
        return None
    return int(parsed.size), algorithm, digest


def ordered_urls(url_log: str) -> tuple[str, ...]:
    """The http(s) URLs of a key's URL log, IDC's objects first, then
    NBIA's single files, then any other; URLs a special remote claims
    (``:`` in front, e.g. of uncurl in datasets of earlier versions) are
    the same URLs. ``dl+archive:`` locators are not fetched here.

    >>> ordered_urls('1s 1 http://n/getSingleImage?a=1\\n1s 1 :http://i/x.dcm\\n')
    ('http://i/x.dcm', 'http://n/getSingleImage?a=1')
    """
    urls = []
    for entry in sorted(present_uuids(url_log)):
        url = entry.removeprefix(':')
        if url.startswith(('http://', 'https://')) and url not in urls:
            urls.append(url)

    def rank(url: str) -> int:
        for i, pattern in enumerate(URL_ORDER):
            if fnmatch.fnmatchcase(url, pattern):
                return i
        return len(URL_ORDER)

    return tuple(sorted(urls, key=rank))


def missing_bytes(links: AnnexedLinks) -> int:
    """Bytes of the keys without content (as far as the keys tell)."""
    return sum(facts[0] for k in links.missing if (facts := key_facts(k)))


def dataset_content(repo: Path, links: AnnexedLinks) -> DatasetContent:
    """What ``repo`` holds and lacks among ``links`` (:func:`scan_links`),
    with the URLs and location logs of the keys."""
    content = DatasetContent(
        repo, git_dir(repo), annex_uuid(repo), unhandled=list(links.unhandled)
    )
    content.present = sum(len(p) for p in links.present.values())
    if content.uuid is None:
        content.unhandled.extend(p for ps in links.missing.values() for p in ps)
        return content
    keys = sorted({*links.missing, *links.present})
    logs = _branch_logs(repo, content.gitdir, keys)
    for key, paths in sorted(links.missing.items()):
        facts = key_facts(key)
        if facts is None:
            content.unhandled.extend(paths)
            continue
        size, algorithm, digest = facts
        location, urls = logs[key]
        content.wanted.append(
            WantedKey(
                key, size, algorithm, digest, ordered_urls(urls), tuple(paths), location
            )
        )
    for key in links.present:
        location = logs[key][0]
        if content.uuid not in present_uuids(location):
            content.unlogged[key] = location
    return content


def _branch_logs(
    repo: Path, gitdir: Path, keys: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Location and URL log of each key (the journal's where it has one)."""
    names = {k: (location_log_path(k), url_log_path(k)) for k in keys}
    pending = {
        name: journalled(gitdir, name) for pair in names.values() for name in pair
    }
    blobs = branch_files(
        repo, 'refs/heads/git-annex', [n for n, t in pending.items() if t is None]
    )

    def text(name: str) -> str:
        journal = pending[name]
        if journal is not None:
            return journal.decode('utf-8', 'surrogateescape')
        return blobs.get(name, b'').decode('utf-8', 'surrogateescape')

    return {k: (text(loc), text(web)) for k, (loc, web) in names.items()}
