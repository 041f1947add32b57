"""Object paths computed in Python agree with git-annex's own."""

from __future__ import annotations

import hashlib
from pathlib import Path

from datalad_tcia.dataset.keys import archive_key, md5e_key, object_path
from tests.helpers import run_ok


def test_object_paths_match_git_annex(tmp_path: Path) -> None:
    run_ok(['git', 'init', '-q', str(tmp_path)], tmp_path)
    run_ok(['git', 'annex', 'init', '-q'], tmp_path)
    keys = [
        str(md5e_key(i * 7919, hashlib.md5(str(i).encode()).hexdigest(), f'{i}.dcm'))
        for i in range(300)
    ]
    keys += [str(archive_key(f'1.2.840.{i}')) for i in range(50)]
    keys += ['MD5E-s1--00000000000000000000000000000000', 'SHA256E-s0--e3b0.nii.gz']
    out = run_ok(
        ['git', 'annex', 'examinekey', '--batch', '--format=${objectpath}\\n'],
        tmp_path,
        input=''.join(f'{k}\n' for k in keys),
    )
    assert out.splitlines() == [object_path(k) for k in keys]
