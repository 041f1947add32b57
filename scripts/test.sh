#!/usr/bin/env bash
# Set everything up and run the checks: ruff, mypy, the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k manifest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

echo "== ruff"
ruff check datalad_tcia tests benchmarks
ruff format --check datalad_tcia tests benchmarks
echo "== mypy"
mypy
echo "== pytest"
python -m pytest "$@"
