#!/usr/bin/env python3
"""Generates the `migrate diff` benchmark's inputs (bench/migrate_diff.sh): a PostgreSQL migration directory of
FILES migrations in which the schema grows to TABLES tables, and the desired state those files build, written as one
schema.sql of CREATE TABLE / CREATE INDEX statements.

    gen_migdiff.py OUT_DIR [FILES] [TABLES]

OUT_DIR/migrations/  FILES files <version>_<n>.sql (no atlas.sum: the script runs `strata migrate hash`)
OUT_DIR/schema.sql   the state after all of them (migrate diff against it: synced)
OUT_DIR/schema2.sql  the same plus one table (migrate diff against it: one new file)
OUT_DIR/schema3.sql  schema.sql with one column added to the first table (an edit, not an append)
OUT_DIR/schema.hcl   schema.sql's state in Atlas's HCL schema language (migrate diff against it: synced)
OUT_DIR/schema2.hcl  schema2.sql's state in HCL

Files: TABLES of them create a table (id bigint primary key, a text column, a timestamp with a default, and a
foreign key to the table created before it on every third table); the others, round robin over the existing
tables, add a nullable integer column, index it, widen it to bigint, or add a check on it.
"""
import os
import sys


def main():
    out = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    tables = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    mig = os.path.join(out, "migrations")
    os.makedirs(mig, exist_ok=True)
    for f in os.listdir(mig):
        os.remove(os.path.join(mig, f))

    # table name -> {"cols": [(name, type, null, default)], "fk": str|None, "checks": [(name, expr)]}
    schema = {}
    indexes = []  # (name, table, column)
    order = []
    pending = {}  # table -> list of columns waiting for their next step
    step = 0
    # Spread the CREATE TABLE files evenly over the history.
    create_at = {round(i * files / tables) for i in range(tables)}
    for n in range(files):
        version = 20240101000000 + n
        if n in create_at or not order:
            k = len(order)
            t = f"t{k:04d}"
            cols = [("id", "bigint", False, None), ("name", "text", False, None),
                    ("created_at", "timestamp with time zone", False, "now()")]
            fk = order[-1] if k % 3 == 2 and order else None
            if fk:
                cols.append(("parent_id", "bigint", True, None))
            schema[t] = {"cols": cols, "fk": fk, "checks": []}
            order.append(t)
            defs = [f"{c} {ty}{'' if nul else ' NOT NULL'}{f' DEFAULT {d}' if d else ''}" for c, ty, nul, d in cols]
            defs.append("PRIMARY KEY (id)")
            if fk:
                defs.append(f"CONSTRAINT {t}_parent_fk FOREIGN KEY (parent_id) REFERENCES {fk} (id)")
            sql = f"CREATE TABLE {t} (\n  " + ",\n  ".join(defs) + "\n);\n"
        else:
            t = order[step % len(order)]
            step += 1
            st = schema[t]
            waiting = pending.setdefault(t, [])
            if waiting and waiting[0][1] < 4:
                c, stage = waiting[0]
            else:
                c, stage = f"c{len(st['cols'])}", 0
                waiting.insert(0, (c, 0))
            if stage == 0:
                st["cols"].append((c, "integer", True, None))
                sql = f"ALTER TABLE {t} ADD COLUMN {c} integer NULL;\n"
            elif stage == 1:
                indexes.append((f"{t}_{c}_idx", t, c))
                sql = f"CREATE INDEX {t}_{c}_idx ON {t} ({c});\n"
            elif stage == 2:
                st["cols"] = [(x, "bigint" if x == c else ty, nul, d) for x, ty, nul, d in st["cols"]]
                sql = f"ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint;\n"
            else:
                st["checks"].append((f"{t}_{c}_check", f"{c} > 0"))
                sql = f"ALTER TABLE {t} ADD CONSTRAINT {t}_{c}_check CHECK ({c} > 0);\n"
            waiting[0] = (c, stage + 1)
            if stage + 1 == 4:
                waiting.pop(0)
        with open(os.path.join(mig, f"{version}_{n}.sql"), "w") as f:
            f.write(sql)

    def desired(extra, edit=False):
        parts = []
        for t in order:
            st = schema[t]
            defs = [f"{c} {ty}{'' if nul else ' NOT NULL'}{f' DEFAULT {d}' if d else ''}"
                    for c, ty, nul, d in st["cols"]]
            if edit and t == order[0]:
                defs.append("edited integer NULL")
            defs.append("PRIMARY KEY (id)")
            if st["fk"]:
                defs.append(f"CONSTRAINT {t}_parent_fk FOREIGN KEY (parent_id) REFERENCES {st['fk']} (id)")
            defs += [f"CONSTRAINT {name} CHECK ({expr})" for name, expr in st["checks"]]
            parts.append(f"CREATE TABLE {t} (\n  " + ",\n  ".join(defs) + "\n);\n")
        parts += [f"CREATE INDEX {name} ON {t} ({c});\n" for name, t, c in indexes]
        if extra:
            parts.append("CREATE TABLE extra (id bigint PRIMARY KEY, note text NOT NULL);\n")
        return "".join(parts)

    hcl_types = {"bigint": "bigint", "text": "text", "integer": "integer",
                 "timestamp with time zone": "timestamptz"}

    def desired_hcl(extra):
        by_table = {}
        for name, t, c in indexes:
            by_table.setdefault(t, []).append((name, c))
        parts = ['schema "public" {\n  comment = "standard public schema"\n}\n']

        def table(t, cols, fk, checks, idx):
            lines = [f'table "{t}" {{', "  schema = schema.public"]
            for c, ty, nul, d in cols:
                lines += [f'  column "{c}" {{', f"    null = {'true' if nul else 'false'}",
                          f"    type = {hcl_types[ty]}"]
                if d:
                    lines.append(f'    default = sql("{d}")')
                lines.append("  }")
            lines += ["  primary_key {", "    columns = [column.id]", "  }"]
            if fk:
                lines += [f'  foreign_key "{t}_parent_fk" {{', "    columns     = [column.parent_id]",
                          f"    ref_columns = [table.{fk}.column.id]", "    on_update   = NO_ACTION",
                          "    on_delete   = NO_ACTION", "  }"]
            for name, c in idx:
                lines += [f'  index "{name}" {{', f"    columns = [column.{c}]", "  }"]
            for name, expr in checks:
                lines += [f'  check "{name}" {{', f'    expr = "({expr})"', "  }"]
            lines.append("}")
            return "\n".join(lines) + "\n"

        for t in order:
            st = schema[t]
            parts.append(table(t, st["cols"], st["fk"], st["checks"], by_table.get(t, [])))
        if extra:
            parts.append(table("extra", [("id", "bigint", False, None), ("note", "text", False, None)],
                               None, [], []))
        return "".join(parts)

    with open(os.path.join(out, "schema.hcl"), "w") as f:
        f.write(desired_hcl(False))
    with open(os.path.join(out, "schema2.hcl"), "w") as f:
        f.write(desired_hcl(True))
    with open(os.path.join(out, "schema.sql"), "w") as f:
        f.write(desired(False))
    with open(os.path.join(out, "schema2.sql"), "w") as f:
        f.write(desired(True))
    with open(os.path.join(out, "schema3.sql"), "w") as f:
        f.write(desired(False, edit=True))


if __name__ == "__main__":
    main()
