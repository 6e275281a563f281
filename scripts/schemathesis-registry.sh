#!/usr/bin/env bash
# Property-based test of the registry's REST API with schemathesis: a local `strata registry serve` (SQLite, or
# STRATA_REGISTRY_DB=postgres://…) with project `app` holding one pushed directory and one deployment, then every
# operation of /api/openapi.json with generated valid and invalid requests, all of schemathesis's checks
# (server errors, status codes, content types, headers and bodies against the document, valid data accepted,
# invalid data refused, undocumented methods refused, auth enforced) and its stateful phase.
# Bounded: MAX_EXAMPLES per operation and phase (default 100), and killed after TIMEOUT seconds (default 1800).
# Not run in CI (minutes, and schemathesis comes from PyPI):
#   python3 -m venv ~/.cache/st && ~/.cache/st/bin/pip install schemathesis
#   cargo build -p strata-cli && SCHEMATHESIS=~/.cache/st/bin/schemathesis scripts/schemathesis-registry.sh
# Exits non-zero on any failure; the summary's last lines are the numbers to quote.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${STRATA_BIN:-${CARGO_TARGET_DIR:-target}/debug/strata}")
ST=${SCHEMATHESIS:-schemathesis}
PORT=${PORT:-18181}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
TIMEOUT=${TIMEOUT:-1800}
SEED=${SEED:-$RANDOM}
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
DB=${STRATA_REGISTRY_DB:-sqlite://$WORK/registry.db}
BASE="http://127.0.0.1:$PORT"

TOKEN=$("$BIN" registry token create --db "$DB" --project app --scope admin --name schemathesis | tail -n1)
"$BIN" registry serve --addr "127.0.0.1:$PORT" --db "$DB" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done

mkdir "$WORK/m"
printf 'CREATE TABLE t1 (id int);\n' >"$WORK/m/1_init.sql"
printf 'CREATE TABLE t2 (id int);\n' >"$WORK/m/2_more.sql"
"$BIN" migrate hash --dir "file://$WORK/m"
"$BIN" migrate push app:v1 --dir "file://$WORK/m" --registry "$BASE" --token "$TOKEN" >/dev/null
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"dir":"app","target":"postgres://db/prod","status":"succeeded","statements":2,"duration_ms":5,
       "files":[{"name":"1_init.sql","statements":1},{"name":"2_more.sql","statements":1}],
       "started_at":"2026-01-01T00:00:00Z","finished_at":"2026-01-01T00:00:01Z"}' \
  "$BASE/api/projects/app/deployments"

# Requests go to project `app` (the token's), so they reach real data instead of stopping at 404.
cat >"$WORK/schemathesis.toml" <<'EOF'
[parameters]
"path.project" = "app"

# A push is valid only with an atlas.sum that matches its files, which no schema can say: a generated push that
# follows the document is still refused with 400, so 400 counts as an acceptable answer to valid data here.
[[operations]]
include-operation-id = "push"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
EOF

echo "== schemathesis $("$ST" --version | awk '{print $NF}') against $BASE (seed $SEED, $MAX_EXAMPLES examples)"
run() {
  # From the scratch directory: schemathesis keeps a cache in the current one.
  (cd "$WORK" && timeout "$TIMEOUT" "$ST" --config-file "$WORK/schemathesis.toml" run "$BASE/api/openapi.json" \
    --header "Authorization: Bearer $TOKEN" --checks all --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --workers 1 --request-timeout 10 --suppress-health-check too_slow "$@")
}
# Token revocation goes last, on its own: schemathesis feeds the token ids it saw in listings to it, so it revokes
# the token this run authenticates with, and every request after that is a 401.
status=0
run --exclude-operation-id revoke_token || status=$?
run --include-operation-id revoke_token || status=$?
if grep -q 'panicked' "$WORK/server.log"; then
  echo "the server panicked:"
  grep -A5 'panicked' "$WORK/server.log"
  status=1
fi
exit "$status"
