"""Sphinx configuration for datalad-tcia."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import datalad_tcia

project = 'datalad-tcia'
author = 'datalad-tcia developers'
copyright = '2026, datalad-tcia developers'  # noqa: A001
release = datalad_tcia.__version__
extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
exclude_patterns = ['generated/cli/*.txt']
html_theme = 'alabaster'
nitpicky = False
suppress_warnings = ['autodoc.import_object']

HERE = Path(__file__).parent


def _cli_reference(app: object) -> None:
    """Write the CLI reference from the commands' own --help."""
    out = HERE / 'generated' / 'cli'
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        'Command line reference',
        '======================',
        '',
        'Generated from ``datalad <command> --help`` when the documentation',
        'is built.',
        '',
    ]
    for _module, _cls, cmd, _py in datalad_tcia.command_suite[1]:
        proc = subprocess.run(
            [
                sys.executable,
                '-c',
                'from datalad.cli.main import main; main()',
                cmd,
                '--help',
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        (out / f'{cmd}.txt').write_text(proc.stdout)
        lines += [
            cmd,
            '-' * len(cmd),
            '',
            f'.. literalinclude:: cli/{cmd}.txt',
            '   :language: none',
            '',
        ]
    (HERE / 'generated' / 'cli.rst').write_text('\n'.join(lines))


def setup(app: object) -> None:
    app.connect('builder-inited', _cli_reference)  # type: ignore[attr-defined]
