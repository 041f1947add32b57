#!/usr/bin/env bash
# Set everything up and run datalad-tcia offline against the bundled TCIA
# look-alike server (NBIA v4 REST + DataCite on 127.0.0.1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

# outside the project's own git repository: cloning a datalad-annex:: URL
# from a directory inside another git repository makes datalad-next's
# remote helper initialise git-annex in that outer repository
WORK="${TCIA_DEMO_DIR:-${TMPDIR:-/tmp}/datalad-tcia-demo}"
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
STORE="$WORK/tcia-store"
echo
echo "== datalad tcia-download --collection LOOKALIKE-MR-Encodings --store $STORE -J 2"
datalad tcia-download --api-url "$API_URL" --collection LOOKALIKE-MR-Encodings \
    --store "$STORE" -J 2

echo
echo "== a second run downloads nothing"
datalad -f json tcia-download --api-url "$API_URL" --collection LOOKALIKE-MR-Encodings \
    --store "$STORE" > "$WORK/download2.json"
python - "$WORK/download2.json" <<'PY'
import json, sys
statuses = [json.loads(line)['status'] for line in open(sys.argv[1])]
print(f"   {len(statuses)} series: {', '.join(sorted(set(statuses)))}")
assert set(statuses) == {'notneeded'}
PY

echo
echo "== what the store holds"
python - "$STORE" <<'PY'
import json, sys
from pathlib import Path
root = Path(sys.argv[1]) / 'lookalike_mr_encodings'
for meta in sorted((root / 'metadata').glob('*_metadata_dicoms.json')):
    for rec in json.loads(meta.read_text()):
        if rec['dicom']:
            print(f"   {rec['SeriesDescription']:<18} {rec['path']:<8} "
                  f"{rec['size']:>6} B  md5 {rec['md5']}  {rec.get('TransferSyntaxUID', 'no file meta')}")
print(f"   archives in {root / 'archives'}: {len(list((root / 'archives').glob('*.zip')))}")
PY

echo
echo "== datalad tcia-deposit-dataset --store $STORE --collection LOOKALIKE-MR-Encodings"
datalad tcia-deposit-dataset --store "$STORE" --collection LOOKALIKE-MR-Encodings -f json \
    > "$WORK/datasets.json"
CLONE_URL="$(python - "$WORK/datasets.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    rec = json.loads(line)
    print(f"   {rec['status']:<9} {rec['path']}", file=sys.stderr)
    if rec['path'].endswith('/collection'):
        print(rec['url'])
PY
)"
echo "   clone URL: $CLONE_URL"

echo
echo "== the archives are no longer needed"
rm -rf "$STORE/lookalike_mr_encodings/archives"

CLONE="$WORK/clone"
rm -rf "$CLONE"
echo
echo "== datalad clone <collection deposit> $CLONE; datalad get one file from the look-alike"
# from inside $WORK: datalad-next's remote helper runs git-annex in the
# repository of the current directory while it clones
(cd "$WORK" && datalad clone "$CLONE_URL" "$CLONE")
datalad -C "$CLONE" get -n ENC-01
FILE="$(cd "$CLONE/ENC-01" && git ls-files '*.dcm' | head -n 1)"
datalad -C "$CLONE/ENC-01" get "$FILE"
python - "$CLONE/ENC-01/$FILE" "$STORE" <<'PY'
import hashlib, json, sys
from pathlib import Path
path, store = Path(sys.argv[1]), Path(sys.argv[2])
md5 = hashlib.md5(path.read_bytes()).hexdigest()
deposited = {r['md5'] for m in (store / 'lookalike_mr_encodings' / 'metadata').glob('*_dicoms.json')
             for r in json.loads(m.read_text())}
assert md5 in deposited, 'content differs from the deposit'
print(f"   {path}\n   md5 {md5}: verified against the metadata deposit")
PY

echo
echo "== datalad tcia-catalog --store $STORE --collection LOOKALIKE-MR-Encodings"
datalad tcia-catalog --store "$STORE" --collection LOOKALIKE-MR-Encodings \
    --datacite-url "${API_URL%/nbia-api/services/v4}"
echo "   open it with: python -m http.server --directory $STORE/lookalike_mr_encodings/catalog"

echo
echo "demo complete; the store is in $STORE, the clone in $CLONE"
