#!/usr/bin/env bash
# freshdb.sh NAME: drop database NAME (forcing out sessions) and create it empty. Used as hyperfine --prepare.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null 2>&1
