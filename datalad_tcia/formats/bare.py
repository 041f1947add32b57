"""Write a dataset into the store as a plain bare git repository.

Beside each ``datalad-annex::`` deposit the store holds the same refs as a
bare repository, ``<name>.git``, that plain ``git clone`` reads: from a
``file://`` URL (git's local transport) or from any static web server
(git's "dumb" HTTP protocol: ``info/refs``, ``objects/info/packs`` and the
pack files, which are written here as ``git update-server-info`` writes
them). A clone of it is a plain ``git clone`` plus ``git annex init``: no
remote helper, no throw-away repository, no special remote process. That
is what makes ``datalad get -n`` of a patient cost what a plain DataLad
subdataset costs (see ``docs/source/using.rst`` for the figures).

The repository is written from the working copy's object store, without
git processes: every pack (and loose object) is hard-linked (copied
where links are impossible), then ``objects/info/packs``, ``packed-refs``
and ``info/refs`` are replaced by renames, in that order. A reader
therefore sees the old refs or the new ones, and the objects of either are
there. A new repository is made complete under a temporary name and then
renamed.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from datalad_tcia.store import atomic_write_bytes, temp_path_for

lgr = logging.getLogger('datalad.tcia.export.bare')

#: a key of the refs mapping for the commit an annotated tag points to
PEELED = '^{}'

_CONFIG = b'[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n'
_PACKED_REFS_HEADER = '# pack-refs with: peeled fully-peeled sorted \n'


def packed_refs(refs: Mapping[str, str]) -> str:
    """``packed-refs`` of ``refs`` (``<tag>^{}``: an annotated tag's commit,
    written as the ``^<sha>`` line that "fully-peeled" promises).

    >>> packed_refs({'refs/heads/main': 'a', 'refs/tags/v': 'b',
    ...              'refs/tags/v^{}': 'a'}).splitlines()[1:]
    ['a refs/heads/main', 'b refs/tags/v', '^a']
    """
    return _PACKED_REFS_HEADER + ''.join(
        f'{sha} {ref}\n' + (f'^{refs[ref + PEELED]}\n' if ref + PEELED in refs else '')
        for ref, sha in sorted(refs.items())
        if not ref.endswith(PEELED)
    )


def info_refs(refs: Mapping[str, str]) -> str:
    """``info/refs`` as ``git update-server-info`` writes it: what a dumb
    HTTP client reads first.

    >>> info_refs({'refs/tags/v': 'b', 'refs/tags/v^{}': 'a'}).split()
    ['b', 'refs/tags/v', 'a', 'refs/tags/v^{}']
    """
    return ''.join(f'{sha}\t{ref}\n' for ref, sha in sorted(refs.items()))


def publish_repository(
    gitdir: Path, target: Path, head: str, refs: Mapping[str, str]
) -> bool:
    """Make the bare repository ``target`` hold the objects of ``gitdir``
    and exactly ``refs``, with ``head`` as its HEAD; ``False`` if it did
    already."""
    if target.exists() and (target / 'info' / 'refs').exists():
        current = (target / 'info' / 'refs').read_text()
        if current == info_refs(refs) and (target / 'HEAD').read_text() == (
            f'ref: {head}\n'
        ):
            return False
        _write(gitdir, target, head, refs)
        return True
    # a new repository is complete before it appears under its name; one
    # left half-made by a killed run (no info/refs) is made anew, and
    # temporary ones of killed runs are removed (the caller holds the lock
    # of the dataset)
    for stale in target.parent.glob(f'.{target.name}.*.part'):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = temp_path_for(target)
    try:
        _write(gitdir, tmp, head, refs)
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    lgr.debug('published repository %s', target)
    return True


def _write(gitdir: Path, target: Path, head: str, refs: Mapping[str, str]) -> None:
    for sub in ('refs/heads', 'refs/tags', 'objects/info', 'objects/pack', 'info'):
        (target / sub).mkdir(parents=True, exist_ok=True)
    if not (target / 'config').exists():
        (target / 'config').write_bytes(_CONFIG)
        (target / 'description').write_text('datalad-tcia dataset\n')
    _link_objects(gitdir / 'objects', target / 'objects')
    packs = sorted(p.name for p in (target / 'objects' / 'pack').glob('*.pack'))
    atomic_write_bytes(
        target / 'objects' / 'info' / 'packs',
        ''.join(f'P {name}\n' for name in packs).encode() + b'\n',
    )
    atomic_write_bytes(target / 'HEAD', f'ref: {head}\n'.encode())
    atomic_write_bytes(target / 'packed-refs', packed_refs(refs).encode())
    atomic_write_bytes(target / 'info' / 'refs', info_refs(refs).encode())


def _link_objects(source: Path, dest: Path) -> None:
    """Every object file of ``source`` that ``dest`` lacks, linked: packs
    before their index (git finds a pack by its index), loose objects
    first of all (they may be the newest)."""
    wanted: list[tuple[int, Path]] = []
    for directory, _dirs, names in os.walk(source):
        rel = Path(directory).relative_to(source)
        if rel.parts[:1] == ('info',):
            continue
        for name in names:
            if name.startswith('tmp_') or name.endswith('.keep'):
                continue
            order = 0
            if rel.parts[:1] == ('pack',):
                order = 1 if name.endswith('.pack') else 2
            wanted.append((order, rel / name))
    for _order, rel in sorted(wanted):
        target = dest / rel
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source / rel, target)
        except OSError:
            shutil.copy2(source / rel, target)
