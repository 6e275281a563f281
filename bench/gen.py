#!/usr/bin/env python3
"""Generate the same migration workload in each tool's own directory format.

    gen.py OUT_DIR KIND COUNT [DIALECT]

KIND is `trivial` (one `SELECT n;` per file) or `ddl` (one `CREATE TABLE` and one `CREATE INDEX` per file).
DIALECT (`postgres`, the default, `mysql` or `sqlite`) picks the column types of `ddl`: the same table in each
dialect's own spelling (MySQL cannot index an unbounded `text` column; neither knows `timestamptz`).
Writes OUT_DIR/{strata,refinery,sqlx,dbmate}/ and OUT_DIR/psql/all.sql (every file concatenated, for `psql -1`), and
OUT_DIR/psql/batch.sql (the same as one text for the `mysql` client: scenario 5's floor).
atlas.sum for strata/ is written by `strata migrate hash` (bench/apply.sh does it), not here.
"""

import os
import shutil
import sys


COLUMNS = {
    "postgres": "name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()",
    "mysql": "name varchar(255) NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP",
    "sqlite": "name text NOT NULL, created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP",
}


def body(kind: str, n: int, dialect: str) -> str:
    if kind == "trivial":
        return f"SELECT {n};\n"
    if kind == "ddl":
        return (
            f"CREATE TABLE t{n:05d} (id bigint PRIMARY KEY, {COLUMNS[dialect]});\n"
            f"CREATE INDEX t{n:05d}_name_idx ON t{n:05d} (name);\n"
        )
    raise SystemExit(f"unknown kind {kind!r}")


def main() -> None:
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    out, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    dialect = sys.argv[4] if len(sys.argv) == 5 else "postgres"
    if dialect not in COLUMNS:
        raise SystemExit(f"unknown dialect {dialect!r}")
    if os.path.exists(out):
        shutil.rmtree(out)
    dirs = {t: os.path.join(out, t) for t in ("strata", "refinery", "sqlx", "dbmate", "psql")}
    for d in dirs.values():
        os.makedirs(d)
    concat = []
    for n in range(1, count + 1):
        sql = body(kind, n, dialect)
        # 14-digit timestamp-like versions, as Atlas, sqlx and dbmate name their files.
        version = f"20240101{n:06d}"
        name = f"m{n:05d}"
        with open(os.path.join(dirs["strata"], f"{version}_{name}.sql"), "w") as f:
            f.write(sql)
        with open(os.path.join(dirs["refinery"], f"V{n}__{name}.sql"), "w") as f:
            f.write(sql)
        with open(os.path.join(dirs["sqlx"], f"{version}_{name}.sql"), "w") as f:
            f.write(sql)
        with open(os.path.join(dirs["dbmate"], f"{version}_{name}.sql"), "w") as f:
            f.write(f"-- migrate:up\n{sql}\n-- migrate:down\n")
        concat.append(sql)
    with open(os.path.join(dirs["psql"], "all.sql"), "w") as f:
        f.write("".join(concat))
    # The same statements for the mysql client as one multi-statement text (one round trip): the floor of scenario 5.
    with open(os.path.join(dirs["psql"], "batch.sql"), "w") as f:
        f.write("DELIMITER $$\n" + "".join(concat) + "$$\n")


if __name__ == "__main__":
    main()
