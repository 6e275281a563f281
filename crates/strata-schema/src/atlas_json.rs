//! The realm in the shape Atlas's `schema inspect --format '{{ json . }}'` prints (`cmdlog`'s inspect JSON):
//! schemas with their tables, columns (`type` is the database's own spelling), indexes, primary key and foreign
//! keys; comments, charsets and collations where set. Everything empty is left out, and Atlas's shape has no
//! checks, enums, views or routines. Tools written against Atlas's output read it unchanged; Strata's own model
//! JSON (`--format json`) is the complete form, the one `file://schema.json` reads back.

use serde::Serialize;

use crate::model::{ForeignKey, Index, IndexPart, PartKey, PrimaryKey, Realm, Schema, Table};

fn no(b: &bool) -> bool {
    !*b
}

/// The document: `{"schemas":[…]}`.
#[derive(Debug, Serialize)]
pub struct AtlasRealm<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    schemas: Vec<AtlasSchema<'a>>,
}

#[derive(Debug, Serialize)]
struct AtlasSchema<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tables: Vec<AtlasTable<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    charset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collate: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct AtlasTable<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    columns: Vec<AtlasColumn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    indexes: Vec<AtlasIndex<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_key: Option<AtlasIndex<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    foreign_keys: Vec<AtlasForeignKey<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    charset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collate: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct AtlasColumn<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    ty: &'a str,
    #[serde(skip_serializing_if = "no")]
    null: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    charset: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collate: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct AtlasIndex<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "no")]
    unique: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parts: Vec<AtlasPart<'a>>,
}

#[derive(Debug, Serialize)]
struct AtlasPart<'a> {
    #[serde(skip_serializing_if = "no")]
    desc: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expr: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct AtlasForeignKey<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    columns: Vec<&'a str>,
    references: AtlasReferences<'a>,
}

#[derive(Debug, Serialize)]
struct AtlasReferences<'a> {
    table: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    columns: Vec<&'a str>,
}

impl<'a> AtlasRealm<'a> {
    /// The realm in Atlas's inspect JSON shape (serialise it compactly, as Atlas prints it on one line).
    pub fn new(realm: &'a Realm) -> Self {
        AtlasRealm {
            schemas: realm.schemas.iter().map(schema).collect(),
        }
    }
}

fn schema(s: &Schema) -> AtlasSchema<'_> {
    AtlasSchema {
        name: &s.name,
        tables: s.tables.iter().map(table).collect(),
        comment: s.comment.as_deref(),
        charset: s.charset.as_deref(),
        collate: s.collation.as_deref(),
    }
}

fn table(t: &Table) -> AtlasTable<'_> {
    AtlasTable {
        name: &t.name,
        columns: t
            .columns
            .iter()
            .map(|c| AtlasColumn {
                name: &c.name,
                ty: &c.ty.raw,
                null: c.nullable,
                comment: c.comment.as_deref(),
                charset: c.charset.as_deref(),
                collate: c.collation.as_deref(),
            })
            .collect(),
        indexes: t.indexes.iter().map(index).collect(),
        primary_key: t.primary_key.as_ref().map(primary_key),
        foreign_keys: t.foreign_keys.iter().map(foreign_key).collect(),
        comment: t.comment.as_deref(),
        charset: t.options.charset.as_deref(),
        collate: t.options.collation.as_deref(),
    }
}

fn part(p: &IndexPart) -> AtlasPart<'_> {
    let (column, expr) = match &p.key {
        PartKey::Column(c) => (Some(c.as_str()), None),
        PartKey::Expr(e) => (None, Some(e.as_str())),
    };
    AtlasPart {
        desc: p.desc,
        column,
        expr,
    }
}

fn index(i: &Index) -> AtlasIndex<'_> {
    AtlasIndex {
        name: &i.name,
        unique: i.unique,
        parts: i.parts.iter().map(part).collect(),
    }
}

fn primary_key(pk: &PrimaryKey) -> AtlasIndex<'_> {
    AtlasIndex {
        name: pk.name.as_deref().unwrap_or_default(),
        unique: false,
        parts: pk.parts.iter().map(part).collect(),
    }
}

fn foreign_key(fk: &ForeignKey) -> AtlasForeignKey<'_> {
    AtlasForeignKey {
        name: &fk.name,
        columns: fk.columns.iter().map(String::as_str).collect(),
        references: AtlasReferences {
            table: &fk.ref_table,
            columns: fk.ref_columns.iter().map(String::as_str).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Column;
    use crate::types::ColumnType;
    use strata_migrate::Dialect;

    /// Atlas's documented example: `{"schemas":[{"name":"main","tables":[{"name":"t1","columns":[{"name":"id",
    /// "type":"INTEGER","null":true}],"primary_key":{"parts":[{"column":"id"}]}}]}]}`.
    #[test]
    fn atlas_example_shape() {
        let mut realm = Realm::new(Dialect::Sqlite);
        let mut s = Schema::new("main");
        let mut t = Table::new("t1");
        let mut c = Column::new("id", ColumnType::parse(Dialect::Sqlite, "INTEGER"));
        c.nullable = true;
        t.columns.push(c);
        t.primary_key = Some(PrimaryKey {
            name: None,
            parts: vec![IndexPart::column("id")],
        });
        s.tables.push(t);
        realm.schemas.push(s);
        let json = serde_json::to_string(&AtlasRealm::new(&realm)).unwrap();
        assert_eq!(
            json,
            r#"{"schemas":[{"name":"main","tables":[{"name":"t1","columns":[{"name":"id","type":"integer","null":true}],"primary_key":{"parts":[{"column":"id"}]}}]}]}"#
        );
    }

    /// Indexes with descending and expression parts, foreign keys with their references, attributes where set.
    #[test]
    fn indexes_foreign_keys_and_attributes() {
        let mut realm = Realm::new(Dialect::Mysql);
        let mut s = Schema::new("app");
        s.charset = Some("utf8mb4".into());
        let mut t = Table::new("posts");
        t.comment = Some("all posts".into());
        let mut id = Column::new("id", ColumnType::parse(Dialect::Mysql, "bigint"));
        id.nullable = false;
        t.columns.push(id);
        t.columns.push(Column::new(
            "author",
            ColumnType::parse(Dialect::Mysql, "bigint"),
        ));
        let mut desc = IndexPart::column("author");
        desc.desc = true;
        t.indexes.push(Index {
            name: "by_author".into(),
            unique: true,
            parts: vec![desc, IndexPart::expr("(lower(`title`))")],
            method: None,
            predicate: None,
            include: Vec::new(),
            nulls_not_distinct: false,
            constraint: false,
            comment: None,
        });
        t.foreign_keys.push(ForeignKey {
            name: "posts_author".into(),
            columns: vec!["author".into()],
            ref_schema: "app".into(),
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_update: crate::model::FkAction::NoAction,
            on_delete: crate::model::FkAction::Cascade,
            deferrable: false,
            initially_deferred: false,
        });
        s.tables.push(t);
        realm.schemas.push(s);
        let json = serde_json::to_string(&AtlasRealm::new(&realm)).unwrap();
        assert_eq!(
            json,
            r#"{"schemas":[{"name":"app","tables":[{"name":"posts","columns":[{"name":"id","type":"bigint"},{"name":"author","type":"bigint","null":true}],"indexes":[{"name":"by_author","unique":true,"parts":[{"desc":true,"column":"author"},{"expr":"(lower(`title`))"}]}],"foreign_keys":[{"name":"posts_author","columns":["author"],"references":{"table":"users","columns":["id"]}}],"comment":"all posts"}],"charset":"utf8mb4"}]}"#
        );
    }
}
