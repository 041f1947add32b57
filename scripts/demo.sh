#!/usr/bin/env bash
# Set everything up and run datalad-tcia offline against the bundled TCIA
# look-alike server (NBIA v4 REST + DataCite on 127.0.0.1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

WORK="${TCIA_DEMO_DIR:-$ROOT/demo-output}"
mkdir -p "$WORK"
URL_FILE="$WORK/lookalike.url"
rm -f "$URL_FILE"

echo "== starting the TCIA look-alike"
python -m datalad_tcia.lookalike --url-file "$URL_FILE" > "$WORK/lookalike.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    [ -s "$URL_FILE" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/lookalike.log"; exit 1; }
    sleep 0.1
done
API_URL="$(cat "$URL_FILE")"
echo "   NBIA v4 API at $API_URL"

echo
echo "== datalad tcia-ls --api-url $API_URL"
datalad tcia-ls --api-url "$API_URL"

echo
echo "== datalad tcia-ls --api-url $API_URL --collection Pseudo-PHI-DICOM-Data"
datalad tcia-ls --api-url "$API_URL" --collection Pseudo-PHI-DICOM-Data

echo
echo "== the same as JSON records (first two)"
datalad tcia-ls --api-url "$API_URL" --collection Pseudo-PHI-DICOM-Data -f json > "$WORK/ls.json"
head -n 2 "$WORK/ls.json"

echo
echo "== an unknown collection is reported, not ignored (exit status 1 expected)"
if datalad tcia-ls --api-url "$API_URL" --collection Pseudo-PHI; then
    echo "unexpected success" >&2
    exit 1
fi
echo
echo "demo complete"
