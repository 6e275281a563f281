#!/usr/bin/env bash
# Memory of a local `strata registry serve` under two loads (not run in CI; needs python3 and curl):
#   1. method flood: FLOOD_REQUESTS requests (default 2000) with random 16,000-character methods, then the size of
#      /metrics, its number of request series, and the server's RSS before and after;
#   2. concurrent pushes: PUSHES JSON pushes (default 8) of about 29 MiB each, all at once, then the server's peak
#      RSS (VmHWM) and each push's status.
#   cargo build -p strata-cli && scripts/registry-memory.sh      # STRATA_BIN=path/to/strata to measure another
# Extra arguments go to `strata registry serve` (e.g. --max-upload-bytes-in-flight 33554432).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/debug/strata}")
PORT=${PORT:-18282}
FLOOD_REQUESTS=${FLOOD_REQUESTS:-2000}
PUSHES=${PUSHES:-8}
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
DB="sqlite://$WORK/registry.db"
BASE="http://127.0.0.1:$PORT"

TOKEN=$("$BIN" registry token create --db "$DB" --project app --scope admin | tail -n1)
"$BIN" registry serve --addr "127.0.0.1:$PORT" --db "$DB" "$@" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024) " MB"}' "/proc/$SERVER/status"; }

echo "== method flood: $FLOOD_REQUESTS requests with random 16,000-character methods"
echo "RSS before: $(rss VmRSS)"
python3 - "$PORT" "$FLOOD_REQUESTS" <<'EOF'
import random, socket, string, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
start = time.time()
for i in range(n):
    method = "".join(random.choices(string.ascii_uppercase, k=16_000))
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"{method} /api/projects/x HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n".encode())
    while s.recv(65536):
        pass
    s.close()
print(f"sent in {time.time() - start:.1f} s")
EOF
curl -s "$BASE/metrics" >"$WORK/metrics.txt"
echo "/metrics: $(wc -c <"$WORK/metrics.txt") bytes, $(grep -c '^strata_registry_http_requests_total{' "$WORK/metrics.txt") request series"
echo "RSS after: $(rss VmRSS); server log: $(wc -c <"$WORK/server.log") bytes"

echo "== $PUSHES concurrent JSON pushes of about 29 MiB each"
python3 - "$WORK" "$PUSHES" <<'EOF'
import os, sys
work, n = sys.argv[1], int(sys.argv[2])
for p in range(n):
    os.makedirs(f"{work}/d{p}")
    for i in range(4):
        # ~5 MiB of SQL comments per file (the per-file limit is 8 MiB), different in every push.
        body = "".join(f"-- push {p} file {i} line {j} {os.urandom(24).hex()}\n" for j in range(74_000))
        with open(f"{work}/d{p}/{i + 1}_f.sql", "w") as f:
            f.write(body + f"SELECT {p};\n")
EOF
for p in $(seq 0 $((PUSHES - 1))); do "$BIN" migrate hash --dir "file://$WORK/d$p"; done
python3 - "$WORK" "$PUSHES" <<'EOF'
import base64, json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
for p in range(n):
    d = f"{work}/d{p}"
    files = [{"name": nm, "base64": base64.b64encode(open(f"{d}/{nm}", "rb").read()).decode()}
             for nm in sorted(os.listdir(d))]
    with open(f"{work}/push{p}.json", "w") as f:
        json.dump({"files": files}, f)
EOF
ls -l "$WORK"/push0.json | awk '{printf "body: %.1f MiB\n", $5 / 1048576}'
echo "RSS before: $(rss VmRSS)"
pids=()
for p in $(seq 0 $((PUSHES - 1))); do
  curl -s -o /dev/null -w "push $p: %{http_code} in %{time_total} s\n" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$WORK/push$p.json" \
    "$BASE/api/projects/app/dirs/d$p/versions" &
  pids+=($!)
done
wait "${pids[@]}"
echo "peak RSS (VmHWM): $(rss VmHWM); RSS now: $(rss VmRSS)"
