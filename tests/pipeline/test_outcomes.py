"""``pipeline/outcomes.py``: every outcome the steps report becomes a
result record, whatever step reports it."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from datalad_tcia import pipeline as pl
from datalad_tcia.commands.results import ACTIONS, to_result

PIPELINE = Path(pl.__file__).parent


def test_every_outcome_kind_has_a_result_record() -> None:
    kinds = typing.get_args(pl.Outcome)
    assert len(kinds) == 12
    base = to_result.dispatch(object)
    missing = [k.__name__ for k in kinds if to_result.dispatch(k) is base]
    assert missing == []


def _stages() -> set[str]:
    """The stage of every ``Problem(...)`` the pipeline's code makes."""
    found = set()
    for path in PIPELINE.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == 'Problem'
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_stage_a_problem_names_has_an_action() -> None:
    stages = _stages()
    assert {'plan', 'series', 'patient', 'collection'} <= stages
    assert stages <= set(ACTIONS)


@pytest.mark.parametrize('status', ['ok', 'notneeded', 'impossible', 'error'])
def test_a_problem_keeps_its_input_and_kind(status: str) -> None:
    res = to_result(
        pl.Problem('plan', status, 'no such collection', kind='unknown-x', value='X')
    )
    assert (res['action'], res['status'], res['type'], res['input']) == (
        'tcia_download',
        status,
        'unknown-x',
        'X',
    )
    assert res['message'] == 'no such collection'
