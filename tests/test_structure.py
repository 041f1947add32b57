"""The shape of the package: a pipeline library under thin commands.

Reads the source; nothing is imported or run.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / 'datalad_tcia'
COMMANDS = PACKAGE / 'commands'
#: modules of commands/ that every command may share (no command of their own)
SHARED = {
    '__init__',
    'params',
    'constraints',
    'common',
    'results',
    'reports',
    'slurm_options',
    'idc_options',
    'run_settings',
    'selection',
}
MAX_COMMAND_LINES = 200


def _modules(root: Path) -> list[Path]:
    return sorted(root.rglob('*.py'))


def _imports(path: Path) -> set[str]:
    """Modules imported by ``path``, relative imports made absolute."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                mod = '.'.join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ''
            out.add(mod)
            out.update(f'{mod}.{a.name}' for a in node.names)
    return out


def _library() -> list[Path]:
    return [p for p in _modules(PACKAGE) if COMMANDS not in p.parents]


@pytest.mark.parametrize(
    'module', sorted(p.stem for p in COMMANDS.glob('*.py')), ids=str
)
def test_command_modules_are_short(module: str) -> None:
    lines = len((COMMANDS / f'{module}.py').read_text().splitlines())
    assert lines < MAX_COMMAND_LINES, f'commands/{module}.py has {lines} lines'


def test_no_command_module_imports_another() -> None:
    commands = {p.stem for p in COMMANDS.glob('*.py')} - SHARED
    found = {}
    for path in COMMANDS.glob('*.py'):
        others = {
            imp.split('.')[2]
            for imp in _imports(path)
            if imp.startswith('datalad_tcia.commands.')
        } & commands
        others.discard(path.stem)
        if others:
            found[path.stem] = sorted(others)
    assert found == {}


def test_library_does_not_import_the_commands() -> None:
    found = [
        str(p.relative_to(PACKAGE))
        for p in _library()
        if any(i.startswith('datalad_tcia.commands') for i in _imports(p))
    ]
    assert found == []


def test_no_chdir_and_no_result_dicts_in_the_library() -> None:
    found = [
        f'{p.relative_to(PACKAGE)}: {word}'
        for p in _library()
        for word in ('os.chdir', 'chdir(', 'get_status_dict')
        if word in p.read_text()
    ]
    assert found == []


#: directories of a store collection, and names of store files
_STORE_DIRS = {'archives', 'metadata', 'repos', 'datasets', 'catalog', 'collection'}
_STORE_NAMES = ('_XDLRA--', 'patients.json', '.datalad-tcia.lock')


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            out.add(id(body[0].value))
    return out


def _store_paths(path: Path) -> list[str]:
    """``x / 'repos'``-style joins and store file names in code."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and node.right.value in _STORE_DIRS
        ) or (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and any(n in node.value for n in _STORE_NAMES)
        ):
            found.append(f'{path.name}:{node.lineno}')
    return found


def test_store_paths_are_built_by_the_store_layout() -> None:
    allowed = {PACKAGE / 'store' / 'layout.py', PACKAGE / 'store' / 'top.py'}
    found = [
        hit for path in _library() if path not in allowed for hit in _store_paths(path)
    ]
    assert found == []


def test_git_runs_in_one_place() -> None:
    found = [
        str(p.relative_to(PACKAGE))
        for p in _modules(PACKAGE)
        if p != PACKAGE / 'store' / 'git.py'
        and re.search(r"""\[\s*['"]git['"]""", p.read_text())
    ]
    assert found == []


def test_nbia_quirks_are_read_in_the_nbia_client() -> None:
    """NBIA column spellings and URLs stay in nbia/."""
    words = ("'StudyDesc'", "'getSingleImage'", "'getImage'", "'LicenseURI'")
    found = [
        f'{p.relative_to(PACKAGE)}: {w}'
        for p in _modules(PACKAGE)
        if 'nbia' not in p.relative_to(PACKAGE).parts
        for w in words
        if w in p.read_text()
    ]
    assert found == []


def test_datacite_stands_on_its_own() -> None:
    datacite = [p for p in _modules(PACKAGE / 'datacite')]
    assert datacite
    for path in datacite:
        assert not any(i.startswith('datalad_tcia.nbia') for i in _imports(path))
    defined = [
        p
        for p in _modules(PACKAGE)
        if re.search(r'^DEFAULT_DATACITE_URL\s*=', p.read_text(), re.M)
    ]
    assert [p.relative_to(PACKAGE) for p in defined] == [Path('datacite/client.py')]


def test_public_names_are_unique() -> None:
    """One name, one thing: no two modules of the package define a public
    class or function of the same name (methods aside)."""
    where: dict[str, list[str]] = {}
    for path in _modules(PACKAGE):
        for node in ast.parse(path.read_text()).body:
            if isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ) and not node.name.startswith('_'):
                where.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {n: ps for n, ps in where.items() if len(ps) > 1} == {}


def test_every_pipeline_module_has_a_test_module() -> None:
    """Each step of the pipeline is tested in-process on its own
    (``tests/pipeline/test_<module>.py``), so a change inside
    ``pipeline/`` is caught by the fast tier."""
    tests = Path(__file__).parent / 'pipeline'
    missing = [
        f'pipeline/{p.name}'
        for p in sorted((PACKAGE / 'pipeline').glob('*.py'))
        if p.stem != '__init__' and not (tests / f'test_{p.stem}.py').is_file()
    ]
    assert missing == []


def test_the_fast_tier_refuses_datalad_processes() -> None:
    """``tests/conftest.py``'s audit hook fails a fast-tier test that
    starts ``datalad`` in a new process (git and git-annex may run)."""
    import subprocess
    import sys

    from tests.helpers import DATALAD

    with pytest.raises(RuntimeError, match='starts a datalad process'):
        subprocess.run([DATALAD, '--version'], check=False)
    with pytest.raises(RuntimeError, match='starts a datalad process'):
        subprocess.run(
            [sys.executable, '-c', 'from datalad.cli.main import main'], check=False
        )
    subprocess.run(['git', '--version'], check=True, capture_output=True)


LOOKALIKE = PACKAGE.parent / 'lookalike' / 'tcia_lookalike'


def test_the_lookalike_stands_apart() -> None:
    """The look-alike is a distribution of its own that imports nothing
    of the package it checks (its independence is what makes it a check)."""
    modules = _modules(LOOKALIKE)
    assert modules
    found = [
        f'{p.name}: {i}'
        for p in modules
        for i in _imports_of(p)
        if i.split('.')[0] == 'datalad_tcia'
    ]
    assert found == []


def _imports_of(path: Path) -> set[str]:
    """Absolute imports of ``path`` (relative ones are the look-alike's)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            out.add(node.module or '')
    return out


@pytest.mark.slow
def test_the_wheel_holds_no_lookalike(tmp_path: Path) -> None:
    """A user's install (the wheel pip builds) has no look-alike module and
    no ``tcia-lookalike`` command."""
    import shutil
    import subprocess
    import sys
    import zipfile

    # a clean source tree, as a fresh clone has it (no build/ leftovers)
    source = tmp_path / 'src'
    shutil.copytree(
        PACKAGE.parent,
        source,
        ignore=shutil.ignore_patterns(
            '.git', '.venv', 'build', '*.egg-info', '__pycache__', '.*_cache',
            'test-artifacts', 'docs',
        ),
    )  # fmt: skip
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
         '-q', '-w', str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob('datalad_tcia-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith('datalad_tcia/pipeline/') for n in names)
    assert not [n for n in names if 'lookalike' in n]
    entry_points = next(n for n in names if n.endswith('entry_points.txt'))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert 'tcia-lookalike' not in text
    assert 'console_scripts' not in text


def _functions(
    paths: list[Path],
) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((f'{path.relative_to(PACKAGE)}:{node.name}', node))
    return out


def _n_params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    return len([n for n in names if n.arg not in ('self', 'cls')])


#: the house style (issue 29): a function that needs more takes a typed
#: record (``RunSettings``, a unit of work) or is split into named steps
MAX_PARAMS = 8
MAX_PIPELINE_LINES = 80


def test_no_library_function_takes_more_than_8_parameters() -> None:
    found = {
        name: n
        for name, node in _functions(_library())
        if (n := _n_params(node)) > MAX_PARAMS
    }
    assert found == {}


def test_no_pipeline_function_is_longer_than_80_lines() -> None:
    found = {
        name: n
        for name, node in _functions(_modules(PACKAGE / 'pipeline'))
        if (n := (node.end_lineno or node.lineno) - node.lineno + 1)
        > MAX_PIPELINE_LINES
    }
    assert found == {}


def test_no_public_constant_is_defined_twice() -> None:
    """One name, one thing: a module-level UPPER_CASE name is defined in
    one module of the package (others import it)."""
    where: dict[str, list[str]] = {}
    for path in _modules(PACKAGE):
        for node in ast.parse(path.read_text()).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for t in targets:
                if (
                    isinstance(t, ast.Name)
                    and t.id.isupper()
                    and not t.id.startswith('_')
                ):
                    where.setdefault(t.id, []).append(str(path.relative_to(PACKAGE)))
    assert {k: v for k, v in where.items() if len(v) > 1} == {}


def test_a_selection_is_named_in_one_place() -> None:
    """``Selection``'s fields are the selection's parameters: the shared
    parameter table, the joint constraint and ``make_selection`` all take
    them from there, and each command that selects has every one."""
    from datalad_tcia.commands.constraints import SELECTION
    from datalad_tcia.commands.selection import make_selection, selection_params
    from datalad_tcia.pipeline.selection import Selection

    assert list(selection_params) == list(SELECTION)
    assert make_selection({'collection': 'X', 'series': ['1.2']}) == Selection(
        collection='X', series=('1.2',)
    )
    from datalad_tcia.commands.add import TciaAdd
    from datalad_tcia.commands.download import TciaDownload
    from datalad_tcia.commands.ls import TciaLs

    for command in (TciaAdd, TciaDownload, TciaLs):
        assert set(SELECTION) <= set(command._params_), command
        taken = inspect.signature(command.__call__).parameters
        assert set(SELECTION) <= set(taken), command
