"""Fixtures of the HPC tests: a look-alike with a cohort of patients and a
store built by one process, to compare sharded and SLURM runs with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import build_cohort

from tests.helpers import run_ok, tcia_add_argv

COHORT = 'LOOKALIKE-COHORT'


@pytest.fixture(scope='module')
def cohort() -> Iterator[LookalikeServer]:
    """A look-alike serving 8 patients of one 4-file series each."""
    with LookalikeServer(Archive([build_cohort(8)])) as srv:
        yield srv


@pytest.fixture(scope='module')
def serial_store(
    cohort: LookalikeServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The cohort added by one ``tcia-add`` process."""
    store = tmp_path_factory.mktemp('serial') / 'store'
    run_ok(tcia_add_argv(cohort, store, COHORT), store.parent)
    return store
