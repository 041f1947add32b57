"""The files of git-annex's branch, written (and read) without git-annex.

Registering tens of thousands of keys through ``git annex registerurl``/
``metadata`` costs a process round trip per key (about 150 files/s here);
writing the same log files into the git-annex branch with one
``git fast-import`` reaches thousands per second. The formats are those
git-annex writes itself (see git-annex's internals documentation):

- ``<hashdirlower><key>.log``: ``<time>s 1 <uuid>`` per remote that has it;
- ``<hashdirlower><key>.log.web``: ``<time>s 1 :<url>`` per URL (the ``:``
  marks a URL claimed by a special remote);
- ``<hashdirlower><key>.log.met``: ``<time>s <field> +<value> ...`` with
  fields sorted and values that are not plain text base64-encoded as
  ``+!<base64>``;
- ``uuid.log``: ``<uuid> <description> timestamp=<time>s`` per repository;
- ``remote.log``: ``<uuid> <key>=<value> ... timestamp=<time>s`` per
  special remote, fields sorted;
- the journal (``.git/annex/journal/``) of changes git-annex has not yet
  committed to the branch, one file per branch file.

Checked against git-annex 10.20261026 (the ``git-annex`` wheel on PyPI) by
``tests/formats/test_formats.py``: git-annex reads what is written here as
it reads its own, and writes the same for the same changes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping

_PLAIN = re.compile(r'^[A-Za-z0-9._:/@,+=-]+$')


def hashdirlower(key: str) -> str:
    """The git-annex branch directory of ``key`` (``abc/def/``).

    >>> hashdirlower('MD5E-s3--acbd18db4cc2f85cedef654fccc4a4d8.dcm')
    '228/a20/'
    """
    digest = hashlib.md5(key.encode()).hexdigest()  # noqa: S324 - git-annex's own rule
    return f'{digest[:3]}/{digest[3:6]}/'


def _meta_value(value: str) -> str:
    if _PLAIN.match(value) and not value.startswith(('!', '-', '+')):
        return '+' + value
    return '+!' + base64.b64encode(value.encode('utf-8')).decode('ascii')


def metadata_line(timestamp: int, fields: Mapping[str, Iterable[str]]) -> str:
    """One ``.log.met`` line.

    >>> metadata_line(5, {'modality': ['CT'], 'seriesdescription': ['T1 AX']})
    '5s modality +CT seriesdescription +!VDEgQVg=\\n'
    """
    parts = [f'{timestamp}s']
    for name in sorted(fields):
        values = [v for v in fields[name] if v != '']
        if not values:
            continue
        parts.append(name)
        parts.extend(_meta_value(v) for v in values)
    return ' '.join(parts) + '\n'


def merge_location_log(old: str, timestamp: int, uuids: Iterable[str]) -> str:
    """``old`` ``.log`` content with ``uuids`` marked present.

    Entries already saying "present" are kept as they are (so re-running
    does not change the branch).
    """
    present = {}
    for line in old.splitlines():
        fields = line.split()
        if len(fields) == 3:
            present[fields[2]] = line
    for uuid in uuids:
        known = present.get(uuid)
        if known is None or known.split()[1] != '1':
            present[uuid] = f'{timestamp}s 1 {uuid}'
    return ''.join(f'{line}\n' for _, line in sorted(present.items()))


def url_log_entry(url: str, *, claimed: bool) -> str:
    """How ``.log.web`` names ``url``: with a leading ``:`` where a special
    remote claims it, as it is for git-annex's web remote (and its
    ``type=web`` instances).

    >>> url_log_entry('dl+archive:K#path=a', claimed=True)
    ':dl+archive:K#path=a'
    """
    return f':{url}' if claimed else url


def merge_url_log(old: str, timestamp: int, urls: Mapping[str, bool]) -> str:
    """``old`` ``.log.web`` content with ``urls`` (url -> claimed by a
    special remote) registered.

    A URL that moves from a special remote to the web remote (earlier
    versions had uncurl claim every http URL) is marked gone in its old
    form, so that it is listed once.

    >>> merge_url_log('1s 1 :http://a/x.dcm\\n', 2, {'http://a/x.dcm': False})
    '2s 0 :http://a/x.dcm\\n2s 1 http://a/x.dcm\\n'
    """
    entries = {}
    for line in old.splitlines():
        fields = line.split(' ', 2)
        if len(fields) == 3:  # noqa: PLR2004
            entries[fields[2]] = line
    for url, claimed in urls.items():
        loc = url_log_entry(url, claimed=claimed)
        known = entries.get(loc)
        if known is None or known.split(' ', 2)[1] != '1':
            entries[loc] = f'{timestamp}s 1 {loc}'
        other = url_log_entry(url, claimed=not claimed)
        known = entries.get(other)
        if not claimed and known is not None and known.split(' ', 2)[1] == '1':
            entries[other] = f'{timestamp}s 0 {other}'
    return ''.join(f'{line}\n' for _, line in sorted(entries.items()))


def present_uuids(log: str) -> set[str]:
    """UUIDs a location log says have the content (latest line per UUID).

    >>> sorted(present_uuids('1s 1 a\\n2s 0 a\\n1s 1 b\\n'))
    ['b']
    """
    latest: dict[str, tuple[float, str]] = {}
    for line in log.splitlines():
        fields = line.split()
        if len(fields) != 3:  # noqa: PLR2004
            continue
        when = float(fields[0].rstrip('s').split('@')[0] or 0)
        if fields[2] not in latest or when >= latest[fields[2]][0]:
            latest[fields[2]] = (when, fields[1])
    return {uuid for uuid, (_, state) in latest.items() if state == '1'}


def journal_name(path: str) -> str:
    """git-annex's journal file of a branch file (``Annex.Journal``).

    >>> journal_name('a_b/c.log')
    'a__b_c.log'
    """
    return path.replace('_', '__').replace('/', '_')


def merge_uuid_log(old: str, now: int, uuids: Mapping[str, str]) -> str:
    """``uuid.log`` with ``uuids`` (uuid -> description) described; lines of
    other repositories are kept."""
    lines = {ln.split(' ', 1)[0]: ln for ln in old.splitlines() if ln.strip()}
    for ruuid, description in uuids.items():
        known = lines.get(ruuid)
        if known is None or known.split(' ', 1)[1].rsplit(' ', 1)[0] != description:
            lines[ruuid] = f'{ruuid} {description} timestamp={now}s'
    return ''.join(f'{line}\n' for _, line in sorted(lines.items()))


def merge_remote_log(
    old: str,
    now: int,
    remotes: Mapping[str, Mapping[str, str]],
    legacy: Mapping[tuple[str, str], Collection[str]] | None = None,
) -> str:
    """``remote.log`` with ``remotes`` (uuid -> fields) configured as
    ``initremote``/``enableremote`` would.

    A known remote keeps what it has (a user's ``enableremote`` repair, a
    cost chosen for a site) and gains the fields it lacks; only the values
    ``legacy`` names (``(remote name, field)`` -> values that earlier
    versions wrote) are replaced. A line that needs no change keeps its
    timestamp; other remotes' lines are kept as they are. git-annex keeps
    the newest line of each remote, with its fields sorted and the
    timestamp last.
    """
    legacy = legacy or {}
    lines: dict[str, str] = {}
    for line in old.splitlines():
        if line.strip():
            lines[line.split(' ', 1)[0]] = line
    for ruuid, wanted in remotes.items():
        known = lines.get(ruuid)
        fields = dict(remote_log_fields(known)) if known else {}
        before = dict(fields)
        for key, value in wanted.items():
            if key not in fields or fields[key] in legacy.get(
                (wanted.get('name', ''), key), ()
            ):
                fields[key] = value
        if known is not None and fields == before:
            continue
        lines[ruuid] = (
            f'{ruuid} '
            + ' '.join(f'{k}={v}' for k, v in sorted(fields.items()))
            + f' timestamp={now}s'
        )
    return ''.join(f'{line}\n' for _, line in sorted(lines.items()))


def remote_log_fields(line: str) -> list[tuple[str, str]]:
    """The ``key=value`` fields of a ``remote.log`` line (not the timestamp).

    >>> remote_log_fields('u1 cost=100 name=idc timestamp=1s')
    [('cost', '100'), ('name', 'idc')]
    """
    out = []
    for word in line.split(' ')[1:]:
        key, sep, value = word.partition('=')
        if sep and key != 'timestamp':
            out.append((key, value))
    return out
