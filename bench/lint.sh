#!/usr/bin/env bash
# Benchmarks `strata lint` against squawk (PyPI `squawk-cli`) on one PostgreSQL migration file, side by side.
#
#   bench/lint.sh                 # 10,000 and 100,000 statements, RUNS timed runs each (default 5)
#   RUNS=10 bench/lint.sh
#
# Targets (see BENCHMARKS.md): strata on 10,000 statements <= 0.1 x squawk on the same file; strata linear:
# 100,000 statements <= 12 x its 10,000-statement time. squawk runs on 2,500, 5,000 and 10,000 statements only (it
# grows with the square of the file: 100,000 would take many minutes).
#
# The file is written by bench/lint_gen.py (ten statement shapes: tables and indexes made in the file, and changes
# to existing tables that the lock rules report). Both tools exit 1 when they report, so hyperfine ignores the exit
# status (-i); their reports go to /dev/null.
#
# Environment: RUNS (5), WARMUP (1), WORK (/tmp/strata-lint-bench), OUT (bench/results), SQUAWK (squawk),
# STRATA (path to a strata binary; default: build the release binary into CARGO_TARGET_DIR).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
WORK=${WORK:-/tmp/strata-lint-bench}
OUT=${OUT:-$ROOT/bench/results}
SQUAWK=${SQUAWK:-squawk}
if [[ -z "${STRATA:-}" ]]; then
    (cd "$ROOT" && nice -n 10 cargo build --release -p strata-cli --bin strata -j 2)
    STRATA=${CARGO_TARGET_DIR:-$ROOT/target}/release/strata
fi
mkdir -p "$WORK" "$OUT"
echo "strata: $STRATA ($("$STRATA" --version))"
echo "squawk: $(command -v "$SQUAWK") ($("$SQUAWK" --version))"

for n in 2500 5000 10000 100000; do
    python3 "$ROOT/bench/lint_gen.py" "$WORK/s$n.sql" "$n"
done

hyperfine -N -i --runs "$RUNS" --warmup "$WARMUP" --export-json "$OUT/lint-squawk.json" \
    -n "squawk 2,500" "$SQUAWK $WORK/s2500.sql" \
    -n "squawk 5,000" "$SQUAWK $WORK/s5000.sql" \
    -n "squawk 10,000" "$SQUAWK $WORK/s10000.sql"
hyperfine -N -i --runs "$RUNS" --warmup "$WARMUP" --export-json "$OUT/lint-strata.json" \
    -n "strata 10,000" "$STRATA lint $WORK/s10000.sql" \
    -n "strata 100,000" "$STRATA lint $WORK/s100000.sql"

python3 - "$OUT/lint-squawk.json" "$OUT/lint-strata.json" <<'PY'
import json, sys
r = {}
for path in sys.argv[1:]:
    for x in json.load(open(path))["results"]:
        r[x["command"]] = x["median"]
for k, v in r.items():
    print(f"{k:16} median {v * 1000:9.1f} ms")
sq, s10, s100 = r["squawk 10,000"], r["strata 10,000"], r["strata 100,000"]
print(f"strata / squawk on 10,000: {s10 / sq:.4f}  (target <= 0.1)")
print(f"strata 100,000 / 10,000:   {s100 / s10:.2f}  (target <= 12)")
PY
