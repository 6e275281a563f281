//! Helpers the statement rules share: the `ALTER TABLE` operations of an existing table, column types read with
//! the schema model's type parser, function calls in expressions.

use sqlparser::ast::{
    AlterTableOperation, DataType, Expr, FunctionArguments, ObjectName, Statement,
};
use strata_migrate::Dialect;
use strata_schema::ColumnType;

use crate::check::StmtCx;
use crate::names::{self, TableKey};

/// The table and operations of an `ALTER TABLE` on a table that existed before the file.
pub(crate) fn alter_existing<'a>(
    cx: &'a StmtCx<'_>,
) -> Option<(TableKey, &'a ObjectName, &'a [AlterTableOperation])> {
    let Some(Statement::AlterTable(at)) = cx.ast() else {
        return None;
    };
    let t = names::table(cx.dialect(), &at.name);
    (!cx.is_new(&t)).then_some((t, &at.name, at.operations.as_slice()))
}

/// A column type as the schema model reads it.
pub(crate) fn column_type(d: Dialect, dt: &DataType) -> ColumnType {
    // Built-in type names are case-insensitive; the model spells them in lower case (a custom type keeps its case).
    let text = match dt {
        DataType::Custom(..) => dt.to_string(),
        _ => dt.to_string().to_lowercase(),
    };
    ColumnType::parse(d, &text)
}

/// The lower-cased name of a type written as a single custom word (`serial`, `bigserial`).
pub(crate) fn custom_name(dt: &DataType) -> Option<String> {
    match dt {
        DataType::Custom(n, m) if m.is_empty() => names::parts(Dialect::Postgres, n).pop(),
        _ => None,
    }
}

/// Whether the type is one of PostgreSQL's `serial` pseudo-types.
pub(crate) fn is_serial(dt: &DataType) -> bool {
    custom_name(dt).is_some_and(|n| {
        matches!(
            n.as_str(),
            "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
        )
    })
}

/// Functions whose value does not change from row to row within a statement (PostgreSQL evaluates them once when
/// it adds a column, so the default is stored in the catalog and no row is rewritten).
const NON_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "session_user",
    "current_role",
    "user",
    "current_schema",
    "lower",
    "upper",
    "coalesce",
    "to_jsonb",
    "jsonb_build_object",
    "json_build_object",
    "array",
];

/// Whether `e` calls a function outside [`NON_VOLATILE`] (anywhere inside it).
pub(crate) fn calls_volatile(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => {
            let name = names::parts(Dialect::Postgres, &f.name)
                .pop()
                .unwrap_or_default();
            if !NON_VOLATILE.contains(&name.as_str()) {
                return true;
            }
            match &f.args {
                FunctionArguments::List(l) => l.args.iter().any(|a| match a {
                    sqlparser::ast::FunctionArg::Unnamed(
                        sqlparser::ast::FunctionArgExpr::Expr(e),
                    )
                    | sqlparser::ast::FunctionArg::Named {
                        arg: sqlparser::ast::FunctionArgExpr::Expr(e),
                        ..
                    } => calls_volatile(e),
                    _ => false,
                }),
                _ => false,
            }
        }
        Expr::Cast { expr, .. } | Expr::Nested(expr) | Expr::UnaryOp { expr, .. } => {
            calls_volatile(expr)
        }
        Expr::BinaryOp { left, right, .. } => calls_volatile(left) || calls_volatile(right),
        Expr::Subquery(_) => true,
        _ => false,
    }
}

/// The columns a `CREATE TABLE` or `ALTER TABLE … ADD COLUMN` declares, with their table's name.
pub(crate) fn new_columns<'a>(cx: &'a StmtCx<'_>) -> Vec<(String, &'a sqlparser::ast::ColumnDef)> {
    let d = cx.dialect();
    match cx.ast() {
        Some(Statement::CreateTable(ct)) => {
            let t = names::last(d, &ct.name);
            ct.columns.iter().map(|c| (t.clone(), c)).collect()
        }
        Some(Statement::AlterTable(at)) => {
            let t = names::last(d, &at.name);
            at.operations
                .iter()
                .filter_map(|op| match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        Some((t.clone(), column_def))
                    }
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}
