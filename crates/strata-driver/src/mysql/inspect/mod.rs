//! MySQL/MariaDB inspection into a [`Realm`]: `information_schema` only, one query per object kind for every
//! selected schema at once (`.sql` files beside this one), whatever the number of tables — schemas, tables,
//! columns, index parts, foreign-key columns, checks, views, routines, their parameters and triggers: ten
//! queries. Where MySQL 8 and MariaDB differ in the catalog, a `_mysql.sql` twin is chosen by the server's
//! flavour (MySQL 8 variants are written to the documented catalog but only MariaDB is tested here).
//!
//! No `SHOW CREATE`: everything the model holds is in `information_schema`. Routines and triggers are given as
//! a `CREATE` statement rebuilt from their catalog rows (no `DEFINER`). One loss is known: a binary column's
//! default holding bytes that are not UTF-8 comes back with `?` in their place (`COLUMN_DEFAULT` is text);
//! reading it exactly would take `SHOW CREATE TABLE` for that table.
//!
//! Model conventions (so that what a plan creates inspects the same):
//! - types are `COLUMN_TYPE` lower-cased without MariaDB's integer display widths (`int(11)` → `int`;
//!   `tinyint(1)`, a boolean, keeps its width); routines' argument and return types likewise; a MariaDB `longtext` with its column-level
//!   `json_valid(`c`)` check is `json` (the check and the `utf8mb4_bin` collation it implies are left out);
//! - defaults as MariaDB reports them: literals quoted (`'a'`), numbers bare, `current_timestamp()`, other
//!   expressions as written; the text `NULL` (MariaDB's "default NULL") is no default. MySQL 8's unquoted
//!   literals are quoted to match, its `DEFAULT_GENERATED` expressions wrapped in parentheses;
//! - character set and collation are left out where they equal the parent's: a table's when equal to its
//!   schema's defaults, a column's when equal to its table's;
//! - the engine only when not `InnoDB`; the table's `AUTO_INCREMENT` only when above 1 (the next value; the diff ignores it unless the desired
//!   table sets one);
//! - index methods only when not `BTREE`; a `SPATIAL` part's implicit prefix left out; `DESC` parts (MariaDB
//!   10.8+, MySQL 8);
//! - view definitions are `VIEW_DEFINITION` with the view's own schema qualifier removed (`` `db`.`t` `` →
//!   `` `t` ``), so a model does not carry the database's name;
//! - the revisions table `atlas_schema_revisions` left out unless asked for.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::mysql::MySqlRow;
use sqlx::{AssertSqlSafe, MySqlConnection, Row};
use strata_migrate::Dialect;
use strata_schema::{
    Check, CheckOption, Column, ColumnType, FkAction, ForeignKey, Function, Generated, Index,
    IndexPart, PrimaryKey, Realm, RoutineKind, Schema, Table, Trigger, View,
};

use super::MysqlDriver;
use crate::DriverError as E;
use crate::error::DriverError;
use crate::inspect::{Inspect, InspectOptions};

/// The revisions table's name, left out unless asked for.
const REVISIONS_TABLE: &str = "atlas_schema_revisions";

#[async_trait]
impl Inspect for MysqlDriver {
    async fn inspect(&mut self, opts: &InspectOptions) -> Result<Realm, DriverError> {
        let (bound, mariadb) = (self.bound.clone(), self.mariadb);
        inspect_connection(self.conn().await?, mariadb, bound.as_deref(), opts).await
    }
}

fn col<'r, T: sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>>(
    row: &'r MySqlRow,
    i: usize,
) -> Result<T, DriverError> {
    row.try_get(i).map_err(E::sql)
}

/// A text column that the catalog may hand over as text or as bytes (some MariaDB catalog columns are binary).
fn text(row: &MySqlRow, i: usize) -> Result<Option<String>, DriverError> {
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => Ok(v),
        Err(_) => {
            let b: Option<Vec<u8>> = col(row, i)?;
            Ok(b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        }
    }
}

fn text_or_empty(row: &MySqlRow, i: usize) -> Result<String, DriverError> {
    Ok(text(row, i)?.unwrap_or_default())
}

/// Runs one catalog query with the schema list bound in place of each `{schemas}`.
async fn fetch(
    conn: &mut MySqlConnection,
    sql: &str,
    schemas: &[String],
) -> Result<Vec<MySqlRow>, DriverError> {
    let marks = vec!["?"; schemas.len()].join(", ");
    let lists = sql.matches("{schemas}").count();
    let sql = sql.replace("{schemas}", &marks);
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for _ in 0..lists {
        for s in schemas {
            q = q.bind(s);
        }
    }
    q.fetch_all(conn).await.map_err(E::sql)
}

/// Inspects the selected schemas of an open connection: `opts.schemas`, else the schema the URL is bound to,
/// else every schema the connection sees except the server's own.
pub async fn inspect_connection(
    conn: &mut MySqlConnection,
    mariadb: bool,
    bound: Option<&str>,
    opts: &InspectOptions,
) -> Result<Realm, DriverError> {
    let names: Vec<String> = if !opts.schemas.is_empty() {
        opts.schemas.clone()
    } else if let Some(b) = bound {
        vec![b.to_string()]
    } else {
        let rows = sqlx::query(include_str!("all_schemas.sql"))
            .fetch_all(&mut *conn)
            .await
            .map_err(E::sql)?;
        rows.iter()
            .map(|r| text_or_empty(r, 0))
            .collect::<Result<_, _>>()?
    };
    let mut realm = Realm::new(Dialect::Mysql);
    if names.is_empty() {
        return Ok(realm);
    }
    let pick = |maria: &'static str, mysql: &'static str| if mariadb { maria } else { mysql };
    let schemas = fetch(
        conn,
        pick(
            include_str!("schemas.sql"),
            include_str!("schemas_mysql.sql"),
        ),
        &names,
    )
    .await?;
    if let Some(missing) = names.iter().find(|n| {
        !schemas
            .iter()
            .any(|r| text(r, 0).ok().flatten().as_deref() == Some(n.as_str()))
    }) {
        return Err(E::Sql {
            message: format!(
                "cannot inspect schema {missing:?}: it does not exist or this user cannot see it; check the name \
                 (MySQL names are case-sensitive on most servers) and the user's grants"
            ),
            code: None,
        });
    }
    let tables = fetch(conn, include_str!("tables.sql"), &names).await?;
    let columns = fetch(conn, include_str!("columns.sql"), &names).await?;
    let indexes = fetch(
        conn,
        pick(
            include_str!("indexes.sql"),
            include_str!("indexes_mysql.sql"),
        ),
        &names,
    )
    .await?;
    let fks = fetch(conn, include_str!("foreign_keys.sql"), &names).await?;
    let checks = fetch(
        conn,
        pick(include_str!("checks.sql"), include_str!("checks_mysql.sql")),
        &names,
    )
    .await?;
    let views = fetch(conn, include_str!("views.sql"), &names).await?;
    let routines = fetch(conn, include_str!("routines.sql"), &names).await?;
    let params = fetch(conn, include_str!("parameters.sql"), &names).await?;
    let triggers = fetch(conn, include_str!("triggers.sql"), &names).await?;

    // Schemas, with their defaults (which tables inherit).
    let mut defaults: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for r in &schemas {
        let mut s = Schema::new(text_or_empty(r, 0)?);
        s.charset = text(r, 1)?;
        s.collation = text(r, 2)?;
        s.comment = text(r, 3)?.filter(|c| !c.is_empty());
        defaults.insert(s.name.clone(), (s.charset.clone(), s.collation.clone()));
        realm.schemas.push(s);
    }
    let schema_pos: HashMap<String, usize> = realm
        .schemas
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();

    // Tables, keyed by (schema, name); the effective charset/collation kept for their columns.
    struct Tbl {
        schema: String,
        table: Table,
        charset: Option<String>,
        collation: Option<String>,
    }
    let mut tbls: Vec<Tbl> = Vec::new();
    let mut pos: HashMap<(String, String), usize> = HashMap::new();
    for r in &tables {
        let schema = text_or_empty(r, 0)?;
        let name = text_or_empty(r, 1)?;
        if name == REVISIONS_TABLE && !opts.include_revisions_table {
            continue;
        }
        let mut t = Table::new(name.clone());
        // InnoDB is the default engine: named only when another one is used.
        t.options.engine = text(r, 2)?.filter(|e| !e.eq_ignore_ascii_case("innodb"));
        let collation = text(r, 3)?;
        let charset = text(r, 4)?;
        let (sc, sl) = defaults.get(&schema).cloned().unwrap_or_default();
        if collation != sl {
            t.options.collation = collation.clone();
            if charset != sc {
                t.options.charset = charset.clone();
            }
        }
        let ai: Option<i64> = col(r, 5)?;
        t.options.auto_increment = ai.filter(|&n| n > 1).and_then(|n| u64::try_from(n).ok());
        t.comment = text(r, 6)?.filter(|c| !c.is_empty());
        pos.insert((schema.clone(), name), tbls.len());
        tbls.push(Tbl {
            schema,
            table: t,
            charset,
            collation,
        });
    }

    // Checks first: a MariaDB JSON column is known by its column-level json_valid check.
    let mut json_cols: std::collections::HashSet<(usize, String)> = Default::default();
    let mut table_checks: Vec<(usize, Check)> = Vec::new();
    for r in &checks {
        let key = (text_or_empty(r, 0)?, text_or_empty(r, 1)?);
        let Some(&ti) = pos.get(&key) else { continue };
        let name = text_or_empty(r, 2)?;
        let level = text_or_empty(r, 3)?;
        let clause = text_or_empty(r, 4)?;
        let enforced = text_or_empty(r, 5)?;
        if level.eq_ignore_ascii_case("column")
            && clause.trim() == format!("json_valid(`{}`)", name.replace('`', "``"))
        {
            json_cols.insert((ti, name));
            continue;
        }
        let mut c = Check::new(Some(&name), clause);
        c.enforced = !enforced.eq_ignore_ascii_case("no");
        table_checks.push((ti, c));
    }

    // Columns (rows of views are skipped: views are not tables).
    for r in &columns {
        let key = (text_or_empty(r, 0)?, text_or_empty(r, 1)?);
        let Some(&ti) = pos.get(&key) else { continue };
        let name = text_or_empty(r, 2)?;
        let raw_type = text_or_empty(r, 3)?;
        let nullable = text_or_empty(r, 4)? == "YES";
        let dflt = text(r, 5)?;
        let extra = text_or_empty(r, 6)?.to_ascii_lowercase();
        let charset = text(r, 7)?;
        let collation = text(r, 8)?;
        let gen_expr = text(r, 9)?;
        let comment = text(r, 10)?;
        let tbl = &mut tbls[ti];
        let json = json_cols.contains(&(ti, name.clone()));
        let ty = if json {
            "json".to_string()
        } else {
            without_display_width(&raw_type.to_ascii_lowercase())
        };
        let mut c = Column::new(name, ColumnType::parse(Dialect::Mysql, &ty));
        c.nullable = nullable;
        c.auto_increment = extra.contains("auto_increment");
        if extra.contains("virtual generated") || extra.contains("stored generated") {
            c.generated = gen_expr.map(|expr| Generated {
                expr,
                stored: extra.contains("stored generated"),
            });
        }
        if c.generated.is_none() {
            c.default = default_value(dflt, &c.ty, extra.contains("default_generated"), mariadb);
        }
        if let Some(rest) = extra.split("on update ").nth(1) {
            let expr = rest.split_whitespace().next().unwrap_or_default();
            if !expr.is_empty() {
                c.on_update = Some(spell_now(expr));
            }
        }
        if !json && collation != tbl.collation {
            c.collation = collation;
            if charset != tbl.charset {
                c.charset = charset;
            }
        }
        c.comment = comment.filter(|x| !x.is_empty());
        tbl.table.columns.push(c);
    }

    // Indexes: rows ordered by schema, table, index, position.
    let mut current: Option<(usize, Index)> = None;
    let mut finished: Vec<(usize, Index)> = Vec::new();
    for r in &indexes {
        let key = (text_or_empty(r, 0)?, text_or_empty(r, 1)?);
        let Some(&ti) = pos.get(&key) else { continue };
        let iname = text_or_empty(r, 2)?;
        let non_unique: i64 = col(r, 3)?;
        let cname = text(r, 4)?;
        let sub_part: Option<i64> = col(r, 5)?;
        let order = text(r, 6)?;
        let itype = text_or_empty(r, 7)?;
        let icomment = text(r, 8)?;
        let expr = text(r, 9)?;
        if current
            .as_ref()
            .is_none_or(|(t, i)| *t != ti || i.name != iname)
        {
            if let Some(done) = current.take() {
                finished.push(done);
            }
            let mut i = Index::on(iname.clone(), Vec::<String>::new());
            i.unique = non_unique == 0;
            i.method = (!itype.eq_ignore_ascii_case("btree")).then(|| itype.to_ascii_uppercase());
            i.comment = icomment.filter(|c| !c.is_empty());
            current = Some((ti, i));
        }
        let Some((_, idx)) = current.as_mut() else {
            continue;
        };
        let mut part = match (cname, expr) {
            (Some(c), _) => IndexPart::column(c),
            (None, Some(e)) => IndexPart::expr(e),
            (None, None) => IndexPart::expr(String::new()),
        };
        part.desc = order.as_deref() == Some("D");
        if idx.method.as_deref() != Some("SPATIAL") {
            part.prefix = sub_part.and_then(|n| u32::try_from(n).ok());
        }
        idx.parts.push(part);
    }
    if let Some(done) = current.take() {
        finished.push(done);
    }
    for (ti, i) in finished {
        let t = &mut tbls[ti].table;
        if i.name == "PRIMARY" {
            t.primary_key = Some(PrimaryKey {
                name: None,
                parts: i.parts,
            });
        } else {
            t.indexes.push(i);
        }
    }

    // Foreign keys: rows ordered by schema, table, constraint, position.
    let mut groups: Vec<(usize, ForeignKey)> = Vec::new();
    for r in &fks {
        let key = (text_or_empty(r, 0)?, text_or_empty(r, 1)?);
        let Some(&ti) = pos.get(&key) else { continue };
        let name = text_or_empty(r, 2)?;
        if groups
            .last()
            .is_none_or(|(t, f)| *t != ti || f.name != name)
        {
            groups.push((
                ti,
                ForeignKey {
                    name: name.clone(),
                    columns: Vec::new(),
                    ref_schema: text_or_empty(r, 4)?,
                    ref_table: text_or_empty(r, 5)?,
                    ref_columns: Vec::new(),
                    on_update: FkAction::parse(&text_or_empty(r, 7)?).unwrap_or_default(),
                    on_delete: FkAction::parse(&text_or_empty(r, 8)?).unwrap_or_default(),
                    deferrable: false,
                    initially_deferred: false,
                },
            ));
        }
        if let Some((_, f)) = groups.last_mut() {
            f.columns.push(text_or_empty(r, 3)?);
            f.ref_columns.push(text_or_empty(r, 6)?);
        }
    }
    for (ti, f) in groups {
        tbls[ti].table.foreign_keys.push(f);
    }
    for (ti, c) in table_checks {
        tbls[ti].table.checks.push(c);
    }
    for t in tbls {
        if let Some(&si) = schema_pos.get(&t.schema) {
            realm.schemas[si].tables.push(t.table);
        }
    }

    for r in &views {
        let schema = text_or_empty(r, 0)?;
        let Some(&si) = schema_pos.get(&schema) else {
            continue;
        };
        let def = text_or_empty(r, 2)?;
        let check = text_or_empty(r, 3)?;
        realm.schemas[si].views.push(View {
            name: text_or_empty(r, 1)?,
            definition: unqualify(&def, &schema),
            check_option: match check.as_str() {
                "LOCAL" => Some(CheckOption::Local),
                "CASCADED" => Some(CheckOption::Cascaded),
                _ => None,
            },
            comment: None,
        });
    }

    // Routines: parameters grouped by (schema, name, type), in order.
    let mut args: HashMap<(String, String, String), Vec<String>> = HashMap::new();
    for r in &params {
        let key = (
            text_or_empty(r, 0)?,
            text_or_empty(r, 1)?,
            text_or_empty(r, 2)?,
        );
        let mode = text_or_empty(r, 3)?;
        let pname = text_or_empty(r, 4)?;
        let dtd = without_display_width(&text_or_empty(r, 5)?);
        let p = if key.2 == "PROCEDURE" {
            format!("{mode} {} {dtd}", ident(&pname))
        } else {
            format!("{} {dtd}", ident(&pname))
        };
        args.entry(key).or_default().push(p);
    }
    for r in &routines {
        let schema = text_or_empty(r, 0)?;
        let Some(&si) = schema_pos.get(&schema) else {
            continue;
        };
        let name = text_or_empty(r, 1)?;
        let rtype = text_or_empty(r, 2)?;
        let returns = text(r, 3)?.map(|t| without_display_width(&t));
        let body = text_or_empty(r, 4)?;
        let deterministic = text_or_empty(r, 5)? == "YES";
        let access = text_or_empty(r, 6)?;
        let security = text_or_empty(r, 7)?;
        let comment = text_or_empty(r, 8)?;
        let arglist = args
            .get(&(schema.clone(), name.clone(), rtype.clone()))
            .map(|a| a.join(", "))
            .unwrap_or_default();
        let kind = if rtype == "PROCEDURE" {
            RoutineKind::Procedure
        } else {
            RoutineKind::Function
        };
        let mut def = format!("CREATE {rtype} {}({arglist})", ident(&name));
        if let (RoutineKind::Function, Some(ret)) = (kind, &returns) {
            def.push_str(&format!(" RETURNS {ret}"));
        }
        if deterministic {
            def.push_str(" DETERMINISTIC");
        }
        if !access.is_empty() && access != "CONTAINS SQL" {
            def.push_str(&format!(" {access}"));
        }
        if security == "INVOKER" {
            def.push_str(" SQL SECURITY INVOKER");
        }
        if !comment.is_empty() {
            def.push_str(&format!(" COMMENT {}", literal(&comment)));
        }
        def.push(' ');
        def.push_str(body.trim());
        realm.schemas[si].functions.push(Function {
            name,
            kind,
            args: arglist,
            definition: def,
        });
    }

    for r in &triggers {
        let schema = text_or_empty(r, 0)?;
        let Some(&si) = schema_pos.get(&schema) else {
            continue;
        };
        let name = text_or_empty(r, 1)?;
        let table = text_or_empty(r, 2)?;
        let timing = text_or_empty(r, 3)?;
        let event = text_or_empty(r, 4)?;
        let body = text_or_empty(r, 5)?;
        realm.schemas[si].triggers.push(Trigger {
            definition: format!(
                "CREATE TRIGGER {} {timing} {event} ON {} FOR EACH ROW {}",
                ident(&name),
                ident(&table),
                body.trim()
            ),
            name,
            table,
        });
    }

    realm.sort();
    if !opts.exclude.is_empty() {
        let relative = realm.schemas.len() == 1;
        realm = strata_schema::diff::exclude::exclude(&realm, &opts.exclude, relative);
    }
    Ok(realm)
}

fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A MySQL string literal (quotes doubled, backslashes escaped).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// `int(11)` → `int`, `bigint(20) unsigned` → `bigint unsigned`; `tinyint(1)` (a boolean) and every other type
/// as given.
fn without_display_width(t: &str) -> String {
    for base in ["tinyint", "smallint", "mediumint", "int", "bigint"] {
        let Some(rest) = t.strip_prefix(base) else {
            continue;
        };
        let Some(inner) = rest.strip_prefix('(') else {
            return t.to_string();
        };
        let Some((width, after)) = inner.split_once(')') else {
            return t.to_string();
        };
        if base == "tinyint" && width == "1" {
            return t.to_string();
        }
        if width.bytes().all(|b| b.is_ascii_digit()) {
            return format!("{base}{after}");
        }
    }
    t.to_string()
}

/// `CURRENT_TIMESTAMP` family in MariaDB's spelling (`current_timestamp()`, `current_timestamp(6)`).
fn spell_now(e: &str) -> String {
    let lower = e.to_ascii_lowercase();
    match lower.strip_prefix("current_timestamp") {
        Some("") => "current_timestamp()".into(),
        Some(_) => lower,
        None => e.to_string(),
    }
}

/// The model's default from `COLUMN_DEFAULT` (see the module documentation).
fn default_value(
    d: Option<String>,
    ty: &ColumnType,
    generated: bool,
    mariadb: bool,
) -> Option<String> {
    let d = d?;
    if mariadb {
        if d == "NULL" {
            return None;
        }
        if d.to_ascii_lowercase().starts_with("current_timestamp") {
            return Some(spell_now(&d));
        }
        return Some(d);
    }
    // MySQL 8: literals come unquoted, expressions are flagged DEFAULT_GENERATED.
    if generated {
        let lower = d.to_ascii_lowercase();
        if lower.starts_with("current_timestamp") {
            return Some(spell_now(&d));
        }
        return Some(format!("({d})"));
    }
    use strata_schema::TypeKind as K;
    match ty.kind {
        K::Integer { .. } | K::Decimal { .. } | K::Float { .. } | K::Bool => Some(d),
        K::Other if ty.raw.starts_with("bit") => Some(d),
        _ => Some(literal(&d)),
    }
}

/// A view definition without its own schema's qualifier: `` `db`.`t`.`c` `` → `` `t`.`c` `` (outside string
/// literals).
fn unqualify(def: &str, schema: &str) -> String {
    let needle = format!("{}.", ident(schema));
    let mut out = String::with_capacity(def.len());
    let mut rest = def;
    let mut in_str = false;
    while !rest.is_empty() {
        if !in_str && rest.starts_with(&needle) {
            rest = &rest[needle.len()..];
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == '\\' && in_str {
            out.push(c);
            rest = &rest[1..];
            if let Some(n) = rest.chars().next() {
                out.push(n);
                rest = &rest[n.len_utf8()..];
            }
            continue;
        }
        if c == '\'' {
            in_str = !in_str;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_widths_go() {
        assert_eq!(without_display_width("int(11)"), "int");
        assert_eq!(
            without_display_width("bigint(20) unsigned"),
            "bigint unsigned"
        );
        assert_eq!(without_display_width("tinyint(1)"), "tinyint(1)");
        assert_eq!(without_display_width("tinyint(4)"), "tinyint");
        assert_eq!(without_display_width("varchar(10)"), "varchar(10)");
        assert_eq!(without_display_width("int unsigned"), "int unsigned");
    }

    #[test]
    fn view_qualifier_goes_outside_strings() {
        assert_eq!(
            unqualify(
                "select `db`.`t`.`a` AS `a` from `db`.`t` where x = '`db`.'",
                "db"
            ),
            "select `t`.`a` AS `a` from `t` where x = '`db`.'"
        );
    }

    #[test]
    fn mysql8_defaults_are_quoted_like_mariadb() {
        let vc = ColumnType::parse(Dialect::Mysql, "varchar(10)");
        let int = ColumnType::parse(Dialect::Mysql, "int");
        assert_eq!(
            default_value(Some("a'b".into()), &vc, false, false).as_deref(),
            Some("'a''b'")
        );
        assert_eq!(
            default_value(Some("5".into()), &int, false, false).as_deref(),
            Some("5")
        );
        assert_eq!(default_value(Some("NULL".into()), &int, false, true), None);
        assert_eq!(
            default_value(Some("CURRENT_TIMESTAMP".into()), &int, true, false).as_deref(),
            Some("current_timestamp()")
        );
    }
}
