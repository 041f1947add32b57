"""``formats/bare.py``: a bare repository written without git, that plain
``git clone`` reads from a file URL and over git's dumb HTTP protocol."""

from __future__ import annotations

import http.server
import threading
from functools import partial
from pathlib import Path

from datalad_tcia.formats.bare import PEELED, publish_repository
from tests.helpers import run_ok


def _repo(path: Path) -> dict[str, str]:
    """A repository with two commits and an annotated tag; its refs as
    ``git show-ref -d`` lists them."""
    run_ok(['git', 'init', '-q', '-b', 'main', str(path)], path.parent)
    for n in (1, 2):
        (path / 'f.txt').write_text(f'version {n}\n')
        run_ok(['git', 'add', 'f.txt'], path)
        run_ok(['git', 'commit', '-q', '-m', f'v{n}'], path)
    run_ok(['git', 'tag', '-a', '-m', 'first', 'v1', 'HEAD~1'], path)
    run_ok(['git', 'gc', '-q'], path)  # objects in a pack, as a built dataset's
    (path / 'f.txt').write_text('version 3\n')
    run_ok(['git', 'commit', '-q', '-am', 'v3'], path)  # and a loose one
    refs = {}
    for line in run_ok(['git', 'show-ref', '-d'], path).splitlines():
        sha, ref = line.split(' ', 1)
        refs[ref] = sha
    return refs


def test_plain_git_clones_it(tmp_path: Path) -> None:
    work = tmp_path / 'work'
    work.mkdir()
    refs = _repo(work)
    assert f'refs/tags/v1{PEELED}' in refs
    bare = tmp_path / 'store' / 'c.git'
    bare.parent.mkdir()
    assert publish_repository(work / '.git', bare, 'refs/heads/main', refs)
    # the same refs again: nothing to do
    assert not publish_repository(work / '.git', bare, 'refs/heads/main', refs)
    clone = tmp_path / 'clone'
    run_ok(['git', 'clone', '-q', bare.as_uri(), str(clone)], tmp_path)
    assert (clone / 'f.txt').read_text() == 'version 3\n'
    run_ok(['git', 'fsck', '--strict'], clone)
    tagged = run_ok(['git', 'show', 'v1:f.txt'], clone)
    assert tagged == 'version 1\n'

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), partial(Quiet, directory=str(bare.parent))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f'http://127.0.0.1:{httpd.server_address[1]}/c.git'
        over_http = tmp_path / 'http'
        run_ok(['git', 'clone', '-q', url, str(over_http)], tmp_path)
        assert (
            run_ok(['git', 'rev-parse', 'HEAD'], over_http).strip()
            == (refs['refs/heads/main'])
        )
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_half_made_repository_is_made_anew(tmp_path: Path) -> None:
    work = tmp_path / 'work'
    work.mkdir()
    refs = _repo(work)
    bare = tmp_path / 'c.git'
    (bare / 'objects').mkdir(parents=True)  # a killed run's: no info/refs
    (tmp_path / '.c.git.123-ab.part').mkdir()  # and its temporary one
    assert publish_repository(work / '.git', bare, 'refs/heads/main', refs)
    assert (bare / 'info' / 'refs').is_file()
    assert not list(tmp_path.glob('.c.git.*.part'))
    clone = tmp_path / 'clone'
    run_ok(['git', 'clone', '-q', bare.as_uri(), str(clone)], tmp_path)
    assert (clone / 'f.txt').read_text() == 'version 3\n'
