#!/usr/bin/env bash
# Load test on loopback: a territory of 10 000 members, 50 concurrent clients for 60 s.
#   bash benchmarks/load.sh [members] [seconds] [users]
# Prints p50/p99 per endpoint and the error count (from locust's CSV); bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS="${1:-10000}"; SECONDS_="${2:-60}"; USERS="${3:-50}"
WORK="$(mktemp -d)"; PORT="${MAILLAGE_LOAD_PORT:-8765}"
export MAILLAGE_DATA_DIR="$WORK/var" MAILLAGE_LOAD_DOC="$WORK/territory.json"
.venv/bin/python data/generate_demo.py --members "$MEMBERS" --projects $((MEMBERS / 5)) --out "$MAILLAGE_LOAD_DOC" --truth "$WORK/truth.json"
.venv/bin/maillage ingest "$MAILLAGE_LOAD_DOC"
export MAILLAGE_LOAD_KEY="$(.venv/bin/maillage keys create --territory "$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["territory"]["id"])' "$MAILLAGE_LOAD_DOC")" --role agent --label load -q)"
.venv/bin/maillage serve --host 127.0.0.1 --port "$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 1; done
.venv/bin/locust -f benchmarks/locustfile.py --headless -u "$USERS" -r 10 -t "${SECONDS_}s" \
  --host "http://127.0.0.1:$PORT" --csv "$WORK/load" --only-summary > "$WORK/locust.log" 2>&1 || true
.venv/bin/python - "$WORK/load_stats.csv" "$MEMBERS" "$USERS" "$SECONDS_" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = {"members": int(sys.argv[2]), "users": int(sys.argv[3]), "seconds": int(sys.argv[4]), "endpoints": {}}
for r in rows:
    out["endpoints"][r["Name"]] = {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                                   "p50_ms": float(r["50%"]), "p99_ms": float(r["99%"]), "rps": round(float(r["Requests/s"]), 1)}
import os
fail = os.path.join(os.path.dirname(sys.argv[1]), "load_failures.csv")
out["failures"] = [f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in csv.DictReader(open(fail))] if os.path.exists(fail) else []
print(json.dumps(out, indent=1))
PY
