#!/usr/bin/env bash
# Create (or update) the project's virtual environment with everything the
# demo and the tests need: datalad-tcia (editable), DataLad, datalad-next,
# git-annex (from the PyPI wheel), and the development tools.
#
#   source scripts/setup.sh     # sets VENV and puts it first on PATH
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TCIA_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "== installing datalad-tcia and its dependencies into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[devel]"
# the look-alike of TCIA and IDC: a distribution of its own (tests,
# benchmarks and the demo use it; a user's install does not have it)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT/lookalike"

export PATH="$VENV/bin:$PATH"
export VENV ROOT

# DataLad commits need an identity; use a neutral one where none is set
if [ -z "$(git config --get user.name || true)" ]; then
    export GIT_AUTHOR_NAME="datalad-tcia" GIT_COMMITTER_NAME="datalad-tcia"
fi
if [ -z "$(git config --get user.email || true)" ]; then
    export GIT_AUTHOR_EMAIL="datalad-tcia@example.org"
    export GIT_COMMITTER_EMAIL="datalad-tcia@example.org"
fi
echo "== $(git annex version --raw 2>/dev/null | sed 's/^/git-annex /') / $(datalad --version)"
