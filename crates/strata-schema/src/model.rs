//! The schema model: [`Realm`] → [`Schema`]s → [`Table`]s and the other objects.
//!
//! Every list is kept in the order the database gives it: columns by position, everything else sorted by name
//! ([`Realm::sort`] restores that order after a model was built by hand). Optional and empty fields are left out
//! of the JSON form, so a model serialises to the same bytes whoever built it.

use serde::{Deserialize, Serialize};
use strata_migrate::Dialect;

use crate::types::ColumnType;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

/// `Dialect` as a lower-case string in JSON (`postgres`, `mysql`, `sqlite`).
pub(crate) mod dialect_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use strata_migrate::Dialect;

    /// The JSON name of a dialect.
    pub fn name(d: Dialect) -> &'static str {
        match d {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    pub fn serialize<S: Serializer>(d: &Dialect, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(name(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Dialect, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "postgres" => Ok(Dialect::Postgres),
            "mysql" => Ok(Dialect::Mysql),
            "sqlite" => Ok(Dialect::Sqlite),
            other => Err(serde::de::Error::custom(format!(
                "unknown dialect {other:?}: expected \"postgres\", \"mysql\" or \"sqlite\""
            ))),
        }
    }
}

/// Everything one connection sees: the schemas (SQLite: `main`) and the database-wide objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Realm {
    /// The dialect whose rules the names, types and expressions follow.
    #[serde(with = "dialect_serde")]
    pub dialect: Dialect,
    /// Schemas sorted by name.
    #[serde(default)]
    pub schemas: Vec<Schema>,
    /// PostgreSQL extensions, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

impl Realm {
    /// An empty realm.
    pub fn new(dialect: Dialect) -> Self {
        Realm {
            dialect,
            schemas: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// The schema named `name`.
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    /// The schema named `name`, mutable.
    pub fn schema_mut(&mut self, name: &str) -> Option<&mut Schema> {
        self.schemas.iter_mut().find(|s| s.name == name)
    }

    /// Puts every list in the model's order: by name, except columns (kept by position) and enum values.
    pub fn sort(&mut self) {
        self.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        self.extensions.sort_by(|a, b| a.name.cmp(&b.name));
        for s in &mut self.schemas {
            s.sort();
        }
    }

    /// Number of tables in every schema.
    pub fn table_count(&self) -> usize {
        self.schemas.iter().map(|s| s.tables.len()).sum()
    }
}

/// A schema (MySQL: a database; SQLite: an attached database, `main`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// The name as stored.
    pub name: String,
    /// Comment (PostgreSQL, MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Default character set (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// Default collation (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Tables sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<Table>,
    /// Views sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Materialized views (PostgreSQL) sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materialized_views: Vec<View>,
    /// Enum types (PostgreSQL) sorted by name. MySQL enums live in the column type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    /// Sequences sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// Functions and procedures sorted by name, then identity arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    /// Triggers sorted by table, then name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

impl Schema {
    /// An empty schema.
    pub fn new(name: impl Into<String>) -> Self {
        Schema {
            name: name.into(),
            ..Schema::default()
        }
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Puts every list in the model's order (see [`Realm::sort`]).
    pub fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        self.views.sort_by(|a, b| a.name.cmp(&b.name));
        self.materialized_views.sort_by(|a, b| a.name.cmp(&b.name));
        self.enums.sort_by(|a, b| a.name.cmp(&b.name));
        self.sequences.sort_by(|a, b| a.name.cmp(&b.name));
        self.functions
            .sort_by(|a, b| (&a.name, &a.args).cmp(&(&b.name, &b.args)));
        self.triggers
            .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        for t in &mut self.tables {
            t.sort();
        }
    }
}

/// A base table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    /// The name as stored.
    pub name: String,
    /// Columns by position.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// The primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Indexes (not the primary key's) sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Foreign keys sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints sorted by name (unnamed ones last, in declaration order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Comment (PostgreSQL, MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Dialect-specific table options.
    #[serde(default, skip_serializing_if = "TableOptions::is_default")]
    pub options: TableOptions,
}

impl Table {
    /// An empty table.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            ..Table::default()
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Puts indexes, foreign keys and named checks in name order; columns keep their positions.
    pub fn sort(&mut self) {
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        // Unnamed checks keep their relative order after the named ones (the sort is stable).
        self.checks.sort_by(|a, b| match (&a.name, &b.name) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
}

/// Table options that only some dialects have.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableOptions {
    /// MySQL storage engine (`InnoDB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// MySQL default character set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// MySQL default collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// MySQL `AUTO_INCREMENT` start, when set explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_increment: Option<u64>,
    /// SQLite `STRICT`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
    /// SQLite `WITHOUT ROWID`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_rowid: bool,
}

impl TableOptions {
    /// Whether no option is set.
    pub fn is_default(&self) -> bool {
        *self == TableOptions::default()
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The name as stored.
    pub name: String,
    /// The type: canonical spelling plus the parsed kind.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
    /// The default expression as the database spells it (`'a'::text`, `0`, `CURRENT_TIMESTAMP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `GENERATED … AS IDENTITY` (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// `AUTO_INCREMENT` (MySQL) / `AUTOINCREMENT` (SQLite, on the integer primary key).
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto_increment: bool,
    /// A generated column's expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Collation, when the database reports one for the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Character set (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// `ON UPDATE` expression (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// Comment (PostgreSQL, MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Column {
    /// A nullable column of type `ty` with nothing else set.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            identity: None,
            auto_increment: false,
            generated: None,
            collation: None,
            charset: None,
            on_update: None,
            comment: None,
        }
    }
}

/// An identity column's sequence options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `ALWAYS` (true) or `BY DEFAULT` (false).
    pub always: bool,
    /// First value.
    pub start: i64,
    /// Step.
    pub increment: i64,
}

/// A generated column's expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    /// The expression as the database spells it.
    pub expr: String,
    /// `STORED` (true) or `VIRTUAL` (false).
    pub stored: bool,
}

/// What an index part is over: a column or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKey {
    /// A column, by name.
    Column(String),
    /// An expression as the database spells it.
    Expr(String),
}

/// One part of an index or primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPart {
    /// The column or expression (`"column": "a"` or `"expr": "lower(a)"` in JSON).
    #[serde(flatten)]
    pub key: PartKey,
    /// Descending order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub desc: bool,
    /// Collation, when not the column's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Operator class (PostgreSQL), when not the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    /// Prefix length (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u32>,
}

impl IndexPart {
    /// An ascending part over a column.
    pub fn column(name: impl Into<String>) -> Self {
        IndexPart {
            key: PartKey::Column(name.into()),
            desc: false,
            collation: None,
            opclass: None,
            prefix: None,
        }
    }

    /// An ascending part over an expression.
    pub fn expr(expr: impl Into<String>) -> Self {
        IndexPart {
            key: PartKey::Expr(expr.into()),
            ..IndexPart::column("")
        }
    }

    /// The column name, when the part is a column.
    pub fn column_name(&self) -> Option<&str> {
        match &self.key {
            PartKey::Column(c) => Some(c),
            PartKey::Expr(_) => None,
        }
    }
}

/// The primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    /// Constraint name (PostgreSQL `t_pkey`; absent where the dialect has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Parts in key order.
    pub parts: Vec<IndexPart>,
}

impl PrimaryKey {
    /// An unnamed key over columns.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(cols: I) -> Self {
        PrimaryKey {
            name: None,
            parts: cols.into_iter().map(IndexPart::column).collect(),
        }
    }
}

/// An index (other than the primary key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The name as stored.
    pub name: String,
    /// `UNIQUE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Parts in key order.
    pub parts: Vec<IndexPart>,
    /// Access method / index type (`btree`, `gin`, `FULLTEXT`), when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Partial index predicate (`WHERE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// `INCLUDE` columns (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15+).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
    /// Whether the index backs a constraint declared in the table (PostgreSQL/SQLite `UNIQUE (…)`), rather than
    /// standing on its own (`CREATE INDEX`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub constraint: bool,
    /// Comment (PostgreSQL, MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Index {
    /// A plain index over columns.
    pub fn on<I: IntoIterator<Item = S>, S: Into<String>>(
        name: impl Into<String>,
        cols: I,
    ) -> Self {
        Index {
            name: name.into(),
            unique: false,
            parts: cols.into_iter().map(IndexPart::column).collect(),
            method: None,
            predicate: None,
            include: Vec::new(),
            nulls_not_distinct: false,
            constraint: false,
            comment: None,
        }
    }
}

/// A foreign key's referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FkAction {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl FkAction {
    /// The SQL spelling (`NO ACTION`).
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }

    /// Reads an SQL spelling, any case, spaces or underscores (`SET NULL`, `set_null`).
    pub fn parse(s: &str) -> Option<FkAction> {
        match s.trim().to_ascii_uppercase().replace('_', " ").as_str() {
            "NO ACTION" | "" | "NONE" => Some(FkAction::NoAction),
            "RESTRICT" => Some(FkAction::Restrict),
            "CASCADE" => Some(FkAction::Cascade),
            "SET NULL" => Some(FkAction::SetNull),
            "SET DEFAULT" => Some(FkAction::SetDefault),
            _ => None,
        }
    }

    fn is_default(&self) -> bool {
        *self == FkAction::NoAction
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name (SQLite's unnamed keys inspect as their position: `"0"`, `"1"`…).
    pub name: String,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Schema of the referenced table.
    pub ref_schema: String,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns, in the order of `columns`.
    pub ref_columns: Vec<String>,
    /// `ON UPDATE` action.
    #[serde(default, skip_serializing_if = "FkAction::is_default")]
    pub on_update: FkAction,
    /// `ON DELETE` action.
    #[serde(default, skip_serializing_if = "FkAction::is_default")]
    pub on_delete: FkAction,
    /// `DEFERRABLE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Constraint name, when it has one (SQLite checks are often unnamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The expression as the database spells it, without the outer parentheses.
    pub expr: String,
    /// `NO INHERIT` (PostgreSQL).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_inherit: bool,
    /// `ENFORCED` (MySQL 8.0.16+); always true elsewhere.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enforced: bool,
}

impl Check {
    /// An enforced check.
    pub fn new(name: Option<&str>, expr: impl Into<String>) -> Self {
        Check {
            name: name.map(str::to_string),
            expr: expr.into(),
            no_inherit: false,
            enforced: true,
        }
    }
}

/// `WITH … CHECK OPTION` of a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckOption {
    /// `LOCAL`.
    Local,
    /// `CASCADED`.
    Cascaded,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// The name as stored.
    pub name: String,
    /// The definition: the query (PostgreSQL `pg_get_viewdef`, MySQL `VIEW_DEFINITION`), or on SQLite the whole
    /// `CREATE VIEW` statement as stored.
    pub definition: String,
    /// `WITH … CHECK OPTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_option: Option<CheckOption>,
    /// Comment (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A PostgreSQL enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enum {
    /// The name as stored.
    pub name: String,
    /// The labels in sort order.
    pub values: Vec<String>,
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    /// The name as stored.
    pub name: String,
    /// Its data type (`bigint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// First value.
    pub start: i64,
    /// Step.
    pub increment: i64,
    /// Lowest value.
    pub min_value: i64,
    /// Highest value.
    pub max_value: i64,
    /// Values cached per session.
    pub cache: i64,
    /// `CYCLE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
    /// The column owning it (`table.column`), for `serial` columns and `OWNED BY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

/// Function or procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutineKind {
    /// A function.
    Function,
    /// A procedure.
    Procedure,
}

/// A function or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// The name as stored.
    pub name: String,
    /// Function or procedure.
    pub kind: RoutineKind,
    /// The identity arguments (`a integer, b text`): with the name, what tells overloads apart.
    #[serde(default)]
    pub args: String,
    /// The normalised definition (PostgreSQL `pg_get_functiondef`, MySQL `SHOW CREATE`).
    pub definition: String,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The name as stored.
    pub name: String,
    /// The table (or view) it fires on.
    pub table: String,
    /// The normalised definition (PostgreSQL `pg_get_triggerdef`, SQLite's stored `CREATE TRIGGER`).
    pub definition: String,
}

/// A PostgreSQL extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// The name.
    pub name: String,
    /// The schema holding its objects.
    pub schema: String,
    /// The installed version.
    pub version: String,
}
