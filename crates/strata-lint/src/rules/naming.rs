//! What the naming rules share: the names a statement declares, by kind, and the check against the configured
//! pattern.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, RenameTableNameKind, SchemaName, Statement, TableConstraint,
};

use super::q;
use crate::check::{Hit, StmtCx};
use crate::config::NameKind;
use crate::names;

fn constraint_name(c: &TableConstraint) -> Option<(NameKind, &sqlparser::ast::Ident)> {
    match c {
        TableConstraint::ForeignKey(fk) => fk.name.as_ref().map(|n| (NameKind::ForeignKey, n)),
        TableConstraint::Check(ck) => ck.name.as_ref().map(|n| (NameKind::Check, n)),
        TableConstraint::Unique(u) => u.name.as_ref().map(|n| (NameKind::Index, n)),
        TableConstraint::PrimaryKey(p) => p.name.as_ref().map(|n| (NameKind::Index, n)),
        _ => None,
    }
}

/// The names a statement gives to new (or renamed) objects, in the dialect's stored form.
pub(crate) fn declared_names(cx: &StmtCx<'_>) -> Vec<(NameKind, String)> {
    let d = cx.dialect();
    let mut out = Vec::new();
    match cx.ast() {
        Some(Statement::CreateSchema {
            schema_name: SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _),
            ..
        }) => out.push((NameKind::Schema, names::last(d, n))),
        Some(Statement::CreateTable(ct)) => {
            out.push((NameKind::Table, names::last(d, &ct.name)));
            for c in &ct.columns {
                out.push((NameKind::Column, names::ident(d, &c.name)));
                for o in &c.options {
                    if let Some(n) = &o.name
                        && let ColumnOption::ForeignKey(_) = o.option
                    {
                        out.push((NameKind::ForeignKey, names::ident(d, n)));
                    }
                }
            }
            for c in &ct.constraints {
                if let Some((k, n)) = constraint_name(c) {
                    out.push((k, names::ident(d, n)));
                }
            }
        }
        Some(Statement::CreateIndex(ci)) => {
            if let Some(n) = &ci.name {
                out.push((NameKind::Index, names::last(d, n)));
            }
        }
        Some(Statement::AlterTable(at)) => {
            for op in &at.operations {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        out.push((NameKind::Column, names::ident(d, &column_def.name)))
                    }
                    AlterTableOperation::AddConstraint { constraint, .. } => {
                        if let Some((k, n)) = constraint_name(constraint) {
                            out.push((k, names::ident(d, n)));
                        }
                    }
                    AlterTableOperation::RenameColumn {
                        new_column_name, ..
                    } => out.push((NameKind::Column, names::ident(d, new_column_name))),
                    AlterTableOperation::RenameTable {
                        table_name: RenameTableNameKind::As(n) | RenameTableNameKind::To(n),
                    } => out.push((NameKind::Table, names::last(d, n))),
                    _ => {}
                }
            }
        }
        Some(Statement::RenameTable(list)) => {
            for r in list {
                out.push((NameKind::Table, names::last(d, &r.new_name)));
            }
        }
        _ => {}
    }
    out
}

/// Reports the names of `kind` the statement declares that break the configured pattern.
pub(crate) fn check_kind(cx: &StmtCx<'_>, kind: NameKind, out: &mut Vec<Hit>) {
    let Some(p) = cx.config.naming.get(&kind) else {
        return;
    };
    for (k, name) in declared_names(cx) {
        if k != kind || p.pattern.is_match(&name) {
            continue;
        }
        let why = p
            .message
            .clone()
            .unwrap_or_else(|| format!("must match {}", q(p.pattern.as_str())));
        let word = kind.word();
        let mut first = word.chars();
        let title: String = first
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .chain(first)
            .collect();
        out.push(
            Hit::new(format!("{title} name {} {why}", q(&name))).fix(format!(
                "Rename {word} {} to a name that matches {}",
                q(&name),
                q(p.pattern.as_str())
            )),
        );
    }
}
