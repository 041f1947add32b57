"""``datalad_tcia.formats.annex_content``: content made present by hand, then
judged by git-annex itself (``fsck``, ``whereis``, ``drop``, ``get``)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from datalad_tcia.formats.annex_content import (
    annex_dirs,
    annex_uuid,
    git_dir,
    journalled,
    location_log_path,
    object_file,
    place_object,
    record_present,
    temporary_object,
)
from tests.helpers import run, run_ok

DATA = b'the bytes of one DICOM file\n' * 100


def _pair(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """An annex with one MD5E file, and a clone of it without the content;
    the clone, the origin, the file's path and its key."""
    origin = tmp_path / 'origin'
    origin.mkdir()
    run_ok(['git', 'init', '-q', '-b', 'main'], origin)
    run_ok(['git', 'annex', 'init', '-q', 'origin'], origin)
    (origin / 'a').mkdir()
    (origin / 'a' / 'f.dcm').write_bytes(DATA)
    run_ok(['git', 'annex', 'add', '-q', '--backend', 'MD5E', 'a/f.dcm'], origin)
    run_ok(['git', 'commit', '-q', '-m', 'f'], origin)
    clone = tmp_path / 'clone'
    run_ok(['git', 'clone', '-q', str(origin), str(clone)], tmp_path)
    run_ok(['git', 'annex', 'init', '-q', 'clone'], clone)
    key = os.path.basename(os.readlink(clone / 'a' / 'f.dcm'))
    return clone, origin, 'a/f.dcm', key


def _location_log(repo: Path, key: str) -> str:
    return run_ok(
        ['git', 'cat-file', 'blob', f'git-annex:{location_log_path(key)}'], repo
    )


def _make_present(clone: Path, key: str, data: bytes = DATA) -> None:
    gitdir = git_dir(clone)
    annex_dirs(gitdir)
    tmp = temporary_object(gitdir, key)
    tmp.write_bytes(data)
    place_object(gitdir, key, tmp)
    uuid = annex_uuid(clone)
    assert uuid
    record_present(gitdir, uuid, {key: _location_log(clone, key)}, int(time.time()))


def test_content_placed_by_hand_is_git_annex_content(tmp_path: Path) -> None:
    clone, _origin, path, key = _pair(tmp_path)
    assert not (clone / path).exists()
    _make_present(clone, key)
    obj = object_file(git_dir(clone), key)
    assert (clone / path).read_bytes() == DATA
    assert obj.stat().st_mode & 0o222 == 0
    assert obj.parent.stat().st_mode & stat.S_IWUSR == 0
    assert not list((git_dir(clone) / 'annex' / 'tmp').iterdir())
    # the journal says "here" until git-annex commits it
    assert journalled(git_dir(clone), location_log_path(key)) is not None
    fsck = json.loads(run_ok(['git', 'annex', 'fsck', '--json', path], clone))
    assert fsck['success'], fsck
    where = json.loads(run_ok(['git', 'annex', 'whereis', '--json', path], clone))
    here = run_ok(['git', 'config', 'annex.uuid'], clone).strip()
    assert here in {w['uuid'] for w in where['whereis']}
    # committed to the branch by git-annex's next command, as its own
    assert journalled(git_dir(clone), location_log_path(key)) is None
    assert here in _location_log(clone, key)
    # drop and get: git-annex's own work on it
    run_ok(['git', 'annex', 'drop', path], clone)
    assert not (clone / path).exists()
    run_ok(['git', 'annex', 'get', path], clone)
    assert (clone / path).read_bytes() == DATA
    assert run_ok(['git', 'status', '--porcelain'], clone) == ''


def test_a_frozen_key_directory_and_an_object_already_there(tmp_path: Path) -> None:
    clone, _origin, path, key = _pair(tmp_path)
    run_ok(['git', 'annex', 'get', path], clone)
    run_ok(['git', 'annex', 'drop', path], clone)
    # placed again where a drop left its (frozen) key directory, if any
    _make_present(clone, key)
    assert run(['git', 'annex', 'fsck', path], clone).returncode == 0
    # a second copy is not placed over the first; its file is removed
    gitdir = git_dir(clone)
    tmp = temporary_object(gitdir, key)
    tmp.write_bytes(b'not read')
    assert place_object(gitdir, key, tmp) == object_file(gitdir, key)
    assert not tmp.exists()
    assert (clone / path).read_bytes() == DATA
