#!/usr/bin/env bash
# Round trips per migration file of `strata migrate apply` on MariaDB/MySQL, counted as client→server messages
# (`sendto` on the server's socket, `strace -f`; each is a request the client waits on). A run over 10 files and
# one over 20 (fresh databases) differ by 10 files, so their difference / 10 is the per-file cost, free of the
# run's fixed cost (connect, lock, revisions table).
#
#   bench/mysql_round_trips.sh BINARY [SHAPE...]     shapes: ddl (3 DDL), mixed (DDL, DML, DDL), dml (3 DML)
#
# MYSQL_HOST/MYSQL_PORT/MYSQL_USER as for the mysql client (default 127.0.0.1:3306, root).
set -euo pipefail
BIN=$1
shift
shapes=("${@:-ddl mixed dml}")
read -r -a shapes <<<"${shapes[*]}"
host=${MYSQL_HOST:-127.0.0.1} port=${MYSQL_PORT:-3306} user=${MYSQL_USER:-root}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

file() { # file SHAPE I
  case $1 in
    ddl) printf 'CREATE TABLE t%s (id int);\nALTER TABLE t%s ADD COLUMN c int;\nCREATE INDEX t%s_c ON t%s (c);\n' "$2" "$2" "$2" "$2" ;;
    mixed) printf 'CREATE TABLE t%s (id int);\nINSERT INTO t%s VALUES (1);\nALTER TABLE t%s ADD COLUMN c int;\n' "$2" "$2" "$2" ;;
    dml) printf 'INSERT INTO t VALUES (%s);\nUPDATE t SET id = id + 1 WHERE id = %s;\nDELETE FROM t WHERE id < 0;\n' "$2" "$2" ;;
  esac
}

count() { # count SHAPE N -> messages sent to the server by one apply
  local dir="$work/$1_$2" db="rt_$$_$1_$2" i
  mkdir -p "$dir"
  [ "$1" = dml ] && printf 'CREATE TABLE t (id int);\n' >"$dir/20240101000000_base.sql"
  for i in $(seq 1 "$2"); do file "$1" "$i" >"$dir/$(printf '2024010100%04d' "$i")_f.sql"; done
  "$BIN" migrate hash --dir "file://$dir"
  mysql -h"$host" -P"$port" -u"$user" -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
  strace -f -qq -e trace=connect,sendto -o "$work/trace" \
    "$BIN" migrate apply --dir "file://$dir" --url "mysql://$user@$host:$port/$db" >/dev/null
  mysql -h"$host" -P"$port" -u"$user" -e "DROP DATABASE $db"
  # The socket is the fd connected to the server's port.
  local fd
  fd=$(grep -m1 "htons($port)" "$work/trace" | sed -E 's/^[0-9]+ +connect\(([0-9]+),.*/\1/')
  grep -cE "sendto\($fd," "$work/trace"
}

for s in "${shapes[@]}"; do
  a=$(count "$s" 10)
  b=$(count "$s" 20)
  printf '%-6s 3 statements/file: %s messages for 10 files, %s for 20 -> %s per file\n' \
    "$s" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 10 }')"
done
