"""Shared fixtures: DataLad's test set-up, and the TCIA look-alike server."""

from __future__ import annotations

import http.server
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

# git-annex (from the PyPI wheel), datalad and the special remotes live
# beside the interpreter of the virtual environment; git-annex subprocesses
# must find them even when the venv is not activated
os.environ['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{os.environ["PATH"]}'
# no test reaches IDC's real buckets: a series the real IDC index knows
# would be listed here, on a closed loopback port (the IDC tests set their
# own endpoint)
os.environ.setdefault('DATALAD_TCIA_IDC__ENDPOINT', 'http://127.0.0.1:9')
# DataLad core's session set-up: a throw-away HOME with a git identity
from datalad.conftest import setup_package  # noqa: F401
from datalad_next.tests.fixtures import (  # noqa: F401
    check_gitconfig_global,
    datalad_cfg,
    no_result_rendering,
    reduce_logging,
)
from tcia_lookalike import LookalikeServer

from datalad_tcia.nbia import NbiaClient, RetryPolicy

#: IDC's look-alike fixtures (an index, moto's S3), for every directory
pytest_plugins = ['tests.idc_fixtures']

#: fast retries for tests: what matters is how many, not how long
FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05, budget=30)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--run-network',
        action='store_true',
        default=False,
        help='run tests marked "network" that reach live TCIA',
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if config.getoption('--run-network'):
        return
    skip = pytest.mark.skip(reason='reaches live TCIA; opt in with --run-network')
    for item in items:
        if 'network' in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    """Reload DataLad's configuration after every test.

    ``datalad.cfg`` reads ``DATALAD_*`` environment variables when it
    loads: a test that sets them with ``monkeypatch`` and reloads would
    otherwise leave its settings (an S3 endpoint since stopped, say) to
    the next test in the same process, after ``monkeypatch`` has put the
    environment back. Autouse fixtures are torn down last, after
    ``monkeypatch``."""
    import datalad

    yield
    datalad.cfg.reload(force=True)


@pytest.fixture(scope='session')
def lookalike_session() -> Iterator[LookalikeServer]:
    """One look-alike server for the whole session."""
    with LookalikeServer() as srv:
        yield srv


@pytest.fixture
def tcia(lookalike_session: LookalikeServer) -> Iterator[LookalikeServer]:
    """The look-alike, with faults off and an empty request log."""
    lookalike_session.reset()
    yield lookalike_session
    lookalike_session.reset()


@pytest.fixture
def http_store(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A store directory a web server publishes, and its URL."""
    root = tmp_path / 'www'
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(tcia: LookalikeServer) -> NbiaClient:
    """An NBIA client for the look-alike with fast retries."""
    return NbiaClient(tcia.api_url, retry=FAST_RETRY, timeout=(5.0, 5.0))


@pytest.fixture
def fast_retries(datalad_cfg):  # noqa: F811
    """Make commands retry quickly (DataLad config, no patching)."""
    datalad_cfg.set('datalad.tcia.retry-initial-delay', '0.01', scope='global')
    datalad_cfg.set('datalad.tcia.max-attempts', '4', scope='global')
    datalad_cfg.set('datalad.tcia.timeout', '5', scope='global')
    return datalad_cfg


#: the fast tier's test running now (None: a slow test, or none)
_FAST_TEST: dict[str, str | None] = {'id': None}


def _datalad_process(args: object) -> bool:
    """Whether ``args`` starts DataLad's command line (a round trip
    through a new process), rather than git, git-annex or a server."""
    argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
    head = os.path.basename(argv[0]) if argv else ''
    if head == 'datalad':
        return True
    return head.startswith('python') and any(
        a.startswith(('datalad', 'from datalad.cli')) for a in argv[1:3]
    )


def _no_round_trips_in_the_fast_tier(event: str, args: tuple) -> None:
    """An audit hook: a test of the fast tier (not marked ``slow``) that
    starts ``datalad`` in a new process fails; it tests in-process (see
    ``tests/pipeline/``) or is marked ``slow``."""
    test = _FAST_TEST['id']
    if event == 'subprocess.Popen' and test is not None and _datalad_process(args[1]):
        msg = (
            f'{test} starts a datalad process ({args[1]!r}) in the fast tier: '
            'call the library or datalad.api in-process, or mark it slow'
        )
        raise RuntimeError(msg)


sys.addaudithook(_no_round_trips_in_the_fast_tier)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # noqa: ANN201, ARG001
    """Note which fast-tier test runs (for the audit hook above)."""
    _FAST_TEST['id'] = None if item.get_closest_marker('slow') else item.nodeid
    yield
    _FAST_TEST['id'] = None


def pytest_configure(config: pytest.Config) -> None:
    """Give the fault suite a fresh file for its table's rows (the
    controller sets it; xdist workers inherit it)."""
    from tests.faults.harness import ROWS_ENV

    if hasattr(config, 'workerinput'):
        return
    fd, path = tempfile.mkstemp(prefix='tcia-fault-rows-', suffix='.jsonl')
    os.close(fd)
    os.environ[ROWS_ENV] = path


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001, ARG001
    """Print the fault suite's table, and keep it in test-artifacts/."""
    from tests.faults.harness import ROWS_ENV, recorded, table, table_rst

    if hasattr(config, 'workerinput') or not os.environ.get(ROWS_ENV):
        return
    rows = recorded(Path(os.environ[ROWS_ENV]))
    Path(os.environ[ROWS_ENV]).unlink(missing_ok=True)
    if not rows:
        return
    text = table(rows)
    out = Path(config.rootpath) / 'test-artifacts'
    out.mkdir(exist_ok=True)
    (out / 'fault-table.md').write_text(text)
    (out / 'fault-table.rst').write_text(table_rst(rows))
    terminalreporter.section('fault suite')
    terminalreporter.write(text)
