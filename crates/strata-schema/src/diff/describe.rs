//! One short English line per change, for people reading a status or an event: `table "users": column
//! "nickname" added`. Read as "going from the first realm of the diff to the second": a drift check diffs what
//! the database should hold against what it holds, so "added" is what someone added to the database.
//!
//! The one home of how a change is named in prose (the operator's `Drifted` condition, its events, the CLI).

use super::{Change, ChangeKind, Changes, Object, TableChange};

/// One line per change (a table's changes one line each), in the diff's order. A schema is named only when the
/// changes touch more than one, or when the change is about the schema itself.
pub fn describe(changes: &Changes) -> Vec<String> {
    let mut schemas: Vec<&str> = changes.changes.iter().map(schema_of).collect();
    schemas.sort_unstable();
    schemas.dedup();
    let qualify = schemas.len() > 1;
    let name = |schema: &str, kind: &str, n: &str| {
        if qualify && !schema.is_empty() {
            format!("{kind} \"{schema}\".\"{n}\"")
        } else {
            format!("{kind} \"{n}\"")
        }
    };
    let mut out = Vec::new();
    for c in &changes.changes {
        match c {
            Change::AddSchema { schema } => out.push(format!("schema \"{}\" added", schema.name)),
            Change::DropSchema { schema } => {
                out.push(format!("schema \"{}\" dropped", schema.name))
            }
            Change::ModifySchema { to, what, .. } => {
                out.push(format!("schema \"{}\" changed{}", to.name, kinds(*what)))
            }
            Change::AddTable { schema, table } => {
                out.push(format!("{} added", name(schema, "table", &table.name)))
            }
            Change::DropTable { schema, table } => {
                out.push(format!("{} dropped", name(schema, "table", &table.name)))
            }
            Change::ModifyTable {
                schema,
                to,
                changes,
                ..
            } => {
                let t = name(schema, "table", &to.name);
                for tc in changes {
                    out.push(format!("{t}: {}", table_change(tc)));
                }
            }
            Change::AddObject { schema, object } => {
                out.push(format!("{} added", object_name(&name, schema, object)))
            }
            Change::DropObject { schema, object } => {
                out.push(format!("{} dropped", object_name(&name, schema, object)))
            }
            Change::ModifyObject { schema, to, .. } => {
                out.push(format!("{} changed", object_name(&name, schema, to)))
            }
            Change::AddEnumValues {
                schema, to, values, ..
            } => {
                let labels: Vec<String> =
                    values.iter().map(|v| format!("\"{}\"", v.value)).collect();
                out.push(format!(
                    "{}: {} {} added",
                    name(schema, "enum", &to.name),
                    if labels.len() == 1 { "value" } else { "values" },
                    labels.join(", ")
                ))
            }
        }
    }
    out
}

fn schema_of(c: &Change) -> &str {
    match c {
        Change::AddSchema { schema } => &schema.name,
        Change::DropSchema { schema } => &schema.name,
        Change::ModifySchema { to, .. } => &to.name,
        Change::AddTable { schema, .. }
        | Change::DropTable { schema, .. }
        | Change::ModifyTable { schema, .. }
        | Change::AddObject { schema, .. }
        | Change::DropObject { schema, .. }
        | Change::ModifyObject { schema, .. }
        | Change::AddEnumValues { schema, .. } => schema,
    }
}

fn object_name(name: &impl Fn(&str, &str, &str) -> String, schema: &str, o: &Object) -> String {
    let kind = match o {
        Object::View(_) => "view",
        Object::MaterializedView(_) => "materialized view",
        Object::Enum(_) => "enum",
        Object::Sequence(_) => "sequence",
        Object::Function(_) => "function",
        Object::Trigger(_) => "trigger",
        Object::Extension(_) => "extension",
    };
    name(schema, kind, o.name())
}

/// ` (type, null)`: what changed, in the flags' names; empty when nothing is named.
fn kinds(what: ChangeKind) -> String {
    let names = what.names();
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

fn table_change(tc: &TableChange) -> String {
    let index = |n: &str| format!("index \"{n}\"");
    let fk = |n: &str| format!("foreign key \"{n}\"");
    let check = |n: &Option<String>, expr: &str| match n {
        Some(n) => format!("check \"{n}\""),
        None => format!("check ({expr})"),
    };
    match tc {
        TableChange::AddColumn { column } => format!("column \"{}\" added", column.name),
        TableChange::DropColumn { column } => format!("column \"{}\" dropped", column.name),
        TableChange::ModifyColumn { to, what, .. } => {
            format!("column \"{}\" changed{}", to.name, kinds(*what))
        }
        TableChange::AddIndex { index: i } => format!("{} added", index(&i.name)),
        TableChange::DropIndex { index: i } => format!("{} dropped", index(&i.name)),
        TableChange::ModifyIndex { to, what, .. } => {
            format!("{} changed{}", index(&to.name), kinds(*what))
        }
        TableChange::AddPrimaryKey { .. } => "primary key added".into(),
        TableChange::DropPrimaryKey { .. } => "primary key dropped".into(),
        TableChange::ModifyPrimaryKey { .. } => "primary key changed".into(),
        TableChange::AddForeignKey { fk: f } => format!("{} added", fk(&f.name)),
        TableChange::DropForeignKey { fk: f } => format!("{} dropped", fk(&f.name)),
        TableChange::ModifyForeignKey { to, what, .. } => {
            format!("{} changed{}", fk(&to.name), kinds(*what))
        }
        TableChange::AddCheck { check: c } => format!("{} added", check(&c.name, &c.expr)),
        TableChange::DropCheck { check: c } => format!("{} dropped", check(&c.name, &c.expr)),
        TableChange::ModifyCheck { to, what, .. } => {
            format!("{} changed{}", check(&to.name, &to.expr), kinds(*what))
        }
        TableChange::ModifyComment { .. } => "comment changed".into(),
        TableChange::ModifyOptions { .. } => "options changed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{DiffOptions, diff};
    use crate::model::*;
    use crate::types::ColumnType;
    use strata_migrate::Dialect;

    fn realm(schemas: &[(&str, Vec<Table>)], d: Dialect) -> Realm {
        let mut r = Realm::new(d);
        for (n, tables) in schemas {
            let mut s = Schema::new(*n);
            s.tables = tables.clone();
            r.schemas.push(s);
        }
        r.sort();
        r
    }

    fn users(extra: &[&str]) -> Table {
        let d = Dialect::Postgres;
        let mut t = Table::new("users");
        t.columns = vec![Column::new("id", ColumnType::parse(d, "integer"))];
        for c in extra {
            t.columns.push(Column {
                nullable: true,
                ..Column::new(*c, ColumnType::parse(d, "text"))
            });
        }
        t
    }

    #[test]
    fn a_column_added_by_hand_is_one_line_naming_table_and_column() {
        let d = Dialect::Postgres;
        let expected = realm(&[("public", vec![users(&[])])], d);
        let actual = realm(&[("public", vec![users(&["nickname"])])], d);
        let c = diff(&expected, &actual, &DiffOptions::default()).unwrap();
        assert_eq!(
            describe(&c),
            vec![r#"table "users": column "nickname" added"#]
        );
    }

    #[test]
    fn every_kind_of_line() {
        let d = Dialect::Postgres;
        let mut changed = users(&["bio"]);
        changed.columns[1].ty = ColumnType::parse(d, "varchar(10)");
        changed.columns[1].nullable = false;
        changed.indexes.push(Index::on("users_bio", ["bio"]));
        changed.checks.push(Check::new(None, "id > 0"));
        let mut orders = Table::new("orders");
        orders.columns = vec![Column::new("id", ColumnType::parse(d, "integer"))];
        let expected = realm(&[("public", vec![users(&["bio"]), orders])], d);
        let mut actual = realm(&[("public", vec![changed]), ("audit", vec![users(&[])])], d);
        actual.schemas.iter_mut().for_each(|s| {
            if s.name == "public" {
                s.views.push(View {
                    name: "v".into(),
                    definition: "SELECT 1".into(),
                    check_option: None,
                    comment: None,
                })
            }
        });
        let c = diff(&expected, &actual, &DiffOptions::default()).unwrap();
        insta::assert_snapshot!(describe(&c).join("\n"));
    }
}
