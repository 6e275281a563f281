//! SQLite inspection into a [`Realm`] of one schema, `main`.
//!
//! Four batched queries, whatever the number of tables (`.sql` files beside this one): the objects of
//! `sqlite_schema`, then `pragma_table_xinfo`, `pragma_index_list` × `pragma_index_xinfo` and
//! `pragma_foreign_key_list` each joined over every table. What the pragmas do not report — checks, generated
//! expressions, column collations, `AUTOINCREMENT`, constraint names, `DEFERRABLE`, `STRICT`, `WITHOUT ROWID`,
//! index expressions and predicates — is read from the stored `CREATE` text (`ddl`).
//!
//! Model conventions: the declared type lower-cased; defaults as `dflt_value` reports them (outer parentheses
//! gone); index part collations only when they differ from the column's (or `BINARY`); `UNIQUE` constraints as
//! indexes named `sqlite_autoindex_*` with `constraint: true`; unnamed foreign keys named by their id (`"0"`);
//! views and triggers keep their whole stored `CREATE` statement as definition.

mod ddl;

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::Connection;
use rusqlite::types::{FromSql, Value, ValueRef};
use strata_migrate::Dialect;
use strata_schema::{
    Check, Column, ColumnType, FkAction, ForeignKey, Generated, Index, IndexPart, PrimaryKey,
    Realm, Schema, Table, Trigger, View,
};

use super::SqliteDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::inspect::{Inspect, InspectOptions};

/// The revisions table's name, left out unless asked for.
const REVISIONS_TABLE: &str = "atlas_schema_revisions";

#[async_trait]
impl Inspect for SqliteDriver {
    async fn inspect(&mut self, opts: &InspectOptions) -> Result<Realm, DriverError> {
        self.with_conn(|c| inspect_connection(c, opts))
    }
}

/// One row of a catalog query, its values owned.
type Row = Vec<Value>;

/// Column `i` of `row` as `T`.
fn col<T: FromSql>(row: &[Value], i: usize) -> Result<T, DriverError> {
    let v = row.get(i).map_or(ValueRef::Null, ValueRef::from);
    T::column_result(v).map_err(|e| E::Sql {
        message: format!("sql/sqlite: inspecting column {i} of a catalog row: {e}"),
        code: None,
    })
}

/// Every row of `sql`, each with all its columns.
fn fetch_all(conn: &Connection, sql: &str) -> Result<Vec<Row>, DriverError> {
    let mut stmt = conn.prepare(sql).map_err(E::sqlite)?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(E::sqlite)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(E::sqlite)? {
        let row = (0..n)
            .map(|i| r.get::<_, Value>(i))
            .collect::<rusqlite::Result<Row>>()
            .map_err(E::sqlite)?;
        out.push(row);
    }
    Ok(out)
}

/// Inspects the `main` schema of an open connection.
pub fn inspect_connection(conn: &Connection, opts: &InspectOptions) -> Result<Realm, DriverError> {
    if let Some(other) = opts.schemas.iter().find(|s| s.as_str() != "main") {
        return Err(E::Sql {
            message: format!(
                "sql/sqlite: cannot inspect schema {other:?}: only \"main\" is inspected; leave --schema out or \
                 pass main"
            ),
            code: None,
        });
    }
    let objects = fetch_all(conn, include_str!("objects.sql"))?;
    let columns = fetch_all(conn, include_str!("columns.sql"))?;
    let indexes = fetch_all(conn, include_str!("indexes.sql"))?;
    let fks = fetch_all(conn, include_str!("foreign_keys.sql"))?;

    let mut schema = Schema::new("main");
    let mut tables: Vec<(Table, ddl::TableDdl)> = Vec::new();
    let mut pos: HashMap<String, usize> = HashMap::new();
    let mut index_sql: HashMap<String, String> = HashMap::new();
    for r in &objects {
        let kind: String = col(r, 0)?;
        let name: String = col(r, 1)?;
        let tbl: String = col(r, 2)?;
        let sql: Option<String> = col(r, 3)?;
        let sql = sql.unwrap_or_default();
        match kind.as_str() {
            "table" => {
                if name == REVISIONS_TABLE && !opts.include_revisions_table {
                    continue;
                }
                // Virtual tables (CREATE VIRTUAL TABLE) are not base tables.
                if sql
                    .trim_start()
                    .get(..20)
                    .is_some_and(|s| s.eq_ignore_ascii_case("create virtual table"))
                {
                    continue;
                }
                let parsed = ddl::create_table(&sql);
                let mut t = Table::new(name.clone());
                t.options.strict = parsed.strict;
                t.options.without_rowid = parsed.without_rowid;
                pos.insert(name, tables.len());
                tables.push((t, parsed));
            }
            "view" => schema.views.push(View {
                name,
                definition: sql,
                check_option: None,
                comment: None,
            }),
            "trigger" => schema.triggers.push(Trigger {
                name,
                table: tbl,
                definition: sql,
            }),
            _ => {
                index_sql.insert(name, sql);
            }
        }
    }

    // Columns and primary keys.
    let mut pk_cols: HashMap<usize, Vec<(i64, String)>> = HashMap::new();
    for r in &columns {
        let tname: String = col(r, 0)?;
        let Some(&ti) = pos.get(&tname) else { continue };
        let name: String = col(r, 1)?;
        let ty: String = col(r, 2)?;
        let notnull: i64 = col(r, 3)?;
        let dflt: Option<String> = col(r, 4)?;
        let pk: i64 = col(r, 5)?;
        let hidden: i64 = col(r, 6)?;
        let (t, parsed) = &mut tables[ti];
        let declared = parsed
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name));
        let mut c = Column::new(name.clone(), ColumnType::parse(Dialect::Sqlite, &ty));
        c.nullable = notnull == 0;
        c.default = dflt;
        if let Some(dc) = declared {
            c.collation = dc.collation.clone();
            c.auto_increment = dc.autoincrement;
            if hidden == 2 || hidden == 3 {
                c.generated = dc.generated.as_ref().map(|(expr, _)| Generated {
                    expr: expr.clone(),
                    stored: hidden == 3,
                });
            }
        }
        if pk > 0 {
            pk_cols.entry(ti).or_default().push((pk, name));
        }
        t.columns.push(c);
    }
    for (ti, mut cols) in pk_cols {
        cols.sort();
        let (t, parsed) = &mut tables[ti];
        let mut key = PrimaryKey::columns(cols.into_iter().map(|(_, n)| n));
        key.name = parsed.pk_name.clone();
        t.primary_key = Some(key);
    }

    // Indexes: rows ordered by table, index, position.
    let mut current: Option<(usize, Index, Option<ddl::IndexDdl>)> = None;
    let mut finished: Vec<(usize, Index)> = Vec::new();
    for r in &indexes {
        let tname: String = col(r, 0)?;
        let Some(&ti) = pos.get(&tname) else { continue };
        let iname: String = col(r, 1)?;
        let unique: i64 = col(r, 2)?;
        let origin: String = col(r, 3)?;
        let partial: i64 = col(r, 4)?;
        let seqno: i64 = col(r, 5)?;
        let cid: i64 = col(r, 6)?;
        let cname: Option<String> = col(r, 7)?;
        let desc: i64 = col(r, 8)?;
        let coll: Option<String> = col(r, 9)?;
        if origin == "pk" {
            continue;
        }
        if current
            .as_ref()
            .is_none_or(|(t, i, _)| *t != ti || i.name != iname)
        {
            if let Some((t, i, _)) = current.take() {
                finished.push((t, i));
            }
            let parsed = index_sql.get(&iname).map(|s| ddl::create_index(s));
            let mut i = Index::on(iname.clone(), Vec::<String>::new());
            i.unique = unique != 0;
            i.constraint = origin == "u";
            if partial != 0 {
                i.predicate = parsed.as_ref().and_then(|p| p.predicate.clone());
            }
            current = Some((ti, i, parsed));
        }
        let Some((_, idx, parsed)) = current.as_mut() else {
            continue;
        };
        let table = &tables[ti].0;
        let mut part = match (cid, &cname) {
            (c, Some(n)) if c >= 0 => IndexPart::column(n.clone()),
            _ => {
                let text = parsed
                    .as_ref()
                    .and_then(|p| p.parts.get(usize::try_from(seqno).unwrap_or(usize::MAX)))
                    .cloned()
                    .unwrap_or_default();
                IndexPart::expr(text)
            }
        };
        let inherited = part
            .column_name()
            .and_then(|n| table.column(n))
            .and_then(|c| c.collation.clone())
            .unwrap_or_else(|| "BINARY".into());
        part.collation = coll.filter(|c| !c.eq_ignore_ascii_case(&inherited));
        part.desc = desc != 0;
        idx.parts.push(part);
    }
    if let Some((t, i, _)) = current.take() {
        finished.push((t, i));
    }
    for (ti, i) in finished {
        tables[ti].0.indexes.push(i);
    }

    // Foreign keys: rows ordered by table, id, position.
    let pk_of: HashMap<String, Vec<String>> = tables
        .iter()
        .filter_map(|(t, _)| {
            let pk = t.primary_key.as_ref()?;
            Some((
                t.name.to_ascii_lowercase(),
                pk.parts
                    .iter()
                    .filter_map(|p| p.column_name().map(str::to_string))
                    .collect(),
            ))
        })
        .collect();
    let mut groups: Vec<(usize, i64, ForeignKey)> = Vec::new();
    for r in &fks {
        let tname: String = col(r, 0)?;
        let Some(&ti) = pos.get(&tname) else { continue };
        let id: i64 = col(r, 1)?;
        let ref_table: String = col(r, 3)?;
        let from: String = col(r, 4)?;
        let to: Option<String> = col(r, 5)?;
        let on_update: String = col(r, 6)?;
        let on_delete: String = col(r, 7)?;
        if groups.last().is_none_or(|(t, i, _)| *t != ti || *i != id) {
            groups.push((
                ti,
                id,
                ForeignKey {
                    name: id.to_string(),
                    columns: Vec::new(),
                    ref_schema: "main".into(),
                    ref_table,
                    ref_columns: Vec::new(),
                    on_update: FkAction::parse(&on_update).unwrap_or_default(),
                    on_delete: FkAction::parse(&on_delete).unwrap_or_default(),
                    deferrable: false,
                    initially_deferred: false,
                },
            ));
        }
        if let Some((_, _, fk)) = groups.last_mut() {
            fk.columns.push(from);
            if let Some(to) = to {
                fk.ref_columns.push(to);
            }
        }
    }
    for (ti, _, mut fk) in groups {
        if fk.ref_columns.is_empty() {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.ref_columns = pk_of
                .get(&fk.ref_table.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default();
        }
        let parsed = &tables[ti].1;
        if let Some(d) = parsed.foreign_keys.iter().find(|d| {
            d.ref_table.eq_ignore_ascii_case(&fk.ref_table)
                && d.columns.len() == fk.columns.len()
                && d.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        }) {
            if let Some(n) = &d.name {
                fk.name = n.clone();
            }
            fk.deferrable = d.deferrable;
            fk.initially_deferred = d.initially_deferred;
        }
        tables[ti].0.foreign_keys.push(fk);
    }

    for (mut t, parsed) in tables {
        t.checks = parsed
            .checks
            .into_iter()
            .map(|(name, expr)| Check::new(name.as_deref(), expr))
            .collect();
        schema.tables.push(t);
    }
    let mut realm = Realm::new(Dialect::Sqlite);
    realm.schemas.push(schema);
    realm.sort();
    if !opts.exclude.is_empty() {
        realm = strata_schema::diff::exclude::exclude(&realm, &opts.exclude, true);
    }
    Ok(realm)
}
