//! PostgreSQL inspection into a [`Realm`].
//!
//! Eleven batched `pg_catalog` queries whatever the number of tables or schemas (`.sql` files beside this one,
//! each over every selected schema at once): schemas, tables, columns, index parts (primary keys and unique
//! constraints included), foreign keys and checks, views and materialized views, enums, sequences, functions,
//! triggers, extensions. Expressions come from the server's own printers (`format_type`, `pg_get_expr`,
//! `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_functiondef`, `pg_get_triggerdef`), read with `search_path` set
//! to `''` (as Atlas does) so every name in them is schema-qualified; the session's `search_path` is restored
//! afterwards. On a URL bound to one schema (`?search_path=s`) the qualifier `s.` is then taken out of types and
//! expressions, so the model reads as the schema-relative SQL that created it.
//!
//! Speed (5,000 tables: `bench/schema.sh`, BENCHMARKS.md): JIT is turned off for the inspection (compiling cost
//! more than the queries once row estimates crossed its thresholds); per-row printers and lookups run only for
//! the rows that need them (scalar subqueries, not joins that carry wide catalog values through hashes and
//! sorts); and, outside a transaction, the constraint query runs on a second session opened from the same URL
//! while the other queries run on the driver's own (printing a check opens its table, which a fresh session
//! pays for once per table). If the second session cannot be opened, everything runs on the first.
//!
//! Model conventions: `serial` columns are their integer type with the `nextval(…)` default, their sequence
//! listed with `owned_by`; identity columns carry [`Identity`] (their sequence is not listed); collations only
//! when not the type's default; index part collations only when not the column's; unique constraints are indexes
//! with `constraint: true`; `NOT VALID` checks and keys inspect like valid ones (validation is a state of the
//! data, not of the schema); the revisions table `atlas_schema_revisions` is left out unless asked for;
//! the `plpgsql` extension, present in every database, is never listed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};
use strata_migrate::Dialect;
use strata_schema::{
    Check, CheckOption, Column, ColumnType, Enum, Extension, FkAction, ForeignKey, Function,
    Generated, Identity, Index, IndexPart, PrimaryKey, Realm, RoutineKind, Schema, Sequence, Table,
    Trigger, View,
};

use super::PostgresDriver;
use crate::error::DriverError;
use crate::inspect::{Inspect, InspectOptions};
use crate::quote::pg_literal;

/// The revisions table's name, left out unless asked for.
const REVISIONS_TABLE: &str = "atlas_schema_revisions";

#[async_trait]
impl Inspect for PostgresDriver {
    async fn inspect(&mut self, opts: &InspectOptions) -> Result<Realm, DriverError> {
        let bound = self
            .bound
            .as_deref()
            .and_then(|sp| sp.split(',').next())
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty());
        let side = self.side_session().map(|f| Box::pin(f) as SideSession);
        inspect_on(&mut self.conn, side, bound.as_deref(), opts).await
    }
}

/// A second session being opened to run the constraint query beside the others (see [`read`]).
type SideSession = Pin<Box<dyn Future<Output = Result<PgConnection, DriverError>> + Send>>;

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    i: usize,
) -> Result<T, DriverError> {
    row.try_get(i).map_err(DriverError::sql)
}

async fn fetch(
    conn: &mut PgConnection,
    sql: &'static str,
    schemas: &[String],
) -> Result<Vec<PgRow>, DriverError> {
    sqlx::query(sql)
        .bind(schemas)
        .fetch_all(conn)
        .await
        .map_err(DriverError::sql)
}

/// Inspects an open connection. `bound`: the schema the URL binds (its qualifier is taken out of expressions,
/// and it is the schema inspected when `opts.schemas` is empty).
pub async fn inspect_connection(
    conn: &mut PgConnection,
    bound: Option<&str>,
    opts: &InspectOptions,
) -> Result<Realm, DriverError> {
    inspect_on(conn, None, bound, opts).await
}

/// [`inspect_connection`], with the constraint query on `side` (once open) while the others run on `conn`.
async fn inspect_on(
    conn: &mut PgConnection,
    side: Option<SideSession>,
    bound: Option<&str>,
    opts: &InspectOptions,
) -> Result<Realm, DriverError> {
    let saved = prepare_session(conn).await?;
    let result = read(conn, side, bound, opts).await;
    let restore = sqlx::raw_sql(sqlx::AssertSqlSafe(saved.restore_sql()))
        .execute(&mut *conn)
        .await
        .map_err(DriverError::sql);
    let realm = result?;
    restore?;
    Ok(realm)
}

/// The session settings inspection changes, as they were before.
struct SavedSettings {
    search_path: String,
    /// `None` on a server without the setting.
    jit: Option<String>,
}

impl SavedSettings {
    fn restore_sql(&self) -> String {
        let mut sql = format!(
            "SELECT pg_catalog.set_config('search_path', {}, false)",
            pg_literal(&self.search_path)
        );
        if let Some(jit) = &self.jit {
            sql.push_str(&format!(
                ", pg_catalog.set_config('jit', {}, false)",
                pg_literal(jit)
            ));
        }
        sql
    }
}

/// Sets `search_path` to `''` (every printed name schema-qualified) and turns JIT compilation off, in one round
/// trip; returns the settings as they were. JIT off: the catalog queries are short, but at a few thousand tables
/// the planner's row estimates can pass `jit_above_cost`, and compiling then costs more than the query (1.3 s of
/// 1.7 s for the index query at 5,000 tables, measured on PostgreSQL 15).
async fn prepare_session(conn: &mut PgConnection) -> Result<SavedSettings, DriverError> {
    // Evaluated left to right: each setting is read before it is changed.
    let (search_path, _, jit, _): (String, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT pg_catalog.current_setting('search_path'), \
                    pg_catalog.set_config('search_path', '', false), \
                    pg_catalog.current_setting('jit', true), \
                    CASE WHEN pg_catalog.current_setting('jit', true) IS NOT NULL \
                         THEN pg_catalog.set_config('jit', 'off', false) END",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(DriverError::sql)?;
    Ok(SavedSettings { search_path, jit })
}

/// The rows of every query after `schemas.sql`.
struct Rows {
    tables: Vec<PgRow>,
    columns: Vec<PgRow>,
    indexes: Vec<PgRow>,
    constraints: Vec<PgRow>,
    views: Vec<PgRow>,
    enums: Vec<PgRow>,
    sequences: Vec<PgRow>,
    functions: Vec<PgRow>,
    triggers: Vec<PgRow>,
    extensions: Vec<PgRow>,
}

/// Runs the queries after `schemas.sql` one after the other on `conn`; the constraint query only when
/// `constraints` (else it runs elsewhere and its rows are left empty).
async fn fetch_rows(
    conn: &mut PgConnection,
    names: &[String],
    constraints: bool,
) -> Result<Rows, DriverError> {
    Ok(Rows {
        tables: fetch(conn, include_str!("tables.sql"), names).await?,
        columns: fetch(conn, include_str!("columns.sql"), names).await?,
        indexes: fetch(conn, include_str!("indexes.sql"), names).await?,
        constraints: if constraints {
            fetch(conn, include_str!("constraints.sql"), names).await?
        } else {
            Vec::new()
        },
        views: fetch(conn, include_str!("views.sql"), names).await?,
        enums: fetch(conn, include_str!("enums.sql"), names).await?,
        sequences: fetch(conn, include_str!("sequences.sql"), names).await?,
        functions: fetch(conn, include_str!("functions.sql"), names).await?,
        triggers: fetch(conn, include_str!("triggers.sql"), names).await?,
        extensions: fetch(conn, include_str!("extensions.sql"), names).await?,
    })
}

/// Opens and prepares the side session; `None` (the work stays on the main session) when it cannot be had.
async fn open_side(side: Option<SideSession>) -> Option<PgConnection> {
    let mut conn = side?.await.ok()?;
    match prepare_session(&mut conn).await {
        Ok(_) => Some(conn),
        Err(_) => {
            let _ = conn.close().await;
            None
        }
    }
}

/// Reads the realm. With a side session, the constraint query (the costliest at thousands of tables: printing a
/// check opens its table, building the server's relation cache entry in a fresh session) runs on it while the
/// other queries run on `conn`; the side session is opened while the schema query runs. Every query is its own
/// snapshot either way (as on one session without a transaction), so a schema changing during inspection may be
/// read half-changed in both cases.
async fn read(
    conn: &mut PgConnection,
    side: Option<SideSession>,
    bound: Option<&str>,
    opts: &InspectOptions,
) -> Result<Realm, DriverError> {
    let wanted: Vec<String> = if opts.schemas.is_empty() {
        bound.map(|b| vec![b.to_string()]).unwrap_or_default()
    } else {
        opts.schemas.clone()
    };
    let mut realm = Realm::new(Dialect::Postgres);
    let (schema_rows, mut side) = tokio::join!(
        fetch(conn, include_str!("schemas.sql"), &wanted),
        open_side(side)
    );
    let rows = async {
        for r in schema_rows? {
            let mut s = Schema::new(get::<String>(&r, 0)?);
            s.comment = get(&r, 1)?;
            realm.schemas.push(s);
        }
        let names: Vec<String> = realm.schemas.iter().map(|s| s.name.clone()).collect();
        if names.is_empty() {
            return Ok(None);
        }
        let rows = match side {
            None => fetch_rows(conn, &names, true).await?,
            Some(ref mut side) => {
                let (rows, constraints) = tokio::join!(
                    fetch_rows(conn, &names, false),
                    fetch(side, include_str!("constraints.sql"), &names)
                );
                let mut rows = rows?;
                rows.constraints = constraints?;
                rows
            }
        };
        Ok::<_, DriverError>(Some((names, rows)))
    }
    .await;
    if let Some(side) = side {
        let _ = side.close().await;
    }
    let Some((names, rows)) = rows? else {
        return Ok(realm);
    };
    let q = Qualifier::new(bound.filter(|b| names.iter().any(|n| n == b)));
    let schema_pos: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();

    // Tables, keyed by (schema, name).
    let mut tables: Vec<(usize, Table)> = Vec::new();
    let mut table_pos: HashMap<(String, String), usize> = HashMap::new();
    for r in rows.tables {
        let schema: String = get(&r, 0)?;
        let name: String = get(&r, 1)?;
        if name == REVISIONS_TABLE && !opts.include_revisions_table {
            continue;
        }
        let Some(&si) = schema_pos.get(&schema) else {
            continue;
        };
        let mut t = Table::new(name.clone());
        t.comment = get(&r, 2)?;
        table_pos.insert((schema, name), tables.len());
        tables.push((si, t));
    }
    let find = |r: &PgRow| -> Result<Option<usize>, DriverError> {
        let schema: String = get(r, 0)?;
        let table: String = get(r, 1)?;
        Ok(table_pos.get(&(schema, table)).copied())
    };

    for r in rows.columns {
        let Some(ti) = find(&r)? else { continue };
        let ty: String = get(&r, 3)?;
        let mut c = Column::new(
            get::<String>(&r, 2)?,
            ColumnType::parse(Dialect::Postgres, &q.apply(&ty)),
        );
        c.nullable = !get::<bool>(&r, 4)?;
        c.default = get::<Option<String>>(&r, 5)?.map(|d| q.apply(&d));
        c.generated = get::<Option<String>>(&r, 6)?.map(|e| Generated {
            expr: q.apply(&e),
            stored: true,
        });
        let identity: String = get(&r, 7)?;
        if !identity.is_empty() {
            c.identity = Some(Identity {
                always: identity == "a",
                start: get::<Option<i64>>(&r, 8)?.unwrap_or(1),
                increment: get::<Option<i64>>(&r, 9)?.unwrap_or(1),
            });
        }
        c.collation = get(&r, 10)?;
        c.comment = get(&r, 11)?;
        tables[ti].1.columns.push(c);
    }

    // Index parts, grouped by index, in position order.
    let mut current: Option<(usize, String, bool, Index, Option<String>)> = None;
    let mut done: Vec<(usize, bool, Index, Option<String>)> = Vec::new();
    for r in rows.indexes {
        let Some(ti) = find(&r)? else { continue };
        let iname: String = get(&r, 2)?;
        if current
            .as_ref()
            .is_none_or(|(t, n, ..)| *t != ti || *n != iname)
        {
            if let Some((t, _, pk, i, cname)) = current.take() {
                done.push((t, pk, i, cname));
            }
            let mut i = Index::on(iname.clone(), Vec::<String>::new());
            i.unique = get(&r, 3)?;
            let primary: bool = get(&r, 4)?;
            let method: String = get(&r, 5)?;
            i.method = (method != "btree").then_some(method);
            i.predicate = get::<Option<String>>(&r, 6)?.map(|p| q.apply(&p));
            i.nulls_not_distinct = get(&r, 7)?;
            let contype: Option<String> = get(&r, 8)?;
            i.constraint = contype.as_deref() == Some("u");
            let conname: Option<String> = get(&r, 9)?;
            i.comment = get(&r, 17)?;
            current = Some((ti, iname, primary, i, conname));
        }
        let Some((_, _, _, idx, _)) = current.as_mut() else {
            continue;
        };
        let nkey: i32 = get(&r, 10)?;
        let ord: i32 = get(&r, 11)?;
        let column: Option<String> = get(&r, 12)?;
        if ord > nkey {
            if let Some(c) = column {
                idx.include.push(c);
            }
            continue;
        }
        let mut part = match column {
            Some(c) => IndexPart::column(c),
            None => IndexPart::expr(q.apply(&get::<String>(&r, 13)?)),
        };
        part.desc = get(&r, 14)?;
        part.opclass = get(&r, 15)?;
        part.collation = get(&r, 16)?;
        idx.parts.push(part);
    }
    if let Some((t, _, pk, i, cname)) = current.take() {
        done.push((t, pk, i, cname));
    }
    for (ti, primary, i, cname) in done {
        let t = &mut tables[ti].1;
        if primary {
            t.primary_key = Some(PrimaryKey {
                name: cname.or(Some(i.name)),
                parts: i.parts,
            });
        } else {
            t.indexes.push(i);
        }
    }

    for r in rows.constraints {
        let Some(ti) = find(&r)? else { continue };
        let name: String = get(&r, 2)?;
        let kind: String = get(&r, 3)?;
        let t = &mut tables[ti].1;
        if kind == "c" {
            let expr: Option<String> = get(&r, 4)?;
            let mut c = Check::new(Some(&name), q.apply(&expr.unwrap_or_default()));
            c.no_inherit = get(&r, 5)?;
            t.checks.push(c);
            continue;
        }
        let action = |s: String| match s.as_str() {
            "r" => FkAction::Restrict,
            "c" => FkAction::Cascade,
            "n" => FkAction::SetNull,
            "d" => FkAction::SetDefault,
            _ => FkAction::NoAction,
        };
        t.foreign_keys.push(ForeignKey {
            name,
            columns: get::<Option<Vec<String>>>(&r, 8)?.unwrap_or_default(),
            ref_schema: get::<Option<String>>(&r, 6)?.unwrap_or_default(),
            ref_table: get::<Option<String>>(&r, 7)?.unwrap_or_default(),
            ref_columns: get::<Option<Vec<String>>>(&r, 9)?.unwrap_or_default(),
            on_update: action(get(&r, 10)?),
            on_delete: action(get(&r, 11)?),
            deferrable: get(&r, 12)?,
            initially_deferred: get(&r, 13)?,
        });
    }
    for (si, t) in tables {
        realm.schemas[si].tables.push(t);
    }

    for r in rows.views {
        let Some(&si) = schema_pos.get(&get::<String>(&r, 0)?) else {
            continue;
        };
        let kind: String = get(&r, 2)?;
        let def: Option<String> = get(&r, 3)?;
        let v = View {
            name: get(&r, 1)?,
            definition: q.apply(def.unwrap_or_default().trim()),
            check_option: match get::<Option<String>>(&r, 4)?.as_deref() {
                Some("local") => Some(CheckOption::Local),
                Some("cascaded") => Some(CheckOption::Cascaded),
                _ => None,
            },
            comment: get(&r, 5)?,
        };
        let s = &mut realm.schemas[si];
        if kind == "m" {
            s.materialized_views.push(v);
        } else {
            s.views.push(v);
        }
    }
    for r in rows.enums {
        let Some(&si) = schema_pos.get(&get::<String>(&r, 0)?) else {
            continue;
        };
        realm.schemas[si].enums.push(Enum {
            name: get(&r, 1)?,
            values: get(&r, 2)?,
        });
    }
    for r in rows.sequences {
        let Some(&si) = schema_pos.get(&get::<String>(&r, 0)?) else {
            continue;
        };
        realm.schemas[si].sequences.push(Sequence {
            name: get(&r, 1)?,
            data_type: get(&r, 2)?,
            start: get(&r, 3)?,
            increment: get(&r, 4)?,
            min_value: get(&r, 5)?,
            max_value: get(&r, 6)?,
            cache: get(&r, 7)?,
            cycle: get(&r, 8)?,
            owned_by: get(&r, 9)?,
        });
    }
    for r in rows.functions {
        let Some(&si) = schema_pos.get(&get::<String>(&r, 0)?) else {
            continue;
        };
        let kind: String = get(&r, 2)?;
        let def: Option<String> = get(&r, 4)?;
        realm.schemas[si].functions.push(Function {
            name: get(&r, 1)?,
            kind: if kind == "p" {
                RoutineKind::Procedure
            } else {
                RoutineKind::Function
            },
            args: q.apply(&get::<String>(&r, 3)?),
            definition: q.apply(def.unwrap_or_default().trim()),
        });
    }
    for r in rows.triggers {
        let Some(&si) = schema_pos.get(&get::<String>(&r, 0)?) else {
            continue;
        };
        realm.schemas[si].triggers.push(Trigger {
            name: get(&r, 2)?,
            table: get(&r, 1)?,
            definition: q.apply(&get::<String>(&r, 3)?),
        });
    }
    for r in rows.extensions {
        realm.extensions.push(Extension {
            name: get(&r, 0)?,
            schema: get(&r, 1)?,
            version: get(&r, 2)?,
        });
    }

    realm.sort();
    if !opts.exclude.is_empty() {
        // Globs start at the object level when one schema is inspected through a bound URL, else at the schema.
        let relative = q.schema.is_some();
        realm = strata_schema::diff::exclude::exclude(&realm, &opts.exclude, relative);
    }
    Ok(realm)
}

/// Takes a bound schema's qualifier (`s.` or `"S".`) out of printed types and expressions.
struct Qualifier {
    schema: Option<String>,
    prefixes: Vec<String>,
}

impl Qualifier {
    fn new(schema: Option<&str>) -> Self {
        let prefixes = match schema {
            None => Vec::new(),
            Some(s) => {
                let mut p = vec![format!("{}.", crate::quote::double_quote(s))];
                if is_plain_ident(s) {
                    p.push(format!("{s}."));
                }
                p
            }
        };
        Qualifier {
            schema: schema.map(str::to_string),
            prefixes,
        }
    }

    fn apply(&self, text: &str) -> String {
        if self.prefixes.is_empty() {
            return text.to_string();
        }
        unqualify(text, &self.prefixes)
    }
}

/// Whether PostgreSQL prints `s` without quotes (lower-case letters, digits, `_`, `$`, not starting with a digit).
fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

/// `text` with every `prefix` removed where it starts a name: outside string literals, not after a character
/// that continues an identifier or a quoted name.
fn unqualify(text: &str, prefixes: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_literal = false;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let c = bytes[i];
        if in_literal {
            if c == b'\'' {
                in_literal = false;
            }
            out.push(c as char);
            i += 1;
            continue;
        }
        // Inside a literal, '' toggles twice: the text is copied either way.
        if c == b'\'' {
            in_literal = true;
            out.push('\'');
            i += 1;
            // `'public.t_id_seq'::regclass` names an object: its qualifier goes too.
            let names_object = text[i..]
                .find('\'')
                .is_some_and(|end| text[i + end + 1..].starts_with("::reg"));
            if names_object
                && let Some(p) = prefixes.iter().find(|p| text[i..].starts_with(p.as_str()))
            {
                i += p.len();
            }
            continue;
        }
        let prev_continues = out
            .chars()
            .last()
            .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '$' || p == '"' || p == '.');
        if !prev_continues
            && let Some(p) = prefixes.iter().find(|p| text[i..].starts_with(p.as_str()))
        {
            i += p.len();
            continue;
        }
        // Copy one whole character.
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_go_outside_literals() {
        let q = Qualifier::new(Some("public"));
        assert_eq!(
            q.apply("nextval('public.t_id_seq'::regclass)"),
            "nextval('t_id_seq'::regclass)"
        );
        assert_eq!(q.apply("public.mood[]"), "mood[]");
        assert_eq!(
            q.apply("SELECT t.a FROM public.t WHERE t.b = 'public.x'"),
            "SELECT t.a FROM t WHERE t.b = 'public.x'"
        );
        assert_eq!(q.apply("mypublic.f(x)"), "mypublic.f(x)");
        let q = Qualifier::new(Some("My S"));
        assert_eq!(q.apply("\"My S\".f(\"My S\".t.a)"), "f(t.a)");
        assert_eq!(Qualifier::new(None).apply("public.t"), "public.t");
    }
}
