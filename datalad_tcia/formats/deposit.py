"""The ``datalad-annex::`` deposit of a dataset, written by hand.

A deposit is two files in the format of datalad-next's ``datalad-annex``
git remote helper: ``<name>_XDLRA--repo-export``, a ZIP archive of a bare
git repository holding the dataset's ``main`` and ``git-annex`` branches,
and ``<name>_XDLRA--refs``, the list of its refs (``<sha> <ref>`` lines
and ``@<ref> HEAD``). Anyone can ``datalad clone`` it from the store's URL
(``file://`` or ``http(s)://``) with stock datalad-next.

Both files are written here directly from the working copy's object
store, instead of by a ``git push`` through the remote helper (which
costs several git-annex processes and a ``git gc`` per dataset). They are
written under staging names beside the real ones
(``.<name>.staging_XDLRA--*``) and published by two renames: the
repository export first, the refs second. At every instant the final
names hold a deposit that clones: the old one, the new one, or (between
the renames) the new export with the old refs, whose commits the new
export contains. A staging deposit left by a killed run is discarded by
the next write.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

from datalad_tcia.store import DEPOSIT_SUFFIXES, ExportPaths

from .bare import PEELED, packed_refs

lgr = logging.getLogger('datalad.tcia.formats.deposit')


def deposit_refs(prefix: Path) -> dict[str, str] | None:
    """The refs recorded in a deposit (``<prefix>_XDLRA--refs``), if any."""
    try:
        text = ExportPaths.refs_of(prefix).read_text()
    except FileNotFoundError:
        return None
    refs = {}
    for line in text.splitlines():
        sha, _, ref = line.partition(' ')
        if ref.startswith('refs/'):
            refs[ref] = sha
    return refs


#: a bare repository as the remote helper unpacks it
_BARE_CONFIG = (
    b'[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n'
)
_DIRS = ('refs/', 'refs/heads/', 'refs/tags/', 'objects/info/', 'objects/pack/')


def write_staging(
    gitdir: Path, head: str, refs: dict[str, str], target: ExportPaths
) -> None:
    """Write the staging deposit of ``deposit``: every object of
    ``gitdir`` (packs as they are, stored without recompression) and
    ``refs`` as the only refs (``<tag>^{}``: an annotated tag's commit)."""
    export = ExportPaths.export_of(target.staging)
    listing = ''.join(
        f'{sha} {ref}\n'
        for ref, sha in sorted(refs.items())
        if not ref.endswith(PEELED)
    )
    with zipfile.ZipFile(export, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.writestr('HEAD', f'ref: {head}\n')
        zf.writestr('config', _BARE_CONFIG)
        zf.writestr('description', 'datalad-tcia deposit\n')
        zf.writestr('packed-refs', packed_refs(refs))
        for empty in _DIRS:
            zf.writestr(empty, b'')
        objects = gitdir / 'objects'
        for directory, _dirs, names in os.walk(objects):
            for name in sorted(names):
                if name.startswith('tmp_') or name in ('alternates', 'packs'):
                    continue
                full = Path(directory) / name
                zf.write(
                    full,
                    full.relative_to(gitdir).as_posix(),
                    compress_type=zipfile.ZIP_STORED,
                )
    ExportPaths.refs_of(target.staging).write_text(listing + f'@{head} HEAD\n')


def discard_staging(target: ExportPaths) -> None:
    """Delete a staging deposit left by an interrupted run.

    Call only while holding the collection's store lock.
    """
    for suffix in DEPOSIT_SUFFIXES:
        ExportPaths.file(target.staging, suffix).unlink(missing_ok=True)


def publish_deposit(target: ExportPaths) -> None:
    """Move the staging deposit to the final names: export, then refs."""
    for suffix in DEPOSIT_SUFFIXES:
        src = ExportPaths.file(target.staging, suffix)
        with src.open('rb') as fp:
            os.fsync(fp.fileno())
        os.replace(src, ExportPaths.file(target.prefix, suffix))
    fd = os.open(target.prefix.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    lgr.debug('published deposit %s', target.prefix)
