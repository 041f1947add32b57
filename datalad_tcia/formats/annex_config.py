"""A git-annex repository's own configuration (``.git/config``), written
as ``git annex init`` and ``initremote`` write it, without git-annex.

Checked against git-annex 10.20261026 by ``tests/formats/test_formats.py``.
"""

from __future__ import annotations

from pathlib import Path

from datalad_tcia.store.git import git


def annex_config_lines(annex_uuid: str) -> list[str]:
    """The sections ``git annex init`` writes: the repository's UUID, the
    repository version, and the filter that keeps annexed content out of
    git."""
    return [
        '[annex]',
        f'\tuuid = {annex_uuid}',
        '\tversion = 10',
        '[filter "annex"]',
        '\tsmudge = git-annex smudge -- %f',
        '\tclean = git-annex smudge --clean -- %f',
        '\tprocess = git-annex filter-process',
    ]


def remote_config_lines(name: str, ruuid: str, externaltype: str = '') -> list[str]:
    """The section ``initremote`` writes for a special remote: an external
    one (``externaltype``) or an instance of the built-in web remote
    (``externaltype`` empty). git-annex marks a remote its own repository
    made as verified (see ``git annex verifyremote``).

    >>> remote_config_lines('idc', 'u', '')[1].strip()
    'annex-web = true'
    """
    kind = (
        f'\tannex-externaltype = {externaltype}'
        if externaltype
        else '\tannex-web = true'
    )
    return [
        f'[remote "{name}"]',
        kind,
        f'\tannex-uuid = {ruuid}',
        '\tannex-verified = verified',
        '\tskipFetchAll = true',
    ]


def git_config_value(value: str) -> str:
    """``value`` as ``git config`` writes it (quoted where it must be)."""
    escaped = (
        value.replace('\\', '\\\\')
        .replace('"', '\\"')
        .replace('\n', '\\n')
        .replace('\t', '\\t')
    )
    if value != value.strip() or ';' in value or '#' in value:
        return f'"{escaped}"'
    return escaped


def read_config(path: Path) -> dict[str, str]:
    """The repository's config (last value of each key), one process."""
    out = git(path, 'config', '--null', '--list')
    config = {}
    for entry in out.split(b'\0'):
        if entry:
            key, _, value = entry.decode('utf-8', 'surrogateescape').partition('\n')
            config[key] = value
    return config
