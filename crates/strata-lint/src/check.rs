//! Runs the rules over a file: statement rules over each parsed statement (knowing what the statements before it
//! did), change rules over the schema changes each statement made on the dev database (when a replay provides
//! them), `atlas:nolint` and the configured levels applied.

use std::collections::HashSet;

use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, ObjectType, RenameTableNameKind, Statement, TableFactor,
};
use strata_migrate::Dialect;
use strata_schema::{Change, Changes, Realm, TableChange};

use crate::config::Config;
use crate::names::{self, TableKey};
use crate::report::Finding;
use crate::rule::{Check, Level, Rule, Severity};
use crate::rules;
use crate::source::{OtherStatement, Parsed, SourceFile, SqlStatement};
use crate::state::FileState;

/// What a rule reports: the message and, when it knows one, the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The finding's text.
    pub message: String,
    /// The suggested fix.
    pub fix: Option<String>,
}

impl Hit {
    /// A finding without a fix.
    pub fn new(message: impl Into<String>) -> Hit {
        Hit {
            message: message.into(),
            fix: None,
        }
    }

    /// Adds a fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Hit {
        self.fix = Some(fix.into());
        self
    }
}

/// What a statement rule sees.
pub struct StmtCx<'a> {
    /// The file.
    pub file: &'a SourceFile,
    /// The statement.
    pub stmt: &'a SqlStatement,
    /// The statement as parsed.
    pub parsed: &'a Parsed,
    /// What the statements before it did.
    pub state: &'a FileState,
    /// The settings (naming patterns).
    pub config: &'a Config,
    /// The schema before the file, when known (`migrate lint`).
    pub before: Option<&'a Realm>,
}

impl StmtCx<'_> {
    /// The file's dialect.
    pub fn dialect(&self) -> Dialect {
        self.file.dialect
    }

    /// The statement's syntax tree.
    pub fn ast(&self) -> Option<&Statement> {
        self.parsed.ast()
    }

    /// Whether `t` was created earlier in the file (changing it locks nobody out).
    pub fn is_new(&self, t: &TableKey) -> bool {
        self.state.is_new(t)
    }

    /// Whether the statement runs inside a transaction: the file's own (txmode file, the default) or an explicit
    /// `BEGIN`.
    pub fn in_transaction(&self) -> bool {
        self.file.runs_in_transaction() || self.state.explicit_transaction
    }

    /// The column `column` of table `t` in the schema before the file, when known.
    pub fn model_column(&self, t: &TableKey, column: &str) -> Option<&strata_schema::Column> {
        let realm = self.before?;
        realm
            .schemas
            .iter()
            .filter(|s| t.schema.as_ref().is_none_or(|n| *n == s.name))
            .find_map(|s| s.table(&t.name))
            .and_then(|tb| tb.columns.iter().find(|c| c.name == column))
    }
}

/// What a change rule sees.
pub struct ChangeCx<'a> {
    /// The file.
    pub file: &'a SourceFile,
    /// The statement that made the change.
    pub stmt: &'a SqlStatement,
    /// The change (renames the statement spells out already taken out).
    pub change: &'a Change,
    /// Tables added by earlier statements of the file, as `(schema, table)`.
    pub created: &'a HashSet<(String, String)>,
    /// Columns an `UPDATE` in the file assigns, as `(table, column)`.
    pub backfilled: &'a HashSet<(String, String)>,
}

impl ChangeCx<'_> {
    /// The file's dialect.
    pub fn dialect(&self) -> Dialect {
        self.file.dialect
    }

    /// Whether table `table` of `schema` was created earlier in the file.
    pub fn is_new(&self, schema: &str, table: &str) -> bool {
        self.created
            .contains(&(schema.to_owned(), table.to_owned()))
    }

    /// Whether an `UPDATE` in the file assigns `column` of `table`.
    pub fn is_backfilled(&self, table: &str, column: &str) -> bool {
        self.backfilled
            .contains(&(table.to_owned(), column.to_owned()))
    }
}

/// What a lint run reads besides the file.
#[derive(Debug, Default, Clone, Copy)]
pub struct Input<'a> {
    /// The schema before the file (known when a replay ran).
    pub before: Option<&'a Realm>,
    /// Per statement (same index as [`SourceFile::statements`]), the changes it made on the dev database. Without
    /// them the change rules do not run.
    pub changes: Option<&'a [Changes]>,
}

fn muted(rule: &Rule, list: &[String]) -> bool {
    list.is_empty()
        || list
            .iter()
            .any(|n| n == rule.code || n == rule.name || n == rule.analyzer.name())
}

fn is_muted(rule: &Rule, file: &SourceFile, stmt: &SqlStatement) -> bool {
    file.nolint
        .as_ref()
        .is_some_and(|l| !l.is_empty() && muted(rule, l))
        || stmt.nolint.as_ref().is_some_and(|l| muted(rule, l))
}

/// Lints one file. A file whose header says `-- atlas:nolint` (no names) has no findings.
pub fn lint(file: &SourceFile, input: &Input<'_>, config: &Config) -> Vec<Finding> {
    if file.nolint.as_ref().is_some_and(Vec::is_empty) {
        return Vec::new();
    }
    let active: Vec<(&'static Rule, Severity)> = rules::ALL
        .iter()
        .copied()
        .filter(|r| r.applies_to(file.dialect))
        .filter_map(|r| match config.level(r) {
            Level::Off => None,
            Level::Warning => Some((r, Severity::Warning)),
            Level::Error => Some((r, Severity::Error)),
        })
        .collect();
    let mut out = Vec::new();
    let mut state = FileState::default();
    let mut hits = Vec::new();
    // What the change rules need from the trees, kept while each tree is dropped after its statement.
    let mut facts = Facts::default();
    for stmt in &file.statements {
        let parsed = stmt.parse(file.dialect);
        let cx = StmtCx {
            file,
            stmt,
            parsed: &parsed,
            state: &state,
            config,
            before: input.before,
        };
        for &(rule, severity) in &active {
            let Check::Statement(check) = rule.check else {
                continue;
            };
            if is_muted(rule, file, stmt) {
                continue;
            }
            check(&cx, &mut hits);
            push(&mut out, file, stmt, rule, severity, &mut hits);
        }
        let existing = touches_existing_table(&cx);
        if input.changes.is_some() {
            facts.observe(file.dialect, &parsed);
        }
        state.observe(file.dialect, &parsed, existing);
    }
    if let Some(changes) = input.changes {
        lint_changes(file, changes, &facts, &active, &mut out);
        // Statement findings are in file order already; the change findings join them.
        out.sort_by_key(|f| f.pos);
    }
    out
}

/// Per statement, the renames it spells out; for the file, the columns an `UPDATE` assigns.
#[derive(Debug, Default)]
struct Facts {
    renames: Vec<Renames>,
    backfilled: HashSet<(String, String)>,
}

impl Facts {
    fn observe(&mut self, d: Dialect, parsed: &Parsed) {
        self.renames.push(renames(d, parsed));
        if let Some(Statement::Update(u)) = parsed.ast()
            && let TableFactor::Table { name, .. } = &u.table.relation
        {
            let t = names::last(d, name);
            for a in &u.assignments {
                let cols: Vec<&sqlparser::ast::ObjectName> = match &a.target {
                    AssignmentTarget::ColumnName(n) => vec![n],
                    AssignmentTarget::Tuple(v) => v.iter().collect(),
                };
                for c in cols {
                    self.backfilled.insert((t.clone(), names::last(d, c)));
                }
            }
        }
    }
}

fn push(
    out: &mut Vec<Finding>,
    file: &SourceFile,
    stmt: &SqlStatement,
    rule: &'static Rule,
    severity: Severity,
    hits: &mut Vec<Hit>,
) {
    for h in hits.drain(..) {
        out.push(Finding {
            file: file.name.clone(),
            line: stmt.line,
            pos: stmt.pos,
            code: rule.code,
            name: rule.name,
            analyzer: rule.analyzer,
            severity,
            message: h.message,
            fix: h.fix,
        });
    }
}

fn lint_changes(
    file: &SourceFile,
    changes: &[Changes],
    facts: &Facts,
    active: &[(&'static Rule, Severity)],
    out: &mut Vec<Finding>,
) {
    let backfilled = &facts.backfilled;
    let mut created = HashSet::new();
    let mut hits = Vec::new();
    let mut steps: Vec<Vec<Change>> = facts
        .renames
        .iter()
        .zip(changes)
        .map(|(r, step)| fold_renames(r, &step.changes))
        .collect();
    if file.dialect == Dialect::Sqlite {
        fold_table_copies(file.dialect, &facts.renames, changes, &mut steps);
    }
    for ((stmt, step), folded) in file.statements.iter().zip(changes).zip(&steps) {
        for change in folded {
            let cx = ChangeCx {
                file,
                stmt,
                change,
                created: &created,
                backfilled,
            };
            for &(rule, severity) in active {
                let Check::Change(check) = rule.check else {
                    continue;
                };
                if is_muted(rule, file, stmt) {
                    continue;
                }
                check(&cx, &mut hits);
                push(out, file, stmt, rule, severity, &mut hits);
            }
        }
        for change in &step.changes {
            if let Change::AddTable { schema, table } = change {
                created.insert((schema.clone(), table.name.clone()));
            }
        }
    }
}

/// The number of schema changes a replay found (what the text report's footer counts).
pub fn change_count(changes: &[Changes]) -> usize {
    changes.iter().map(|c| c.changes.len()).sum()
}

/// Renames a statement spells out: `(from, to)` for the table, and per table `(from, to)` for columns.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Renames {
    /// Tables renamed: `(table before, table after)`.
    pub tables: Vec<(String, String)>,
    /// Columns renamed: `(table, column before, column after)`.
    pub columns: Vec<(String, String, String)>,
}

/// The renames in a statement (`ALTER TABLE … RENAME [COLUMN] …`, MySQL `RENAME TABLE` and `CHANGE COLUMN`).
pub fn renames(d: Dialect, parsed: &Parsed) -> Renames {
    let mut r = Renames::default();
    match parsed.ast() {
        Some(Statement::AlterTable(at)) => {
            let t = names::last(d, &at.name);
            for op in &at.operations {
                match op {
                    AlterTableOperation::RenameTable { table_name } => {
                        let (RenameTableNameKind::As(n) | RenameTableNameKind::To(n)) = table_name;
                        r.tables.push((t.clone(), names::last(d, n)));
                    }
                    AlterTableOperation::RenameColumn {
                        old_column_name,
                        new_column_name,
                    } => r.columns.push((
                        t.clone(),
                        names::ident(d, old_column_name),
                        names::ident(d, new_column_name),
                    )),
                    AlterTableOperation::ChangeColumn {
                        old_name, new_name, ..
                    } if names::ident(d, old_name) != names::ident(d, new_name) => {
                        r.columns.push((
                            t.clone(),
                            names::ident(d, old_name),
                            names::ident(d, new_name),
                        ))
                    }
                    _ => {}
                }
            }
        }
        Some(Statement::RenameTable(list)) => {
            for rt in list {
                r.tables
                    .push((names::last(d, &rt.old_name), names::last(d, &rt.new_name)));
            }
        }
        _ => {}
    }
    r
}

/// The changes with the renames the statement spells out taken out: a rename shows in a diff as a drop and an
/// add, which the rename rules (BC101, BC102) report instead.
fn fold_renames(r: &Renames, changes: &[Change]) -> Vec<Change> {
    if *r == Renames::default() {
        return changes.to_vec();
    }
    let renamed_table = |name: &str, from_side: bool| {
        r.tables
            .iter()
            .any(|(a, b)| if from_side { a == name } else { b == name })
    };
    changes
        .iter()
        .filter(|c| match c {
            Change::DropTable { table, .. } => !renamed_table(&table.name, true),
            Change::AddTable { table, .. } => !renamed_table(&table.name, false),
            _ => true,
        })
        .map(|c| match c {
            Change::ModifyTable {
                schema,
                from,
                to,
                changes,
            } => Change::ModifyTable {
                schema: schema.clone(),
                from: from.clone(),
                to: to.clone(),
                changes: changes
                    .iter()
                    .filter(|tc| {
                        let hit = |col: &str, old: bool| {
                            r.columns.iter().any(|(t, a, b)| {
                                (t == &to.name || t == &from.name)
                                    && if old { a == col } else { b == col }
                            })
                        };
                        match tc {
                            TableChange::DropColumn { column } => !hit(&column.name, true),
                            TableChange::AddColumn { column } => !hit(&column.name, false),
                            _ => true,
                        }
                    })
                    .cloned()
                    .collect(),
            },
            other => other.clone(),
        })
        .filter(|c| !matches!(c, Change::ModifyTable { changes, .. } if changes.is_empty()))
        .collect()
}

/// SQLite changes a table by copying it: `CREATE TABLE new_t …`, `INSERT INTO new_t SELECT … FROM t`, `DROP TABLE
/// t`, `ALTER TABLE new_t RENAME TO t`. The drop and the rename are taken out and the sequence becomes one change
/// of `t` (from the table dropped to the table renamed into its place), reported at the `CREATE TABLE`, as Atlas
/// folds it.
fn fold_table_copies(
    d: Dialect,
    renames: &[Renames],
    changes: &[Changes],
    steps: &mut [Vec<Change>],
) {
    for (r, spelled) in renames.iter().enumerate().take(steps.len()) {
        for (copy, target) in spelled.tables.iter().cloned() {
            let Some(created_at) = (0..r).find(|&c| {
                changes[c]
                    .changes
                    .iter()
                    .any(|ch| matches!(ch, Change::AddTable { table, .. } if table.name == copy))
            }) else {
                continue;
            };
            let Some((dropped_at, i)) = (created_at + 1..r).find_map(|k| {
                steps[k]
                    .iter()
                    .position(
                        |ch| matches!(ch, Change::DropTable { table, .. } if table.name == target),
                    )
                    .map(|i| (k, i))
            }) else {
                continue;
            };
            let Some(to) = changes[r].changes.iter().find_map(|ch| match ch {
                Change::AddTable { table, .. } if table.name == target => Some(table.clone()),
                _ => None,
            }) else {
                continue;
            };
            let Change::DropTable {
                schema,
                table: from,
            } = steps[dropped_at].remove(i)
            else {
                continue;
            };
            let diff = strata_schema::diff::diff_table(d, &from, &to, &Default::default());
            if !diff.is_empty() {
                steps[created_at].push(Change::ModifyTable {
                    schema,
                    from,
                    to,
                    changes: diff,
                });
            }
        }
    }
}

/// The table a statement changes in a way that takes a lock on it, when that table existed before the file
/// (the timeout rules care about those).
pub fn touches_existing_table(cx: &StmtCx<'_>) -> bool {
    let d = cx.dialect();
    match cx.parsed {
        Parsed::Ast(Statement::AlterTable(at)) => !cx.is_new(&names::table(d, &at.name)),
        Parsed::Ast(Statement::CreateIndex(ci)) => !cx.is_new(&names::table(d, &ci.table_name)),
        Parsed::Ast(Statement::Drop {
            object_type: ObjectType::Table,
            names: list,
            ..
        }) => list.iter().any(|n| !cx.is_new(&names::table(d, n))),
        Parsed::Ast(Statement::Drop {
            object_type: ObjectType::Index,
            names: list,
            ..
        }) => list
            .iter()
            .any(|n| !cx.state.is_new_index(&names::last(d, n))),
        Parsed::Ast(Statement::Truncate(_)) | Parsed::Ast(Statement::AlterType(_)) => true,
        Parsed::Other(OtherStatement::Cluster | OtherStatement::AlterDomainAddConstraint) => true,
        Parsed::Other(OtherStatement::Reindex { concurrently }) => !concurrently,
        _ => false,
    }
}
