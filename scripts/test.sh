#!/usr/bin/env bash
# Set everything up and run the checks: ruff, mypy, the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k manifest).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

# the catalog is checked in a real headless Chromium (Debian's package;
# playwright only drives it, it downloads no browser)
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing chromium (Debian) for the catalog browser test"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "!! chromium is missing: install Debian's chromium package" >&2
    fi
fi

# the image tests build the Apptainer image from Debian's packages and run
# the pipeline in it with bubblewrap (tests/hpc/test_container.py)
image_tools=(debootstrap mksquashfs siftool bwrap)
for tool in "${image_tools[@]}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "== installing debootstrap squashfs-tools siftool bubblewrap (Debian) for the image tests"
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                debootstrap squashfs-tools siftool bubblewrap >/dev/null
        else
            echo "!! $tool is missing: install debootstrap squashfs-tools siftool bubblewrap" >&2
        fi
        break
    fi
done

echo "== ruff"
ruff check datalad_tcia tests benchmarks lookalike
ruff format --check datalad_tcia tests benchmarks lookalike
echo "== mypy"
mypy
echo "== docs (Sphinx, warnings are errors)"
rm -rf docs/build
python -m sphinx -W --keep-going -q -b html docs/source docs/build/html
# the SLURM tests submit real job arrays to a one-node cluster, started
# here when none is running and we are root (stopped again on exit)
if ! scontrol ping >/dev/null 2>&1; then
    if bash "$ROOT/scripts/slurm-cluster.sh" start; then
        trap 'bash "$ROOT/scripts/slurm-cluster.sh" stop' EXIT
    else
        echo "!! no SLURM cluster: the SLURM tests will be skipped" >&2
    fi
fi

echo "== pytest"
# the browser test must run here (Chromium was installed above)
export TCIA_REQUIRE_BROWSER=1
# and so must the image tests (the tools were installed above)
export TCIA_REQUIRE_IMAGE=1
python -m pytest "$@"
