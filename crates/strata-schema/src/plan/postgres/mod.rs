//! The PostgreSQL planner.
//!
//! Every statement runs inside one transaction (PostgreSQL's DDL is transactional; `ALTER TYPE … ADD VALUE` may
//! run in a transaction block since PostgreSQL 12, the new label only usable after commit) — except, with
//! [`PlanOptions::concurrent_index`], `CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY` on tables that
//! exist already, which cannot run in a transaction block and are marked [`Statement::outside_transaction`]
//! (a failed concurrent build's invalid index is dropped by the statement's [`Statement::cleanup`]). Names are always
//! schema-qualified and double-quoted. Order:
//!
//! 1. triggers and views that go, change, or read a table whose columns are dropped or retyped are dropped
//!    (views that read other views after them);
//! 2. new schemas (`CREATE SCHEMA`; `IF NOT EXISTS` for `public`, as Atlas), schema comments, extensions;
//! 3. enum types (`CREATE TYPE … AS ENUM`, `ALTER TYPE … ADD VALUE … BEFORE|AFTER`), new sequences, functions
//!    (those in `LANGUAGE sql`, whose bodies are checked against the tables, come after the tables);
//! 4. new tables, referenced tables first, each with its indexes (`CREATE INDEX`) and comments (`COMMENT ON`);
//!    a foreign key whose target is created later (cycles) is added by an `ALTER TABLE … ADD CONSTRAINT` once
//!    every new table exists. A `serial` column created with its sequence is written `serial` (`bigserial`,
//!    `smallserial`) and its sequence is not created on its own;
//! 5. changed tables: dropped indexes (`DROP INDEX`), then ONE `ALTER TABLE` with every column and constraint
//!    change (drops first), then new indexes and comments. The one exception: a column that stops being an
//!    identity column loses it in an `ALTER TABLE` of its own before step 2, since its sequence's name
//!    (`t_c_seq`) is the one a `serial` sequence created in step 3 takes;
//! 6. sequence ownership (`OWNED BY`) and sequence changes, schemas that go (`DROP SCHEMA … CASCADE`), then
//!    tables that go (foreign keys between them dropped first when they form a cycle), children before parents;
//! 7. views, materialized views and triggers created; then functions, sequences, enum types and extensions
//!    that go.
//!
//! Each statement carries Atlas's lower-case comment, its reverse where one exists (an `ALTER TABLE`'s reverse is
//! the `ALTER TABLE` planned from the new table back to the old) and the schemas, tables and columns it drops.
//! An enum whose labels are removed or reordered is refused, as Atlas does.

pub mod render;

use std::collections::{HashMap, HashSet};

use strata_migrate::Dialect;

use super::{ConcurrentIndex, Loss, Plan, PlanError, PlanOptions, Statement};
use crate::diff::{Change, ChangeKind, Changes, DiffOptions, Object, TableChange, diff_table};
use crate::model::{
    Column, Enum, Extension, Function, Index, Realm, RoutineKind, Sequence, Table, Trigger, View,
};
use render::{comment_on, create_index, create_table, ident, is_constraint, literal, qualified};

const D: Dialect = Dialect::Postgres;

type Key = (String, String);

fn key(schema: &str, name: &str) -> Key {
    (schema.to_string(), name.to_string())
}

/// What the changes ask for, sorted by kind.
#[derive(Default)]
struct Work<'a> {
    new_schemas: Vec<&'a crate::diff::SchemaAttrs>,
    schema_comments: Vec<(&'a str, Option<&'a str>, Option<&'a str>)>,
    dropped_schemas: Vec<&'a crate::model::Schema>,
    new_tables: Vec<(&'a str, &'a Table)>,
    modified: Vec<(&'a str, &'a Table, &'a Table, &'a [TableChange])>,
    dropped_tables: Vec<(&'a str, &'a Table)>,
    new_views: Vec<(&'a str, &'a View, bool)>,
    gone_views: Vec<(&'a str, &'a View, bool)>,
    new_triggers: Vec<(&'a str, &'a Trigger)>,
    gone_triggers: Vec<(&'a str, &'a Trigger)>,
    new_functions: Vec<(&'a str, &'a Function)>,
    changed_functions: Vec<(&'a str, &'a Function, &'a Function)>,
    gone_functions: Vec<(&'a str, &'a Function)>,
    new_enums: Vec<(&'a str, &'a Enum)>,
    enum_values: Vec<(&'a str, &'a Enum, &'a [crate::diff::EnumValueAdd])>,
    gone_enums: Vec<(&'a str, &'a Enum)>,
    new_sequences: Vec<(&'a str, &'a Sequence)>,
    changed_sequences: Vec<(&'a str, &'a Sequence, &'a Sequence)>,
    gone_sequences: Vec<(&'a str, &'a Sequence)>,
    new_extensions: Vec<(&'a str, &'a Extension)>,
    changed_extensions: Vec<(&'a str, &'a Extension, &'a Extension)>,
    gone_extensions: Vec<(&'a str, &'a Extension)>,
}

/// Plans PostgreSQL changes (see the module documentation). `to` is the realm the changes lead to: views that
/// must be rebuilt around a changed table are read from it.
pub fn plan(changes: &Changes, to: &Realm) -> Result<Plan, PlanError> {
    plan_with(changes, to, &PlanOptions::default())
}

/// [`plan`] with [`PlanOptions`] (the indentation of `CREATE TABLE` bodies).
pub fn plan_with(changes: &Changes, to: &Realm, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let mut w = Work::default();
    for c in &changes.changes {
        match c {
            Change::AddSchema { schema } => w.new_schemas.push(schema),
            Change::DropSchema { schema } => w.dropped_schemas.push(schema),
            Change::ModifySchema { from, to, what } => {
                if what.contains(ChangeKind::COMMENT) {
                    w.schema_comments.push((
                        &to.name,
                        from.comment.as_deref(),
                        to.comment.as_deref(),
                    ));
                }
            }
            Change::AddTable { schema, table } => w.new_tables.push((schema, table)),
            Change::DropTable { schema, table } => w.dropped_tables.push((schema, table)),
            Change::ModifyTable {
                schema,
                from,
                to,
                changes,
            } => w.modified.push((schema, from, to, changes)),
            Change::AddObject { schema, object } => add_object(&mut w, schema, object),
            Change::DropObject { schema, object } => drop_object(&mut w, schema, object),
            Change::ModifyObject { schema, from, to } => match (from, to) {
                (Object::View(a), Object::View(b)) => {
                    w.gone_views.push((schema, a, false));
                    w.new_views.push((schema, b, false));
                }
                (Object::MaterializedView(a), Object::MaterializedView(b)) => {
                    w.gone_views.push((schema, a, true));
                    w.new_views.push((schema, b, true));
                }
                (Object::Trigger(a), Object::Trigger(b)) => {
                    w.gone_triggers.push((schema, a));
                    w.new_triggers.push((schema, b));
                }
                (Object::Function(a), Object::Function(b)) => {
                    w.changed_functions.push((schema, a, b))
                }
                (Object::Sequence(a), Object::Sequence(b)) => {
                    w.changed_sequences.push((schema, a, b))
                }
                (Object::Extension(a), Object::Extension(b)) => {
                    w.changed_extensions.push((schema, a, b))
                }
                (Object::Enum(a), Object::Enum(_)) => {
                    return Err(PlanError::Unsupported {
                        dialect: "PostgreSQL",
                        what: format!("drop or reorder the values of enum {:?}", a.name),
                        hint: "PostgreSQL can only add enum values: add the new values, or create a new \
                               type and move the columns to it",
                    });
                }
                (a, _) => {
                    // Different kinds under one name: drop the old object, create the new one.
                    drop_object(&mut w, schema, a);
                    add_object(&mut w, schema, to);
                }
            },
            Change::AddEnumValues {
                schema,
                from,
                values,
                ..
            } => w.enum_values.push((schema, from, values)),
        }
    }
    let mut p = Plan::new(D);
    build(&mut p, &w, to, opts);
    Ok(p)
}

fn add_object<'a>(w: &mut Work<'a>, schema: &'a str, o: &'a Object) {
    match o {
        Object::View(v) => w.new_views.push((schema, v, false)),
        Object::MaterializedView(v) => w.new_views.push((schema, v, true)),
        Object::Enum(e) => w.new_enums.push((schema, e)),
        Object::Sequence(s) => w.new_sequences.push((schema, s)),
        Object::Function(f) => w.new_functions.push((schema, f)),
        Object::Trigger(t) => w.new_triggers.push((schema, t)),
        Object::Extension(e) => w.new_extensions.push((schema, e)),
    }
}

fn drop_object<'a>(w: &mut Work<'a>, schema: &'a str, o: &'a Object) {
    match o {
        Object::View(v) => w.gone_views.push((schema, v, false)),
        Object::MaterializedView(v) => w.gone_views.push((schema, v, true)),
        Object::Enum(e) => w.gone_enums.push((schema, e)),
        Object::Sequence(s) => w.gone_sequences.push((schema, s)),
        Object::Function(f) => w.gone_functions.push((schema, f)),
        Object::Trigger(t) => w.gone_triggers.push((schema, t)),
        Object::Extension(e) => w.gone_extensions.push((schema, e)),
    }
}

/// Columns created as `serial` with the sequence of the same change set: (schema, table, column) → type.
struct Serials {
    columns: HashMap<(String, String, String), &'static str>,
    sequences: HashSet<Key>,
}

impl Serials {
    fn of(&self, schema: &str, table: &str, c: &Column) -> Option<&'static str> {
        self.columns
            .get(&(schema.to_string(), table.to_string(), c.name.clone()))
            .copied()
    }
}

/// The sequence a `nextval('…'::regclass)` default names, without its schema.
fn nextval_sequence(default: &str) -> Option<String> {
    let rest = default.trim().strip_prefix("nextval('")?;
    let end = rest.find('\'')?;
    let name = &rest[..end];
    // The last dot-separated part, outside quotes.
    let mut last = String::new();
    let mut quoted = false;
    for ch in name.chars() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => last.clear(),
            c => last.push(c),
        }
    }
    Some(last)
}

fn serial_type(ty: &str, s: &Sequence) -> Option<&'static str> {
    let (name, max) = match ty {
        "integer" | "int" | "int4" | "serial" => ("serial", i64::from(i32::MAX)),
        "bigint" | "int8" | "bigserial" => ("bigserial", i64::MAX),
        "smallint" | "int2" | "smallserial" => ("smallserial", i64::from(i16::MAX)),
        _ => return None,
    };
    let data_type_ok = s.data_type.as_deref().is_none_or(|d| {
        let canonical = |t: &str| match t {
            "int" | "int4" | "serial" => "integer".to_string(),
            "int8" | "bigserial" => "bigint".to_string(),
            "int2" | "smallserial" => "smallint".to_string(),
            other => other.to_string(),
        };
        canonical(d) == canonical(ty)
    });
    (s.start == 1
        && s.increment == 1
        && s.min_value == 1
        && s.max_value == max
        && s.cache == 1
        && !s.cycle
        && data_type_ok)
        .then_some(name)
}

fn serials(w: &Work<'_>) -> Serials {
    let mut out = Serials {
        columns: HashMap::new(),
        sequences: HashSet::new(),
    };
    let new_seqs: HashMap<Key, &Sequence> = w
        .new_sequences
        .iter()
        .map(|(s, q)| (key(s, &q.name), *q))
        .collect();
    let mut consider = |schema: &str, table: &str, c: &Column| {
        if c.identity.is_some() || c.generated.is_some() {
            return;
        }
        let Some(seq) = c.default.as_deref().and_then(nextval_sequence) else {
            return;
        };
        let Some(q) = new_seqs.get(&key(schema, &seq)) else {
            return;
        };
        if q.owned_by.as_deref() != Some(&format!("{table}.{}", c.name)) {
            return;
        }
        if let Some(ty) = serial_type(&c.ty.raw, q) {
            out.columns
                .insert((schema.to_string(), table.to_string(), c.name.clone()), ty);
            out.sequences.insert(key(schema, &seq));
        }
    };
    for (s, t) in &w.new_tables {
        for c in &t.columns {
            consider(s, &t.name, c);
        }
    }
    for (s, _, t, tc) in &w.modified {
        for c in tc.iter() {
            if let TableChange::AddColumn { column } = c {
                consider(s, &t.name, column);
            }
        }
    }
    out
}

fn build(p: &mut Plan, w: &Work<'_>, to: &Realm, opts: &PlanOptions) {
    let indent = opts.indent.as_str();
    let serial = serials(w);

    // 1. Triggers and views that go or change; views reading a table whose columns go or change type.
    for (s, t) in &w.gone_triggers {
        p.statements.push(drop_trigger(s, t));
    }
    let mut gone_views: Vec<(&str, &View, bool)> = w.gone_views.clone();
    let mut new_views: Vec<(&str, &View, bool)> = w.new_views.clone();
    for (schema, v, m) in rebuilt_views(w, to) {
        gone_views.push((schema, v, m));
        new_views.push((schema, v, m));
    }
    let mut ordered_gone = order_views(gone_views);
    ordered_gone.reverse();
    for (s, v, m) in ordered_gone {
        p.statements.push(drop_view(s, v, m));
    }

    // Identity columns that stop being identity columns lose their sequence first: a `serial` sequence of
    // the same name (`t_c_seq`) may be created next.
    for (s, from, to_t, tc) in &w.modified {
        let clauses = identity_drops(tc);
        if !clauses.is_empty() {
            p.statements.push(Statement::new(
                format!(
                    "ALTER TABLE {} {}",
                    qualified(s, &to_t.name),
                    clauses.join(", ")
                ),
                format!("modify {:?} table", to_t.name),
                Some(format!(
                    "ALTER TABLE {} {}",
                    qualified(s, &from.name),
                    identity_adds(tc).join(", ")
                )),
            ));
        }
    }

    // 2. Schemas and extensions.
    for s in &w.new_schemas {
        let sql = if s.name == "public" {
            format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&s.name))
        } else {
            format!("CREATE SCHEMA {}", ident(&s.name))
        };
        p.statements.push(Statement::new(
            sql,
            format!("add new schema named {:?}", s.name),
            Some(format!("DROP SCHEMA {} CASCADE", ident(&s.name))),
        ));
        if let Some(c) = &s.comment {
            p.statements
                .push(schema_comment(&s.name, None, Some(c.as_str())));
        }
    }
    for (s, from, to_c) in &w.schema_comments {
        p.statements.push(schema_comment(s, *from, *to_c));
    }
    for (_, e) in &w.new_extensions {
        p.statements.push(Statement::new(
            format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {}",
                ident(&e.name),
                ident(&e.schema),
                literal(&e.version)
            ),
            format!("create extension {:?}", e.name),
            Some(format!("DROP EXTENSION {}", ident(&e.name))),
        ));
    }
    for (_, a, b) in &w.changed_extensions {
        if a.schema != b.schema {
            p.statements.push(Statement::new(
                format!(
                    "ALTER EXTENSION {} SET SCHEMA {}",
                    ident(&b.name),
                    ident(&b.schema)
                ),
                format!("modify extension {:?}", b.name),
                Some(format!(
                    "ALTER EXTENSION {} SET SCHEMA {}",
                    ident(&a.name),
                    ident(&a.schema)
                )),
            ));
        }
        if a.version != b.version {
            p.statements.push(Statement::new(
                format!(
                    "ALTER EXTENSION {} UPDATE TO {}",
                    ident(&b.name),
                    literal(&b.version)
                ),
                format!("modify extension {:?}", b.name),
                Some(format!(
                    "ALTER EXTENSION {} UPDATE TO {}",
                    ident(&a.name),
                    literal(&a.version)
                )),
            ));
        }
    }

    // 3. Enums, sequences, functions that tables may use.
    for (s, e) in &w.new_enums {
        let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
        p.statements.push(Statement::new(
            format!(
                "CREATE TYPE {} AS ENUM ({})",
                qualified(s, &e.name),
                values.join(", ")
            ),
            format!("create enum type {:?}", e.name),
            Some(format!("DROP TYPE {}", qualified(s, &e.name))),
        ));
    }
    for (s, from, values) in &w.enum_values {
        for v in values.iter() {
            let position = match (&v.after, from.values.first()) {
                (Some(a), _) => format!(" AFTER {}", literal(a)),
                (None, Some(first)) => format!(" BEFORE {}", literal(first)),
                (None, None) => String::new(),
            };
            p.statements.push(Statement::new(
                format!(
                    "ALTER TYPE {} ADD VALUE {}{position}",
                    qualified(s, &from.name),
                    literal(&v.value)
                ),
                format!("add value to enum type: {:?}", from.name),
                None,
            ));
        }
    }
    for (s, q) in &w.new_sequences {
        if serial.sequences.contains(&key(s, &q.name)) {
            continue;
        }
        p.statements.push(Statement::new(
            create_sequence(s, q),
            format!("create {:?} sequence", q.name),
            Some(format!("DROP SEQUENCE {}", qualified(s, &q.name))),
        ));
    }
    let (sql_fns, early_fns): (Vec<_>, Vec<_>) = w
        .new_functions
        .iter()
        .partition(|(_, f)| is_sql_language(f));
    for (s, f) in early_fns {
        p.statements.push(create_function(s, f));
    }

    // 4. New tables, parents first; foreign keys to tables created later come after all of them.
    let new_tables = order_tables(w.new_tables.clone());
    let new_keys: HashSet<Key> = new_tables.iter().map(|(s, t)| key(s, &t.name)).collect();
    let mut created: HashSet<Key> = HashSet::new();
    let mut deferred = Vec::new();
    for (s, t) in &new_tables {
        created.insert(key(s, &t.name));
        let inline = |f: &crate::model::ForeignKey| {
            let target = key(&f.ref_schema, &f.ref_table);
            !new_keys.contains(&target) || created.contains(&target)
        };
        for f in t.foreign_keys.iter().filter(|f| !inline(f)) {
            deferred.push((*s, t, f));
        }
        p.statements.push(Statement::new(
            create_table(s, t, |c| serial.of(s, &t.name, c), inline, indent),
            format!("create {:?} table", t.name),
            Some(format!("DROP TABLE {}", qualified(s, &t.name))),
        ));
        table_extras(p, s, t);
    }
    for (s, t, f) in deferred {
        p.statements.push(Statement::new(
            format!(
                "ALTER TABLE {} ADD {}",
                qualified(s, &t.name),
                render::foreign_key(f)
            ),
            format!("modify {:?} table", t.name),
            Some(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                qualified(s, &t.name),
                ident(&f.name)
            )),
        ));
    }

    // 5. Changed tables.
    for (s, from, to_t, tc) in &w.modified {
        modify_table(p, s, from, to_t, tc, &serial, opts.concurrent_index);
    }

    // 6. Sequence ownership and changes; SQL functions; tables that go.
    for (s, q) in &w.new_sequences {
        if serial.sequences.contains(&key(s, &q.name)) {
            continue;
        }
        if let Some(owner) = &q.owned_by {
            p.statements.push(Statement::new(
                format!(
                    "ALTER SEQUENCE {} OWNED BY {}",
                    qualified(s, &q.name),
                    owned_by(s, owner)
                ),
                format!("set owner of {:?} sequence", q.name),
                Some(format!(
                    "ALTER SEQUENCE {} OWNED BY NONE",
                    qualified(s, &q.name)
                )),
            ));
        }
    }
    for (s, a, b) in &w.changed_sequences {
        p.statements.push(Statement::new(
            alter_sequence(s, b),
            format!("modify {:?} sequence", b.name),
            Some(alter_sequence(s, a)),
        ));
    }
    for (s, f) in sql_fns {
        p.statements.push(create_function(s, f));
    }
    for (s, a, b) in &w.changed_functions {
        p.statements.push(Statement::new(
            function_sql(s, b),
            format!("modify {:?} function", b.name),
            Some(function_sql(s, a)),
        ));
    }
    // Schemas that go take their objects with them (CASCADE), before other tables that go: those may be
    // referenced from them.
    for s in &w.dropped_schemas {
        let mut st = Statement::new(
            format!("DROP SCHEMA {} CASCADE", ident(&s.name)),
            format!("drop schema named {:?}", s.name),
            Some(format!("CREATE SCHEMA {}", ident(&s.name))),
        );
        st.destructive.push(Loss::Schema {
            name: s.name.clone(),
        });
        p.statements.push(st);
    }
    drop_tables(p, &w.dropped_tables);

    // 7. Views and triggers created; other objects that go.
    for (s, v, m) in order_views(new_views) {
        p.statements.push(create_view(s, v, m));
        if let Some(c) = &v.comment {
            let what = if m { "MATERIALIZED VIEW" } else { "VIEW" };
            p.statements.push(Statement::new(
                comment_on(what, &qualified(s, &v.name), Some(c)),
                format!("set comment to view: {:?}", v.name),
                Some(comment_on(what, &qualified(s, &v.name), None)),
            ));
        }
    }
    for (s, t) in &w.new_triggers {
        p.statements.push(Statement::new(
            strip_semicolon(&t.definition),
            format!("create trigger {:?}", t.name),
            Some(format!(
                "DROP TRIGGER {} ON {}",
                ident(&t.name),
                qualified(s, &t.table)
            )),
        ));
    }
    for (s, f) in &w.gone_functions {
        p.statements.push(Statement::new(
            format!(
                "DROP {} {}({})",
                routine_word(f),
                qualified(s, &f.name),
                f.args
            ),
            format!("drop {:?} {}", f.name, routine_word(f).to_lowercase()),
            Some(function_sql(s, f)),
        ));
    }
    for (s, q) in &w.gone_sequences {
        p.statements.push(Statement::new(
            format!("DROP SEQUENCE IF EXISTS {}", qualified(s, &q.name)),
            format!("drop {:?} sequence", q.name),
            Some(create_sequence(s, q)),
        ));
    }
    for (s, e) in &w.gone_enums {
        let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
        p.statements.push(Statement::new(
            format!("DROP TYPE {}", qualified(s, &e.name)),
            format!("drop enum type {:?}", e.name),
            Some(format!(
                "CREATE TYPE {} AS ENUM ({})",
                qualified(s, &e.name),
                values.join(", ")
            )),
        ));
    }
    for (_, e) in &w.gone_extensions {
        p.statements.push(Statement::new(
            format!("DROP EXTENSION {}", ident(&e.name)),
            format!("drop extension {:?}", e.name),
            Some(format!(
                "CREATE EXTENSION {} WITH SCHEMA {} VERSION {}",
                ident(&e.name),
                ident(&e.schema),
                literal(&e.version)
            )),
        ));
    }
}

fn strip_semicolon(s: &str) -> String {
    s.trim().trim_end_matches(';').trim_end().to_string()
}

fn schema_comment(schema: &str, from: Option<&str>, to: Option<&str>) -> Statement {
    Statement::new(
        comment_on("SCHEMA", &ident(schema), to),
        format!("set comment to schema: {schema:?}"),
        Some(comment_on("SCHEMA", &ident(schema), from)),
    )
}

fn owned_by(schema: &str, owner: &str) -> String {
    match owner.split_once('.') {
        Some((t, c)) => format!("{}.{}", qualified(schema, t), ident(c)),
        None => "NONE".into(),
    }
}

fn sequence_options(q: &Sequence) -> String {
    let mut s = String::new();
    if let Some(t) = &q.data_type {
        s.push_str(&format!(" AS {t}"));
    }
    s.push_str(&format!(
        " INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}",
        q.increment, q.min_value, q.max_value, q.start, q.cache
    ));
    s.push_str(if q.cycle { " CYCLE" } else { " NO CYCLE" });
    s
}

fn create_sequence(schema: &str, q: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {}{}",
        qualified(schema, &q.name),
        sequence_options(q)
    )
}

fn alter_sequence(schema: &str, q: &Sequence) -> String {
    let owner = q
        .owned_by
        .as_deref()
        .map(|o| owned_by(schema, o))
        .unwrap_or_else(|| "NONE".into());
    format!(
        "ALTER SEQUENCE {}{} OWNED BY {owner}",
        qualified(schema, &q.name),
        sequence_options(q)
    )
}

fn routine_word(f: &Function) -> &'static str {
    match f.kind {
        RoutineKind::Function => "FUNCTION",
        RoutineKind::Procedure => "PROCEDURE",
    }
}

fn is_sql_language(f: &Function) -> bool {
    let lower = f.definition.to_ascii_lowercase();
    lower.contains("language sql") || lower.contains("begin atomic")
}

/// The function's definition as a statement (`pg_get_functiondef` prints `CREATE OR REPLACE …`).
fn function_sql(_schema: &str, f: &Function) -> String {
    strip_semicolon(&f.definition)
}

fn create_function(schema: &str, f: &Function) -> Statement {
    Statement::new(
        function_sql(schema, f),
        format!("create {:?} {}", f.name, routine_word(f).to_lowercase()),
        Some(format!(
            "DROP {} {}({})",
            routine_word(f),
            qualified(schema, &f.name),
            f.args
        )),
    )
}

fn drop_trigger(schema: &str, t: &Trigger) -> Statement {
    Statement::new(
        format!(
            "DROP TRIGGER {} ON {}",
            ident(&t.name),
            qualified(schema, &t.table)
        ),
        format!("drop trigger {:?}", t.name),
        Some(strip_semicolon(&t.definition)),
    )
}

fn view_sql(schema: &str, v: &View, materialized: bool) -> String {
    let def = strip_semicolon(&v.definition);
    let head = def.get(..6).unwrap_or("");
    if head.eq_ignore_ascii_case("create") {
        return def;
    }
    let mut s = format!(
        "CREATE {}VIEW {} AS {def}",
        if materialized { "MATERIALIZED " } else { "" },
        qualified(schema, &v.name)
    );
    match v.check_option {
        Some(crate::model::CheckOption::Local) => s.push_str(" WITH LOCAL CHECK OPTION"),
        Some(crate::model::CheckOption::Cascaded) => s.push_str(" WITH CASCADED CHECK OPTION"),
        None => {}
    }
    s
}

fn create_view(schema: &str, v: &View, materialized: bool) -> Statement {
    let word = if materialized {
        "materialized view"
    } else {
        "view"
    };
    Statement::new(
        view_sql(schema, v, materialized),
        format!("create {:?} {word}", v.name),
        Some(format!(
            "DROP {} {}",
            word.to_uppercase(),
            qualified(schema, &v.name)
        )),
    )
}

fn drop_view(schema: &str, v: &View, materialized: bool) -> Statement {
    let word = if materialized {
        "materialized view"
    } else {
        "view"
    };
    Statement::new(
        format!(
            "DROP {} {}",
            word.to_uppercase(),
            qualified(schema, &v.name)
        ),
        format!("drop {:?} {word}", v.name),
        Some(view_sql(schema, v, materialized)),
    )
}

/// Whether `text` mentions `name` as a word (case-insensitive, outside nothing: a heuristic over the definition).
fn mentions(text: &str, name: &str) -> bool {
    let lower = text.to_lowercase();
    let name = name.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    lower.match_indices(&name).any(|(i, _)| {
        let before = lower[..i].chars().last().is_none_or(|c| !is_word(c));
        let after = lower[i + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c));
        before && after
    })
}

/// Views of `to` that read a table whose columns are dropped or retyped (PostgreSQL refuses those changes
/// while a view depends on the column), with the views that read them: dropped first, created again after.
fn rebuilt_views<'a>(w: &Work<'a>, to: &'a Realm) -> Vec<(&'a str, &'a View, bool)> {
    let touched: Vec<&str> = w
        .modified
        .iter()
        .filter(|(_, _, _, tc)| {
            tc.iter().any(|c| match c {
                TableChange::DropColumn { .. } => true,
                TableChange::ModifyColumn { what, .. } => {
                    what.contains(ChangeKind::TYPE)
                        || what.contains(ChangeKind::GENERATED)
                        || what.contains(ChangeKind::COLLATION)
                }
                _ => false,
            })
        })
        .map(|(_, _, t, _)| t.name.as_str())
        .collect();
    if touched.is_empty() {
        return Vec::new();
    }
    let already: HashSet<(String, String)> = w
        .gone_views
        .iter()
        .chain(&w.new_views)
        .map(|(s, v, _)| key(s, &v.name))
        .collect();
    let mut names: Vec<String> = touched.iter().map(|s| s.to_string()).collect();
    let mut out: Vec<(&str, &View, bool)> = Vec::new();
    let mut picked: HashSet<(String, String)> = HashSet::new();
    loop {
        let mut grew = false;
        for s in &to.schemas {
            let all = s
                .views
                .iter()
                .map(|v| (v, false))
                .chain(s.materialized_views.iter().map(|v| (v, true)));
            for (v, m) in all {
                let k = key(&s.name, &v.name);
                if already.contains(&k) || picked.contains(&k) {
                    continue;
                }
                if names.iter().any(|n| mentions(&v.definition, n)) {
                    picked.insert(k);
                    names.push(v.name.clone());
                    out.push((s.name.as_str(), v, m));
                    grew = true;
                }
            }
        }
        if !grew {
            return out;
        }
    }
}

/// Views in an order where a view another one reads comes first.
fn order_views<'a>(views: Vec<(&'a str, &'a View, bool)>) -> Vec<(&'a str, &'a View, bool)> {
    let mut left = views;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = (0..left.len()).find(|&i| {
            !left.iter().enumerate().any(|(j, (_, w, _))| {
                j != i
                    && mentions(&left[i].1.definition, &w.name)
                    && !mentions(&w.definition, &left[i].1.name)
            })
        });
        out.push(left.remove(ready.unwrap_or(0)));
    }
    out
}

/// Tables in an order where referenced tables come before the tables referencing them (cycles: as given).
fn order_tables<'a>(tables: Vec<(&'a str, &'a Table)>) -> Vec<(&'a str, &'a Table)> {
    super::order_by_references(tables, key)
}

/// A new table's indexes and comments.
fn table_extras(p: &mut Plan, s: &str, t: &Table) {
    for i in t.indexes.iter().filter(|i| !is_constraint(i)) {
        push_index(p, s, &t.name, i, ConcurrentIndex::default());
    }
    for i in t.indexes.iter().filter(|i| is_constraint(i)) {
        if let Some(c) = &i.comment {
            p.statements
                .push(index_comment(s, &t.name, &i.name, None, Some(c)));
        }
    }
    if let Some(c) = &t.comment {
        p.statements.push(table_comment(s, &t.name, None, Some(c)));
    }
    for c in &t.columns {
        if let Some(text) = &c.comment {
            p.statements
                .push(column_comment(s, &t.name, &c.name, None, Some(text)));
        }
    }
}

fn add_index(s: &str, table: &str, i: &Index, ci: ConcurrentIndex) -> Statement {
    let mut st = Statement::new(
        create_index(s, table, i, ci.create),
        format!("create index {:?} to table: {:?}", i.name, table),
        Some(drop_index_sql(s, &i.name, ci.drop)),
    );
    if ci.create {
        st.outside_transaction = true;
        st.cleanup = Some(drop_if_invalid(s, &i.name));
    }
    st
}

/// `CREATE INDEX` and, when the index has one, its comment.
fn push_index(p: &mut Plan, s: &str, table: &str, i: &Index, ci: ConcurrentIndex) {
    p.statements.push(add_index(s, table, i, ci));
    if let Some(c) = &i.comment {
        p.statements
            .push(index_comment(s, table, &i.name, None, Some(c)));
    }
}

fn drop_index(s: &str, table: &str, i: &Index, ci: ConcurrentIndex) -> Statement {
    let mut st = Statement::new(
        drop_index_sql(s, &i.name, ci.drop),
        format!("drop index {:?} from table: {:?}", i.name, table),
        Some(create_index(s, table, i, ci.create)),
    );
    st.outside_transaction = ci.drop;
    st
}

fn drop_index_sql(s: &str, name: &str, concurrently: bool) -> String {
    let how = if concurrently { "CONCURRENTLY " } else { "" };
    format!("DROP INDEX {how}{}", qualified(s, name))
}

/// Drops the index `s.name` only if PostgreSQL marks it invalid: what a failed `CREATE INDEX CONCURRENTLY`
/// leaves behind. A valid index of that name (someone else's, or one a retry finished) is left alone.
fn drop_if_invalid(s: &str, name: &str) -> String {
    let q = qualified(s, name);
    format!(
        "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = to_regclass({}) AND NOT \
         indisvalid) THEN DROP INDEX {q}; END IF; END$$",
        literal(&q)
    )
}

fn table_comment(s: &str, t: &str, from: Option<&str>, to: Option<&str>) -> Statement {
    Statement::new(
        comment_on("TABLE", &qualified(s, t), to),
        format!("set comment to table: {t:?}"),
        Some(comment_on("TABLE", &qualified(s, t), from)),
    )
}

fn column_comment(s: &str, t: &str, c: &str, from: Option<&str>, to: Option<&str>) -> Statement {
    let target = format!("{}.{}", qualified(s, t), ident(c));
    Statement::new(
        comment_on("COLUMN", &target, to),
        format!("set comment to column: {c:?} on table: {t:?}"),
        Some(comment_on("COLUMN", &target, from)),
    )
}

fn index_comment(s: &str, t: &str, i: &str, from: Option<&str>, to: Option<&str>) -> Statement {
    Statement::new(
        comment_on("INDEX", &qualified(s, i), to),
        format!("set comment to index: {i:?} on table: {t:?}"),
        Some(comment_on("INDEX", &qualified(s, i), from)),
    )
}

fn identity_drops(changes: &[TableChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ModifyColumn { from, to, what }
                if what.contains(ChangeKind::IDENTITY)
                    && from.identity.is_some()
                    && to.identity.is_none() =>
            {
                Some(format!("ALTER COLUMN {} DROP IDENTITY", ident(&from.name)))
            }
            _ => None,
        })
        .collect()
}

fn identity_adds(changes: &[TableChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            TableChange::ModifyColumn { from, to, what }
                if what.contains(ChangeKind::IDENTITY) && to.identity.is_none() =>
            {
                let id = from.identity.as_ref()?;
                Some(format!(
                    "ALTER COLUMN {} ADD GENERATED {} AS IDENTITY (START WITH {} INCREMENT BY {})",
                    ident(&from.name),
                    if id.always { "ALWAYS" } else { "BY DEFAULT" },
                    id.start,
                    id.increment
                ))
            }
            _ => None,
        })
        .collect()
}

/// The clauses of the one `ALTER TABLE` that turns `from` into `to`, and the columns they drop.
fn alter_clauses(
    schema: &str,
    table: &str,
    changes: &[TableChange],
    serial: &Serials,
) -> (Vec<String>, Vec<String>) {
    let mut drops = Vec::new();
    let mut drop_cols = Vec::new();
    let mut adds_cols = Vec::new();
    let mut alters = Vec::new();
    let mut adds = Vec::new();
    let mut lost = Vec::new();
    let drop_constraint = |n: &str| format!("DROP CONSTRAINT {}", ident(n));
    for c in changes {
        match c {
            TableChange::AddColumn { column } => adds_cols.push(format!(
                "ADD COLUMN {}",
                render::column(column, serial.of(schema, table, column))
            )),
            TableChange::DropColumn { column } => {
                drop_cols.push(format!("DROP COLUMN {}", ident(&column.name)));
                lost.push(column.name.clone());
            }
            TableChange::ModifyColumn { from, to, what } => {
                if what.contains(ChangeKind::GENERATED) && to.generated.is_some() {
                    // A generation expression cannot be added or changed in place: the column is derived, so
                    // it is dropped and added again.
                    drop_cols.push(format!("DROP COLUMN {}", ident(&from.name)));
                    adds_cols.push(format!("ADD COLUMN {}", render::column(to, None)));
                    continue;
                }
                let col = format!("ALTER COLUMN {}", ident(&to.name));
                if what.contains(ChangeKind::GENERATED) {
                    alters.push(format!("{col} DROP EXPRESSION"));
                }
                if what.contains(ChangeKind::TYPE) || what.contains(ChangeKind::COLLATION) {
                    let mut s = format!("{col} TYPE {}", to.ty.raw);
                    match (&to.collation, what.contains(ChangeKind::COLLATION)) {
                        (Some(c), _) => s.push_str(&format!(" COLLATE {}", ident(c))),
                        (None, true) => s.push_str(" COLLATE \"default\""),
                        (None, false) => {}
                    }
                    alters.push(s);
                }
                if what.contains(ChangeKind::NULL) {
                    alters.push(format!(
                        "{col} {} NOT NULL",
                        if to.nullable { "DROP" } else { "SET" }
                    ));
                }
                if what.contains(ChangeKind::DEFAULT) {
                    match to.default.as_deref().filter(|_| to.identity.is_none()) {
                        Some(d) => alters.push(format!("{col} SET DEFAULT {}", d.trim())),
                        None if from.default.is_some() && from.identity.is_none() => {
                            alters.push(format!("{col} DROP DEFAULT"))
                        }
                        None => {}
                    }
                }
                if what.contains(ChangeKind::IDENTITY) {
                    match (&from.identity, &to.identity) {
                        (None, Some(id)) => alters.push(format!(
                            "{col} ADD GENERATED {} AS IDENTITY (START WITH {} INCREMENT BY {})",
                            if id.always { "ALWAYS" } else { "BY DEFAULT" },
                            id.start,
                            id.increment
                        )),
                        // Dropped ahead of everything else (see `identity_drops`).
                        (Some(_), None) => {}
                        (Some(_), Some(id)) => alters.push(format!(
                            "{col} SET GENERATED {} SET START WITH {} SET INCREMENT BY {}",
                            if id.always { "ALWAYS" } else { "BY DEFAULT" },
                            id.start,
                            id.increment
                        )),
                        (None, None) => {}
                    }
                }
            }
            TableChange::AddIndex { index } if is_constraint(index) => {
                adds.push(format!("ADD {}", render::unique_constraint(index)))
            }
            TableChange::DropIndex { index } if index.constraint => {
                drops.push(drop_constraint(&index.name))
            }
            TableChange::ModifyIndex { from, to, what } if *what != ChangeKind::COMMENT => {
                if from.constraint {
                    drops.push(drop_constraint(&from.name));
                }
                if is_constraint(to) {
                    adds.push(format!("ADD {}", render::unique_constraint(to)));
                }
            }
            TableChange::AddPrimaryKey { key } => {
                adds.push(format!("ADD {}", render::primary_key(table, key)))
            }
            TableChange::DropPrimaryKey { key } => {
                drops.push(drop_constraint(&render::pk_constraint_name(table, key)))
            }
            TableChange::ModifyPrimaryKey { from, to } => {
                drops.push(drop_constraint(&render::pk_constraint_name(table, from)));
                adds.push(format!("ADD {}", render::primary_key(table, to)));
            }
            TableChange::AddForeignKey { fk } => {
                adds.push(format!("ADD {}", render::foreign_key(fk)))
            }
            TableChange::DropForeignKey { fk } => drops.push(drop_constraint(&fk.name)),
            TableChange::ModifyForeignKey { from, to, .. } => {
                drops.push(drop_constraint(&from.name));
                adds.push(format!("ADD {}", render::foreign_key(to)));
            }
            TableChange::AddCheck { check } => adds.push(format!("ADD {}", render::check(check))),
            TableChange::DropCheck { check } => {
                if let Some(n) = &check.name {
                    drops.push(drop_constraint(n));
                }
            }
            TableChange::ModifyCheck { from, to, .. } => {
                if let Some(n) = &from.name {
                    drops.push(drop_constraint(n));
                }
                adds.push(format!("ADD {}", render::check(to)));
            }
            _ => {}
        }
    }
    drops.extend(drop_cols);
    drops.extend(adds_cols);
    drops.extend(alters);
    drops.extend(adds);
    (drops, lost)
}

fn modify_table(
    p: &mut Plan,
    s: &str,
    from: &Table,
    to: &Table,
    changes: &[TableChange],
    serial: &Serials,
    ci: ConcurrentIndex,
) {
    let t = &to.name;
    for c in changes {
        match c {
            TableChange::DropIndex { index } if !index.constraint => {
                p.statements.push(drop_index(s, t, index, ci))
            }
            TableChange::ModifyIndex { from, what, .. }
                if *what != ChangeKind::COMMENT && !from.constraint =>
            {
                p.statements.push(drop_index(s, t, from, ci))
            }
            _ => {}
        }
    }
    let (clauses, lost) = alter_clauses(s, t, changes, serial);
    if !clauses.is_empty() {
        let back = diff_table(D, to, from, &DiffOptions::default());
        let no_serials = Serials {
            columns: HashMap::new(),
            sequences: HashSet::new(),
        };
        let (reverse, _) = alter_clauses(s, &from.name, &back, &no_serials);
        let mut st = Statement::new(
            format!("ALTER TABLE {} {}", qualified(s, t), clauses.join(", ")),
            format!("modify {t:?} table"),
            (!reverse.is_empty()).then(|| {
                format!(
                    "ALTER TABLE {} {}",
                    qualified(s, &from.name),
                    reverse.join(", ")
                )
            }),
        );
        for c in lost {
            st.destructive.push(Loss::Column {
                schema: s.to_string(),
                table: t.clone(),
                name: c,
            });
        }
        p.statements.push(st);
    }
    for c in changes {
        match c {
            TableChange::AddIndex { index } => {
                if !is_constraint(index) {
                    push_index(p, s, t, index, ci);
                } else if let Some(text) = &index.comment {
                    p.statements
                        .push(index_comment(s, t, &index.name, None, Some(text)));
                }
            }
            TableChange::ModifyIndex {
                from: a,
                to: b,
                what,
            } => {
                if *what == ChangeKind::COMMENT {
                    p.statements.push(index_comment(
                        s,
                        t,
                        &b.name,
                        a.comment.as_deref(),
                        b.comment.as_deref(),
                    ));
                } else if !is_constraint(b) {
                    push_index(p, s, t, b, ci);
                } else if let Some(text) = &b.comment {
                    p.statements
                        .push(index_comment(s, t, &b.name, None, Some(text)));
                }
            }
            TableChange::AddColumn { column } => {
                if let Some(text) = &column.comment {
                    p.statements
                        .push(column_comment(s, t, &column.name, None, Some(text)));
                }
            }
            TableChange::ModifyColumn {
                from: a,
                to: b,
                what,
            } => {
                let recreated = what.contains(ChangeKind::GENERATED) && b.generated.is_some();
                if what.contains(ChangeKind::COMMENT) || (recreated && b.comment.is_some()) {
                    p.statements.push(column_comment(
                        s,
                        t,
                        &b.name,
                        a.comment.as_deref(),
                        b.comment.as_deref(),
                    ));
                }
            }
            TableChange::ModifyComment { from: a, to: b } => {
                p.statements
                    .push(table_comment(s, t, a.as_deref(), b.as_deref()))
            }
            _ => {}
        }
    }
}

/// Drops tables children first; foreign keys between dropped tables that would block a drop (cycles) go
/// first.
fn drop_tables(p: &mut Plan, tables: &[(&str, &Table)]) {
    let mut order = order_tables(tables.to_vec());
    order.reverse();
    let rank: HashMap<Key, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (s, t))| (key(s, &t.name), i))
        .collect();
    for (i, (s, t)) in order.iter().enumerate() {
        for f in &t.foreign_keys {
            // A key to a table dropped before this one would block that drop.
            if let Some(&j) = rank.get(&key(&f.ref_schema, &f.ref_table))
                && j < i
            {
                p.statements.push(Statement::new(
                    format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        qualified(s, &t.name),
                        ident(&f.name)
                    ),
                    format!("modify {:?} table", t.name),
                    Some(format!(
                        "ALTER TABLE {} ADD {}",
                        qualified(s, &t.name),
                        render::foreign_key(f)
                    )),
                ));
            }
        }
    }
    let none = |_: &Column| None;
    for (s, t) in order {
        let mut st = Statement::new(
            format!("DROP TABLE {}", qualified(s, &t.name)),
            format!("drop {:?} table", t.name),
            Some(create_table(s, t, none, |_| true, "")),
        );
        st.destructive.push(Loss::Table {
            schema: s.to_string(),
            name: t.name.clone(),
        });
        p.statements.push(st);
    }
}

#[cfg(test)]
mod tests;
