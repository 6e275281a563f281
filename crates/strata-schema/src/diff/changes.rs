//! The typed changes a diff produces.

use serde::{Deserialize, Serialize, Serializer};
use strata_migrate::Dialect;

use crate::model::{
    Check, Column, Enum, Extension, ForeignKey, Function, Index, PrimaryKey, Schema, Sequence,
    Table, TableOptions, Trigger, View,
};

/// Which attributes of an object changed: a set of flags, serialised as a list of names (`["type", "null"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChangeKind(u32);

macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $text:literal;)*) => {
        impl ChangeKind {
            $($(#[$doc])* pub const $name: ChangeKind = ChangeKind(1 << $bit);)*
            const NAMES: &'static [(ChangeKind, &'static str)] = &[$((ChangeKind::$name, $text)),*];
        }
    };
}

kinds! {
    /// The column type.
    TYPE = 0, "type";
    /// Nullability.
    NULL = 1, "null";
    /// The default expression.
    DEFAULT = 2, "default";
    /// The generated expression or its storage.
    GENERATED = 3, "generated";
    /// The collation.
    COLLATION = 4, "collation";
    /// The character set.
    CHARSET = 5, "charset";
    /// The comment.
    COMMENT = 6, "comment";
    /// Identity / auto-increment.
    IDENTITY = 7, "identity";
    /// MySQL `ON UPDATE`.
    ON_UPDATE = 8, "on_update";
    /// Index uniqueness.
    UNIQUE = 9, "unique";
    /// Index or key parts (columns, expressions, order, collation, operator class, prefix).
    PARTS = 10, "parts";
    /// Index method / type.
    METHOD = 11, "method";
    /// Partial index predicate.
    PREDICATE = 12, "predicate";
    /// `INCLUDE` columns or `NULLS NOT DISTINCT`.
    INCLUDE = 13, "include";
    /// Foreign key columns.
    COLUMNS = 14, "columns";
    /// Referenced table (or its schema).
    REF_TABLE = 15, "ref_table";
    /// Referenced columns.
    REF_COLUMNS = 16, "ref_columns";
    /// `ON UPDATE` action of a foreign key.
    UPDATE_ACTION = 17, "update_action";
    /// `ON DELETE` action of a foreign key.
    DELETE_ACTION = 18, "delete_action";
    /// `DEFERRABLE` / `INITIALLY DEFERRED`.
    DEFERRABLE = 19, "deferrable";
    /// A check's expression.
    EXPR = 20, "expr";
    /// A check's `NO INHERIT` / `ENFORCED`.
    ENFORCEMENT = 21, "enforcement";
    /// A constraint name.
    NAME = 22, "name";
}

impl ChangeKind {
    /// No change.
    pub const NONE: ChangeKind = ChangeKind(0);

    /// Whether nothing changed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: ChangeKind) -> bool {
        self.0 & other.0 == other.0 && !other.is_empty()
    }

    /// Sets `flag` when `cond` holds.
    pub fn set_if(&mut self, flag: ChangeKind, cond: bool) {
        if cond {
            self.0 |= flag.0;
        }
    }

    /// The names of the set flags, in flag order.
    pub fn names(self) -> Vec<&'static str> {
        ChangeKind::NAMES
            .iter()
            .filter(|(k, _)| self.contains(*k))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl std::ops::BitOr for ChangeKind {
    type Output = ChangeKind;
    fn bitor(self, rhs: ChangeKind) -> ChangeKind {
        ChangeKind(self.0 | rhs.0)
    }
}

impl Serialize for ChangeKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ChangeKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut k = ChangeKind::NONE;
        for n in names {
            let Some((flag, _)) = ChangeKind::NAMES.iter().find(|(_, t)| *t == n) else {
                return Err(serde::de::Error::custom(format!(
                    "unknown change kind {n:?}"
                )));
            };
            k = k | *flag;
        }
        Ok(k)
    }
}

/// A schema's own attributes (no objects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAttrs {
    /// The name.
    pub name: String,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Default character set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// Default collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

impl SchemaAttrs {
    /// The attributes of `s`.
    pub fn of(s: &Schema) -> Self {
        SchemaAttrs {
            name: s.name.clone(),
            comment: s.comment.clone(),
            charset: s.charset.clone(),
            collation: s.collation.clone(),
        }
    }
}

/// A schema-level object other than a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Object {
    /// A view.
    View(View),
    /// A materialized view.
    MaterializedView(View),
    /// An enum type.
    Enum(Enum),
    /// A sequence.
    Sequence(Sequence),
    /// A function or procedure.
    Function(Function),
    /// A trigger.
    Trigger(Trigger),
    /// An extension (its schema is the change's schema).
    Extension(Extension),
}

impl Object {
    /// The object's name.
    pub fn name(&self) -> &str {
        match self {
            Object::View(v) | Object::MaterializedView(v) => &v.name,
            Object::Enum(e) => &e.name,
            Object::Sequence(s) => &s.name,
            Object::Function(f) => &f.name,
            Object::Trigger(t) => &t.name,
            Object::Extension(e) => &e.name,
        }
    }
}

/// A value added to an enum type (`ALTER TYPE … ADD VALUE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumValueAdd {
    /// The new label.
    pub value: String,
    /// The existing label it goes after; `None`: before the first label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// One top-level change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // built once per diff and matched on; boxes would only add noise
pub enum Change {
    /// A new schema (its tables and objects follow as their own changes).
    AddSchema {
        /// The schema's attributes.
        schema: SchemaAttrs,
    },
    /// A schema dropped with everything in it.
    DropSchema {
        /// The schema as it was.
        schema: Schema,
    },
    /// A schema's comment, charset or collation changed.
    ModifySchema {
        /// Before.
        from: SchemaAttrs,
        /// After.
        to: SchemaAttrs,
        /// What changed.
        what: ChangeKind,
    },
    /// A new table.
    AddTable {
        /// Its schema.
        schema: String,
        /// The table.
        table: Table,
    },
    /// A dropped table.
    DropTable {
        /// Its schema.
        schema: String,
        /// The table as it was.
        table: Table,
    },
    /// A changed table.
    ModifyTable {
        /// Its schema.
        schema: String,
        /// The table before.
        from: Table,
        /// The table after.
        to: Table,
        /// What changed, in order: drops, modifications, additions.
        changes: Vec<TableChange>,
    },
    /// A new object.
    AddObject {
        /// Its schema.
        schema: String,
        /// The object.
        object: Object,
    },
    /// A dropped object.
    DropObject {
        /// Its schema.
        schema: String,
        /// The object as it was.
        object: Object,
    },
    /// A changed object (to be replaced, or altered where the dialect can).
    ModifyObject {
        /// Its schema.
        schema: String,
        /// Before.
        from: Object,
        /// After.
        to: Object,
    },
    /// Labels appended or inserted into an enum type, the existing labels keeping their order.
    AddEnumValues {
        /// Its schema.
        schema: String,
        /// The enum before.
        from: Enum,
        /// The enum after.
        to: Enum,
        /// The new labels in the order to add them.
        values: Vec<EnumValueAdd>,
    },
}

/// One change inside a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // as `Change`
pub enum TableChange {
    /// A new column.
    AddColumn {
        /// The column.
        column: Column,
    },
    /// A dropped column.
    DropColumn {
        /// The column as it was.
        column: Column,
    },
    /// A changed column.
    ModifyColumn {
        /// Before.
        from: Column,
        /// After.
        to: Column,
        /// What changed.
        what: ChangeKind,
    },
    /// A new index.
    AddIndex {
        /// The index.
        index: Index,
    },
    /// A dropped index.
    DropIndex {
        /// The index as it was.
        index: Index,
    },
    /// A changed index (same name).
    ModifyIndex {
        /// Before.
        from: Index,
        /// After.
        to: Index,
        /// What changed.
        what: ChangeKind,
    },
    /// A new primary key.
    AddPrimaryKey {
        /// The key.
        key: PrimaryKey,
    },
    /// A dropped primary key.
    DropPrimaryKey {
        /// The key as it was.
        key: PrimaryKey,
    },
    /// A changed primary key.
    ModifyPrimaryKey {
        /// Before.
        from: PrimaryKey,
        /// After.
        to: PrimaryKey,
    },
    /// A new foreign key.
    AddForeignKey {
        /// The key.
        fk: ForeignKey,
    },
    /// A dropped foreign key.
    DropForeignKey {
        /// The key as it was.
        fk: ForeignKey,
    },
    /// A changed foreign key.
    ModifyForeignKey {
        /// Before.
        from: ForeignKey,
        /// After.
        to: ForeignKey,
        /// What changed.
        what: ChangeKind,
    },
    /// A new check.
    AddCheck {
        /// The check.
        check: Check,
    },
    /// A dropped check.
    DropCheck {
        /// The check as it was.
        check: Check,
    },
    /// A changed check (same name).
    ModifyCheck {
        /// Before.
        from: Check,
        /// After.
        to: Check,
        /// What changed.
        what: ChangeKind,
    },
    /// The table comment changed.
    ModifyComment {
        /// Before.
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
    /// Table options changed.
    ModifyOptions {
        /// Before.
        from: TableOptions,
        /// After.
        to: TableOptions,
    },
}

/// The result of a diff: the changes that turn one realm into another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// The dialect of both realms.
    #[serde(with = "crate::model::dialect_serde")]
    pub dialect: Dialect,
    /// The changes, schema by schema.
    pub changes: Vec<Change>,
}

impl Changes {
    /// Whether the realms are in sync.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
