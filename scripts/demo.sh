#!/usr/bin/env bash
# Set everything up and run the whole datalad-tcia story offline, against
# the bundled TCIA look-alike (NBIA v4 REST + DataCite on 127.0.0.1):
# tcia-add a collection (download, verify, metadata, datasets, deposits,
# catalog, archives deleted), clone the deposit into a fresh directory, get a
# file from the look-alike and check it. The look-alike also plays IDC (an
# index for offline search, the files in an S3 look-alike as first source).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

# outside the project's own git repository: datalad-next's datalad-annex::
# helper initialises git-annex in the repository of the current directory
# while it clones
WORK="${TCIA_DEMO_DIR:-${TMPDIR:-/tmp}/datalad-tcia-demo}"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
URL_FILE="$WORK/lookalike.url"

echo "== starting the TCIA look-alike"
IDC_DIR="$WORK/idc"
mkdir -p "$IDC_DIR"
python -m tcia_lookalike --url-file "$URL_FILE" --idc "$IDC_DIR" \
    > "$WORK/lookalike.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    [ -s "$URL_FILE" ] && [ -s "$IDC_DIR/endpoint" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/lookalike.log"; exit 1; }
    sleep 0.1
done
API_URL="$(cat "$URL_FILE")"
DATACITE_URL="${API_URL%/nbia-api/services/v4}"
echo "   NBIA v4 API at $API_URL, DataCite at $DATACITE_URL"
# the same settings any user would make for another NBIA or DataCite
export DATALAD_TCIA_API__URL="$API_URL" DATALAD_TCIA_DATACITE__URL="$DATACITE_URL"
# ... and for another IDC index and S3 endpoint
export DATALAD_TCIA_IDC__INDEX="$IDC_DIR/idc_index.parquet"
export DATALAD_TCIA_IDC__ENDPOINT="$(cat "$IDC_DIR/endpoint")"
echo "   IDC index $DATALAD_TCIA_IDC__INDEX, IDC's bucket at $DATALAD_TCIA_IDC__ENDPOINT"
# git-annex's own HTTP client (its web remote, which fetches IDC's and
# NBIA's single files) refuses loopback addresses unless allowed; for this
# shell only (a clone of the real TCIA needs no such setting)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=annex.security.allowed-ip-addresses \
    GIT_CONFIG_VALUE_0='127.0.0.1 ::1'

echo
echo "== datalad tcia-ls --collection LOOKALIKE-MR-Encodings"
datalad tcia-ls --collection LOOKALIKE-MR-Encodings
echo
echo "== the same offline, from the IDC index, by IDC collection id"
echo "   datalad tcia-ls --collection lookalike_mr_encodings --index idc --level study"
datalad tcia-ls --collection lookalike_mr_encodings --index idc --level study

STORE="$WORK/tcia-store"
echo
echo "== datalad tcia-add --collection LOOKALIKE-MR-Encodings --store $STORE -J 8"
echo "   (--source auto: every series IDC has comes from IDC's bucket, without its"
echo "   pixel data: sizes and MD5s from the listing, headers from a few KB each)"
datalad tcia-add --collection LOOKALIKE-MR-Encodings --store "$STORE" -J 8 \
    2> "$WORK/tcia-add.log"
datalad -f json tcia-add --collection LOOKALIKE-MR-Encodings --store "$STORE" \
    2>> "$WORK/tcia-add.log" > "$WORK/tcia-add-again.json"
CLONE_URL="$(python - "$WORK/tcia-add-again.json" <<'PY'
import json, sys
summary = [json.loads(line) for line in open(sys.argv[1])][-1]
print(f"== running it again changes nothing: {summary['message'].split(';')[0]}",
      file=sys.stderr)
print(summary['clone_urls'][0])
PY
)"
echo "   the store: $(ls "$STORE/lookalike_mr_encodings" | tr '\n' ' ')(no archives)"

CLONE="$WORK/clone"
echo
echo "== datalad clone <the collection's git repository in the store> $CLONE"
echo "   $CLONE_URL"
datalad clone "$CLONE_URL" "$CLONE" 2> "$WORK/clone.log"
START=$(date +%s.%N)
datalad -C "$CLONE" get -n ENC-01 2>> "$WORK/clone.log"
echo "   datalad get -n ENC-01 (one patient dataset installed): $(python -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$START" "$(date +%s.%N)")"
FILE="$(cd "$CLONE/ENC-01" && git ls-files '*.dcm' | head -n 1)"
echo
echo "== git annex whereis: idc (cost 100) and nbia's getSingleImage (150), both through"
echo "   git-annex's own web remote; uncurl and archivist (the archive) known, not enabled"
git -C "$CLONE/ENC-01" annex whereis "$FILE" 2>> "$WORK/clone.log" | sed 's/^/   /'
echo
echo "== datalad get '$FILE' (from IDC's look-alike bucket; the store has no archives)"
datalad -C "$CLONE/ENC-01" get "$FILE" 2>> "$WORK/clone.log"
python - "$CLONE/ENC-01/$FILE" "$STORE" <<'PY'
import hashlib, json, sys
from pathlib import Path
import pydicom
path, store = Path(sys.argv[1]), Path(sys.argv[2])
data = path.read_bytes()
md5 = hashlib.md5(data).hexdigest()
deposited = {r['md5'] for m in (store / 'lookalike_mr_encodings' / 'metadata').glob('*_dicoms.json')
             for r in json.loads(m.read_text())}
assert md5 in deposited, 'content differs from the deposit'
ds = pydicom.dcmread(path, stop_before_pixels=True)
print(f"   {path}\n   md5 {md5}: verified against the metadata deposit")
print(f"   {ds.Modality} {ds.SeriesDescription!r}, SOPInstanceUID {ds.SOPInstanceUID}")
PY

echo
echo "== where to look"
echo "   store:   $STORE"
echo "   clone:   $CLONE"
echo "   catalog: $STORE/lookalike_mr_encodings/catalog"
echo "            (python -m http.server --directory $STORE/lookalike_mr_encodings/catalog)"
echo
echo "demo complete"
