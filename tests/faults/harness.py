"""The fault suite's tools: run ``tcia-add``, audit a store, count losses.

Every scenario of the suite ends with the same three checks, made from the
outside on what a run left behind:

- :func:`partial_files`: nothing under a final name is incomplete (archives
  pass ``testzip`` and match their metadata, JSON parses, every deposit has
  both halves and both are readable);
- :func:`export_clones`: a deposit still clones with plain ``git``;
- :func:`lost_files`: a fresh-HOME ``datalad clone`` of the collection
  deposit and ``datalad get -r`` give every file of the selection with the
  server's MD5.

Each scenario records a :class:`Row` (:func:`record`); the suite prints them as
the table of ``docs/source/faults.rst`` (``tests/conftest.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tcia_lookalike import LookalikeServer

from datalad_tcia.store import collection_id
from tests.helpers import DATALAD, fresh_env

KILLPOINT = str(Path(__file__).with_name('killpoint.py'))


# -- running ------------------------------------------------------------------


@dataclass
class Run:
    """What one ``datalad -f json tcia-add`` run printed and returned."""

    returncode: int
    results: list[dict[str, Any]]
    stdout: str
    stderr: str

    @classmethod
    def parse(cls, returncode: int, stdout: str, stderr: str) -> Run:
        """A run from its exit code and output (JSON lines on stdout)."""
        results = []
        for line in stdout.splitlines():
            try:
                results.append(json.loads(line))
            except ValueError:
                continue
        return cls(returncode, results, stdout, stderr)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get('status') in ('error', 'impossible')]

    @property
    def summary(self) -> dict[str, Any]:
        return next(
            (r for r in reversed(self.results) if r.get('type') == 'summary'), {}
        )

    @property
    def killed(self) -> bool:
        return self.returncode == -9

    def complete(self) -> bool:
        """Exit 0, no failure record, a summary (if any: tcia-add ends with
        one) that says ok."""
        return (
            self.returncode == 0
            and bool(self.results)
            and not self.failures
            and self.summary.get('status', 'ok') == 'ok'
        )

    def clear_error(self) -> bool:
        """Exit non-zero and every failure record says what and what to do."""
        return (
            self.returncode not in (0, -9)
            and bool(self.failures)
            and all(len(str(r.get('message', ''))) > 20 for r in self.failures)
        )


def add_args(srv: LookalikeServer, store: Path, *selection: str) -> list[str]:
    """``datalad`` arguments of a JSON-reporting ``tcia-add`` run."""
    return [
        '-f',
        'json',
        'tcia-add',
        '--api-url',
        srv.api_url,
        '--datacite-url',
        srv.datacite_url,
        '--store',
        str(store),
        *selection,
    ]


def tcia_add(
    srv: LookalikeServer,
    store: Path,
    *selection: str,
    cwd: Path,
    kill: tuple[str, int] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> Run:
    """Run ``datalad -f json tcia-add`` in a session of its own.

    With ``kill=(point, n)`` the run is SIGKILLed the ``n``-th time it
    reaches ``point`` (see ``killpoint.py``).
    """
    return datalad(
        add_args(srv, store, *selection), cwd=cwd, kill=kill, env=env, timeout=timeout
    )


def datalad(
    args: list[str],
    *,
    cwd: Path,
    kill: tuple[str, int] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> Run:
    """Run ``datalad ARGS`` in a session of its own (see :func:`tcia_add`)."""
    if kill:
        cmd = [sys.executable, KILLPOINT, kill[0], str(kill[1]), '--', *args]
    else:
        cmd = [DATALAD, *args]
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        timeout=timeout,
    )
    return Run.parse(proc.returncode, proc.stdout, proc.stderr)


# -- auditing -----------------------------------------------------------------


def _temporary(path: Path) -> bool:
    return path.name.startswith('.') or path.name.endswith('.part')


def partial_files(store: Path) -> list[str]:
    """Files under final names in ``store`` that are incomplete or broken.

    Working copies (``repos/``) are git's own business and are checked by
    the clone and get of their deposits instead.
    """
    bad: list[str] = []
    if not store.exists():
        return bad
    for path in sorted(store.rglob('*')):
        rel = path.relative_to(store)
        if 'repos' in rel.parts[1:2] or not path.is_file() or _temporary(path):
            continue
        if any(p.startswith('.') for p in rel.parts[:-1]):
            continue
        try:
            _check_file(path)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            bad.append(f'{rel}: {e}')
    for refs in store.rglob('*_XDLRA--refs'):
        export = refs.with_name(refs.name.replace('--refs', '--repo-export'))
        if not _temporary(refs) and not export.exists():
            bad.append(f'{refs.relative_to(store)}: deposit without its repo-export')
    for export in store.rglob('*_XDLRA--repo-export'):
        refs = export.with_name(export.name.replace('--repo-export', '--refs'))
        if not _temporary(export) and not refs.exists():
            bad.append(f'{export.relative_to(store)}: deposit without its refs')
    return bad


def _check_file(path: Path) -> None:
    if path.suffix == '.zip' or path.name.endswith('_XDLRA--repo-export'):
        with zipfile.ZipFile(path) as zf:
            broken = zf.testzip()
            if broken is not None:
                raise ValueError(f'member {broken} is damaged')
    if path.suffix == '.zip' and path.parent.name == 'archives':
        meta = path.parent.parent / 'metadata' / f'{path.stem}_metadata_archive.json'
        if meta.exists():
            rec = json.loads(meta.read_text())
            if rec.get('archive_size') not in (None, path.stat().st_size):
                raise ValueError('size differs from its metadata')
    if path.suffix == '.json':
        json.loads(path.read_text())
    if path.name.endswith('_XDLRA--refs'):
        for line in path.read_text().splitlines():
            sha, _, ref = line.partition(' ')
            if line.startswith('@'):  # the symbolic ref HEAD
                continue
            if len(sha) != 40 or not ref:
                raise ValueError(f'bad refs line {line!r}')


def deposit_refs(prefix: Path) -> dict[str, str]:
    """The refs a deposit ``<prefix>_XDLRA--refs`` records."""
    path = prefix.with_name(prefix.name + '_XDLRA--refs')
    return {
        ref: sha
        for sha, _, ref in (
            line.partition(' ') for line in path.read_text().splitlines()
        )
        if ref.startswith('refs/')
    }


def deposit_url(prefix: Path) -> str:
    from datalad_tcia.export import clone_url

    return clone_url(prefix.parent.as_uri(), prefix.name)


def export_clones(prefix: Path, tmp: Path) -> str | None:
    """Clone the deposit at ``prefix`` with git; its HEAD commit, or None."""
    tmp.mkdir(parents=True, exist_ok=True)
    target = tmp / f'probe-{len(list(tmp.iterdir()))}'
    proc = subprocess.run(
        ['git', 'clone', '--quiet', deposit_url(prefix), str(target)],
        cwd=tmp,
        env=fresh_env(tmp / 'home'),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        return None
    return subprocess.run(
        ['git', 'rev-parse', 'HEAD'],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def expected_md5s(srv: LookalikeServer, collection: str) -> Counter[str]:
    """The MD5 of every file the server has for ``collection``."""
    coll = srv.archive.collection(collection)
    assert coll is not None
    return Counter(
        i.md5
        for p in coll.patients
        for st in p.studies
        for s in st.series
        for i in s.instances
    )


def lost_files(
    store: Path, collection_dir: str, expected: Counter[str], tmp: Path
) -> int:
    """Files of ``expected`` that a fresh clone of the collection deposit
    cannot give with the right content (clone, ``datalad get -r``)."""
    env = fresh_env(tmp / 'home')
    target = tmp / 'clone'
    url = deposit_url(store / collection_dir / 'collection')
    proc = subprocess.run(
        [DATALAD, 'clone', url, str(target)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        return sum(expected.values())
    subprocess.run(
        [DATALAD, 'get', '-r', '.'],
        cwd=target,
        env=env,
        capture_output=True,
        check=False,
    )
    got: Counter[str] = Counter()
    for path in target.rglob('*'):
        rel = path.relative_to(target)
        if '.git' in rel.parts or not path.is_file():
            continue
        got[hashlib.md5(path.read_bytes()).hexdigest()] += 1
    return sum((expected - got).values())


# -- ending a scenario ---------------------------------------------------------


def rerun(
    row: Row, srv: LookalikeServer, store: Path, collection: str, tmp: Path
) -> Run:
    """Faults off, ``tcia-add`` the collection again: it must complete."""
    srv.reset()
    run = row.add(tcia_add(srv, store, '--collection', collection, cwd=tmp))
    assert run.complete(), run.stdout + run.stderr
    return run


def verify(
    row: Row, srv: LookalikeServer, store: Path, collection: str, tmp: Path
) -> None:
    """Count partial files and files lost (both must be 0); record ``row``."""
    row.partial += len(partial_files(store))
    row.lost = lost_files(
        store, collection_id(collection), expected_md5s(srv, collection), tmp / 'verify'
    )
    assert row.partial == 0
    assert row.lost == 0
    record(row)


# -- the table ----------------------------------------------------------------


@dataclass
class Row:
    """One scenario of the fault suite."""

    group: str
    scenario: str
    injected: int
    runs: list[str] = field(default_factory=list)
    lost: int = 0
    partial: int = 0

    def add(self, run: Run) -> Run:
        """Count ``run`` as complete, clear error or killed."""
        if run.killed:
            self.runs.append('killed')
        elif run.complete():
            self.runs.append('complete')
        elif run.clear_error():
            self.runs.append('error')
        else:
            self.runs.append('unclear')
        return run


#: where the scenarios of this pytest session write their rows (one JSON
#: line each), so that the rows of every xdist worker reach the table
ROWS_ENV = 'TCIA_FAULT_ROWS'


def record(row: Row) -> None:
    """Add ``row`` to this session's table; every run of it must have ended
    complete, killed, or with a clear error."""
    assert 'unclear' not in row.runs, row
    path = os.environ.get(ROWS_ENV)
    if path:
        with open(path, 'a') as fp:
            fp.write(json.dumps(asdict(row)) + '\n')


def recorded(path: Path) -> list[Row]:
    """The rows recorded in ``path``."""
    if not path.exists():
        return []
    rows = [Row(**json.loads(line)) for line in path.read_text().splitlines()]
    order = ['server', 'process', 'input', 'secrets']
    return sorted(
        rows, key=lambda r: order.index(r.group) if r.group in order else len(order)
    )


HEADER = (
    '| group | scenario | faults injected | runs | complete and verified '
    '| clear error, completed on re-run | killed, completed on re-run '
    '| files lost | partial files under final names |'
)


def _cells(label: tuple[str, str], rs: list[Row]) -> list[str]:
    runs = [r for row in rs for r in row.runs]
    return [
        label[0],
        label[1],
        str(sum(r.injected for r in rs)),
        str(len(runs)),
        str(runs.count('complete')),
        str(runs.count('error')),
        str(runs.count('killed')),
        str(sum(r.lost for r in rs)),
        str(sum(r.partial for r in rs)),
    ]


def _lines(rows: list[Row]) -> list[list[str]]:
    return [_cells((r.group, r.scenario), [r]) for r in rows] + [
        _cells(('**all**', f'{len(rows)} scenarios'), rows)
    ]


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table, with a total line."""
    lines = [HEADER, '|' + '---|' * 9]
    lines += ['| ' + ' | '.join(cells) + ' |' for cells in _lines(rows)]
    return '\n'.join(lines) + '\n'


def table_rst(rows: list[Row]) -> str:
    """The rows as a reStructuredText list table (for the docs)."""
    heads = [h.strip() for h in HEADER.strip('|').split('|')]
    out = ['.. list-table::', '   :header-rows: 1', '']
    for cells in [heads, *_lines(rows)]:
        out.append(f'   * - {cells[0]}')
        out += [f'     - {c}' for c in cells[1:]]
    return '\n'.join(out) + '\n'
