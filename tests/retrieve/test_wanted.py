"""``retrieve/wanted.py`` on a real git-annex repository: which files lack
content, under which paths, with which URLs, as git-annex records them."""

from __future__ import annotations

import json
from pathlib import Path

from datalad_tcia.retrieve import dataset_content, scan_links
from tests.helpers import run_ok


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    """An origin with three MD5E files (two in ``s/``, one unlocked) and
    one URL each; a clone of it with no content."""
    origin = tmp_path / 'origin'
    (origin / 's').mkdir(parents=True)
    run_ok(['git', 'init', '-q', '-b', 'main'], origin)
    run_ok(['git', 'annex', 'init', '-q', 'origin'], origin)
    for name in ('s/a.dcm', 's/b.dcm', 'c.dcm'):
        (origin / name).write_bytes(f'content of {name}\n'.encode())
    run_ok(['git', 'annex', 'add', '-q', '--backend', 'MD5E', '.'], origin)
    run_ok(['git', 'annex', 'unlock', '-q', 'c.dcm'], origin)
    run_ok(['git', 'commit', '-q', '-m', 'files'], origin)
    for name in ('s/a.dcm', 's/b.dcm'):
        key = run_ok(['git', 'annex', 'lookupkey', name], origin).strip()
        for url in (
            f'https://nbia.example/v4/getSingleImage?SOPInstanceUID=1.2.{len(name)}',
            f'https://s3.amazonaws.com/idc-open-data/x/{name.replace("/", "-")}',
        ):
            run_ok(['git', 'annex', 'registerurl', key, url], origin)
    clone = tmp_path / 'clone'
    run_ok(['git', 'clone', '-q', str(origin), str(clone)], tmp_path)
    run_ok(['git', 'annex', 'init', '-q', 'clone'], clone)
    return origin, clone


def test_missing_present_unhandled_and_the_urls_in_order(tmp_path: Path) -> None:
    _origin, clone = _repo(tmp_path)
    run_ok(['git', 'annex', 'get', '-q', 's/b.dcm'], clone)
    links = scan_links(clone)
    assert [p for ps in links.missing.values() for p in ps] == ['s/a.dcm']
    assert [p for ps in links.present.values() for p in ps] == ['s/b.dcm']
    assert links.unhandled == ['c.dcm']
    # a scope, and a path left out (as a subdataset is)
    assert not scan_links(clone, ['c.dcm']).missing
    assert not scan_links(clone, skip=['s']).missing
    content = dataset_content(clone, links)
    uuid = run_ok(['git', 'config', 'annex.uuid'], clone).strip()
    assert content.uuid == uuid
    assert content.present == 1 and content.unhandled == ['c.dcm']
    (wanted,) = content.wanted
    assert wanted.paths == ('s/a.dcm',)
    assert wanted.urls[0].startswith('https://s3.amazonaws.com/idc-open-data/')
    assert 'getSingleImage' in wanted.urls[1]
    assert (wanted.size, wanted.algorithm) == (len(b'content of s/a.dcm\n'), 'md5')
    # the location log as git-annex has it: the origin holds the file
    where = json.loads(run_ok(['git', 'annex', 'whereis', '--json', 's/a.dcm'], clone))
    holders = {line.split()[2] for line in wanted.location_log.splitlines()}
    origin_uuid = next(
        w['uuid'] for w in where['whereis'] if 'origin' in w['description']
    )
    assert origin_uuid in holders


def test_the_journal_supersedes_the_branch(tmp_path: Path) -> None:
    """A URL registered in the clone and not yet committed to the
    git-annex branch (``annex.alwayscommit=false``) is known."""
    _origin, clone = _repo(tmp_path)
    key = run_ok(['git', 'annex', 'lookupkey', 's/a.dcm'], clone).strip()
    run_ok(
        ['git', '-c', 'annex.alwayscommit=false', 'annex', 'registerurl', key,
         'https://elsewhere.example/a.dcm'],
        clone,
    )  # fmt: skip
    content = dataset_content(clone, scan_links(clone))
    wanted = next(w for w in content.wanted if w.paths == ('s/a.dcm',))
    assert 'https://elsewhere.example/a.dcm' in wanted.urls
