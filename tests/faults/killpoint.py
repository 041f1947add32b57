"""Run ``datalad ARGS`` and SIGKILL its whole process group at a named point.

Used by the fault suite as ``python killpoint.py POINT N -- ARGS``: the N-th
time the program reaches POINT, every process of the run (this one, git,
git-annex, the remote helpers) is killed at once, as a power cut or an
out-of-memory killer would. The run must have been started in a session of
its own. Points:

``download``
  a series archive is streaming in under its temporary name (the N-th
  archive of the run that does).
``metadata``
  fsync of a metadata JSON under its temporary name (written, not renamed).
``create``
  a new patient dataset's repository is initialised (under its temporary
  name) but holds no commit yet.
``assembly``
  half of the ``git fast-import`` stream of a dataset is fed to git.
``push``
  half of a deposit's repository export is written (under its staging
  name).
``publish``
  between the two renames that publish a new deposit.
``version``
  after the collection dataset's new commit, before its version tag.
``top``
  after the top-level dataset's new commit, before its version tag and
  its deposit.
``header``
  a Range request for a file's header from IDC (``--source idc``) has
  been answered (the N-th of the run), its bytes not yet used.

If the point is never reached the run ends normally and prints
``killpoint: not reached`` to stderr.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def die(point: str) -> None:
    sys.stderr.write(f'killpoint: killed at {point}\n')
    sys.stderr.flush()
    os.killpg(os.getpgid(0), signal.SIGKILL)


class Counter:
    def __init__(self, point: str, nth: int) -> None:
        self.point = point
        self.nth = nth
        self.seen = 0
        self.lock = threading.Lock()

    def hit(self) -> bool:
        with self.lock:
            self.seen += 1
            return self.seen == self.nth


def at_download(counter: Counter) -> None:
    """In the middle of an archive's download: its first chunk is written
    to the ``.part`` file (and synced), the rest never comes. (Patched, not
    watched for: a small archive's download ends within milliseconds.)"""
    from datalad_tcia.nbia.client import NbiaClient

    real = NbiaClient._write_stream

    def write_stream(self: Any, resp: Any, dest: Path, progress: Any) -> Any:
        if counter.hit():
            with Path(dest).open('wb') as fp:
                fp.write(next(resp.iter_content(chunk_size=4096), b''))
                fp.flush()
                os.fsync(fp.fileno())
            die('download')
        return real(self, resp, dest, progress)

    NbiaClient._write_stream = write_stream  # type: ignore[method-assign]


def at_metadata(counter: Counter) -> None:
    real = os.fsync

    def fsync(fd: Any) -> None:
        real(fd)
        try:
            name = os.readlink(f'/proc/self/fd/{int(fd)}')
        except (OSError, TypeError, ValueError):
            return
        if '_metadata_' in name and name.endswith('.part') and counter.hit():
            die('metadata')

    os.fsync = fsync  # type: ignore[assignment]


def at_create(counter: Counter) -> None:
    # the module, not the function of its name that the package exports
    patient = importlib.import_module('datalad_tcia.pipeline.build_patient')

    real = patient.init_repository

    def init_repository(path: Path, *args: Any) -> Any:
        repo = real(path, *args)
        if counter.hit():
            die('create')
        return repo

    patient.init_repository = init_repository  # type: ignore[assignment]


def at_assembly(counter: Counter) -> None:
    from datalad_tcia.formats import fastimport

    real = fastimport.git

    def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:  # noqa: A002
        if args and args[0] == 'fast-import' and input and counter.hit():
            proc = subprocess.Popen(['git', *args], cwd=repo, stdin=subprocess.PIPE)
            assert proc.stdin is not None
            proc.stdin.write(input[: len(input) // 2])
            proc.stdin.flush()
            time.sleep(0.3)
            die('assembly')
        return real(repo, *args, input=input)

    fastimport.git = git  # type: ignore[assignment]


def at_push(counter: Counter) -> None:
    from datalad_tcia.export import dataset

    real = dataset.write_staging

    def write_staging(gitdir: Path, head: str, refs: Any, paths: Any) -> None:
        real(gitdir, head, refs, paths)
        if counter.hit():
            export = paths.file(paths.staging, '_XDLRA--repo-export')
            with export.open('r+b') as fp:
                fp.truncate(export.stat().st_size // 2)
            die('push')

    dataset.write_staging = write_staging  # type: ignore[assignment]


def at_publish(counter: Counter) -> None:
    real = os.replace

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        real(src, dst, **kwargs)
        if str(dst).endswith('_XDLRA--repo-export') and counter.hit():
            die('publish')

    os.replace = replace  # type: ignore[assignment]


def at_version(counter: Counter) -> None:
    """After the collection dataset's new commit, before it is tagged as
    a version (and before its deposit is written)."""
    collection = importlib.import_module('datalad_tcia.pipeline.build_collection')

    real = collection.make_version

    def make_version(layout: Any, *args: Any) -> str | None:
        if counter.hit():
            die('version')
        return real(layout, *args)

    collection.make_version = make_version  # type: ignore[assignment]


def at_top(counter: Counter) -> None:
    """After the store's top-level dataset registered the collections
    (its new commit), before its version tag and deposit."""
    top = importlib.import_module('datalad_tcia.pipeline.build_top')

    real = top._make_version

    def make_version(*args: Any) -> str | None:
        if counter.hit():
            die('top')
        return real(*args)

    top._make_version = make_version


def at_header(counter: Counter) -> None:
    from datalad_tcia.idc.s3 import S3Client

    real = S3Client.read_range

    def read_range(self: Any, *args: Any) -> Any:
        answer = real(self, *args)
        if counter.hit():
            die('header')
        return answer

    S3Client.read_range = read_range  # type: ignore[method-assign]


POINTS = {
    'download': at_download,
    'metadata': at_metadata,
    'create': at_create,
    'assembly': at_assembly,
    'push': at_push,
    'publish': at_publish,
    'version': at_version,
    'top': at_top,
    'header': at_header,
}


def main() -> None:
    point, nth, sep, *args = sys.argv[1:]
    assert sep == '--'
    POINTS[point](Counter(point, int(nth)))
    from datalad.cli.main import main as datalad_main

    sys.argv = ['datalad', *args]
    try:
        datalad_main(sys.argv)
    finally:
        sys.stderr.write('killpoint: not reached\n')


if __name__ == '__main__':
    main()
