//! PG301: changing a column's type on an existing table rewrites the table under an exclusive lock (unless the
//! schema before the file shows a change PostgreSQL makes in place: a longer or unlimited `varchar`, `varchar` to
//! `text`).

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};
use strata_schema::{StringVariant, TypeKind};

use super::q;
use super::sql::{alter_existing, column_type};
use crate::check::{Hit, StmtCx};
use crate::names;
use crate::rule::{Analyzer, Check, Level, POSTGRES, Rule};

pub(crate) static RULE: Rule = Rule {
    code: "PG301",
    name: "changing-column-type",
    analyzer: Analyzer::Rewrite,
    summary: "A column type change rewrites an existing table and its indexes, blocking reads and writes",
    default_level: Level::Warning,
    dialects: POSTGRES,
    check: Check::Statement(check),
};

/// Whether PostgreSQL changes `from` into `to` without touching the rows.
fn in_place(from: &TypeKind, to: &TypeKind) -> bool {
    match (from, to) {
        (
            TypeKind::String {
                variant: StringVariant::Varchar,
                length: a,
            },
            TypeKind::String {
                variant: v @ (StringVariant::Varchar | StringVariant::Text),
                length: b,
            },
        ) => *v == StringVariant::Text || b.is_none() || a.zip(*b).is_some_and(|(a, b)| b >= a),
        _ => false,
    }
}

fn check(cx: &StmtCx<'_>, out: &mut Vec<Hit>) {
    let Some((t, _, ops)) = alter_existing(cx) else {
        return;
    };
    let d = cx.dialect();
    for op in ops {
        let AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetDataType { data_type, .. },
        } = op
        else {
            continue;
        };
        let col = names::ident(d, column_name);
        let new = column_type(d, data_type);
        if let Some(old) = cx.model_column(&t, &col)
            && in_place(&old.ty.kind, &new.kind)
        {
            continue;
        }
        out.push(
            Hit::new(format!(
                "Changing the type of column {} on table {} rewrites the table while blocking reads and writes",
                q(&col),
                q(&t.name)
            ))
            .fix("Add a column of the new type, backfill it in batches, then switch readers and writers to it"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_migrate::Dialect;
    use strata_schema::ColumnType;

    #[test]
    fn widening_a_varchar_is_in_place() {
        let k = |s: &str| ColumnType::parse(Dialect::Postgres, s).kind;
        assert!(in_place(
            &k("character varying(10)"),
            &k("character varying(20)")
        ));
        assert!(in_place(&k("character varying(10)"), &k("text")));
        assert!(!in_place(
            &k("character varying(20)"),
            &k("character varying(10)")
        ));
        assert!(!in_place(&k("integer"), &k("bigint")));
    }
}
