//! The ER diagram of a schema model as inline SVG: one box per table listing its columns (primary-key columns
//! marked `PK`, foreign-key columns `FK`), one arrow per foreign key from the referencing table to the
//! referenced one. The layout is deterministic: tables are placed in layers by foreign-key depth (a table that
//! references nothing is in layer 0, one that references a layer-n table is in a layer after n; cycles and
//! self-references are cut), layers left to right, tables in a layer by name, at most 12 to a column (a larger
//! layer takes several columns). Every name is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use strata_schema::{Realm, Table};

use super::escape;

const BOX_W: i64 = 240;
const GAP_X: i64 = 90;
const GAP_Y: i64 = 28;
const HEAD_H: i64 = 26;
const ROW_H: i64 = 18;
const MARGIN: i64 = 20;
/// Tables per column: a layer with more wraps into further columns, so a wide schema grows sideways.
const PER_COLUMN: usize = 12;
/// Longest name shown in full; longer ones are cut with `…` (the tables below the diagram show them whole).
const MAX_CHARS: usize = 30;

/// A table's key in the diagram: `(schema, table)`.
type Key = (String, String);

struct Placed<'a> {
    table: &'a Table,
    label: String,
    x: i64,
    y: i64,
}

impl Placed<'_> {
    fn height(&self) -> i64 {
        HEAD_H + ROW_H * self.table.columns.len().max(1) as i64 + 6
    }

    /// The vertical middle of column `name`'s row (the header's when there is no such column).
    fn row_y(&self, name: Option<&str>) -> i64 {
        match name.and_then(|n| self.table.columns.iter().position(|c| c.name == n)) {
            Some(i) => self.y + HEAD_H + ROW_H * i as i64 + ROW_H / 2 + 2,
            None => self.y + HEAD_H / 2,
        }
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// The foreign-key layer of every table: 0 for tables that reference no other table, else one more than the
/// deepest table they reference. A reference that would close a cycle is ignored.
fn layers(realm: &Realm) -> BTreeMap<Key, usize> {
    let refs: BTreeMap<Key, Vec<Key>> = realm
        .schemas
        .iter()
        .flat_map(|s| {
            s.tables.iter().map(move |t| {
                let key = (s.name.clone(), t.name.clone());
                let to = t
                    .foreign_keys
                    .iter()
                    .map(|fk| (fk.ref_schema.clone(), fk.ref_table.clone()))
                    .filter(|k| *k != key)
                    .collect();
                (key, to)
            })
        })
        .collect();
    fn depth(
        k: &Key,
        refs: &BTreeMap<Key, Vec<Key>>,
        memo: &mut BTreeMap<Key, usize>,
        path: &mut Vec<Key>,
    ) -> usize {
        if let Some(d) = memo.get(k) {
            return *d;
        }
        path.push(k.clone());
        let mut d = 0;
        for r in refs.get(k).into_iter().flatten() {
            if refs.contains_key(r) && !path.contains(r) {
                d = d.max(depth(r, refs, memo, path) + 1);
            }
        }
        path.pop();
        memo.insert(k.clone(), d);
        d
    }
    let mut memo = BTreeMap::new();
    for k in refs.keys() {
        depth(k, &refs, &mut memo, &mut Vec::new());
    }
    memo
}

/// The diagram of every table in `realm`, or `None` when it has no table.
pub fn svg(realm: &Realm) -> Option<String> {
    let qualify = realm
        .schemas
        .iter()
        .filter(|s| !s.tables.is_empty())
        .count()
        > 1;
    let layer_of = layers(realm);
    let mut columns: BTreeMap<usize, Vec<(Key, &Table)>> = BTreeMap::new();
    for s in &realm.schemas {
        for t in &s.tables {
            let key = (s.name.clone(), t.name.clone());
            columns.entry(layer_of[&key]).or_default().push((key, t));
        }
    }
    if columns.is_empty() {
        return None;
    }
    let mut placed: BTreeMap<Key, Placed> = BTreeMap::new();
    let (mut width, mut height) = (0, 0);
    // Layers left to right; a layer of more than PER_COLUMN tables wraps into several columns.
    let mut x = MARGIN;
    for tables in columns.values_mut() {
        tables.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in tables.chunks(PER_COLUMN) {
            let mut y = MARGIN;
            for (key, t) in chunk {
                let label = if qualify {
                    format!("{}.{}", key.0, key.1)
                } else {
                    key.1.clone()
                };
                let p = Placed {
                    table: t,
                    label,
                    x,
                    y,
                };
                y += p.height() + GAP_Y;
                placed.insert(key.clone(), p);
            }
            width = width.max(x + BOX_W + MARGIN);
            height = height.max(y - GAP_Y + MARGIN);
            x += BOX_W + GAP_X;
        }
    }

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"er\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"ER diagram\">\
         <defs><marker id=\"er-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
         markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#4a5a7a\"/></marker></defs>"
    );
    for p in placed.values() {
        let t = p.table;
        let pk: Vec<&str> = t
            .primary_key
            .iter()
            .flat_map(|k| k.parts.iter().filter_map(|part| part.column_name()))
            .collect();
        let _ = write!(
            out,
            "<g class=\"er-table\" data-table=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{BOX_W}\" height=\"{}\" rx=\"4\" \
             fill=\"#ffffff\" stroke=\"#4a5a7a\"/><rect x=\"{}\" y=\"{}\" width=\"{BOX_W}\" height=\"{HEAD_H}\" rx=\"4\" \
             fill=\"#1d2330\"/><text class=\"er-name\" x=\"{}\" y=\"{}\" fill=\"#ffffff\" font-weight=\"600\" \
             font-size=\"13\">{}</text>",
            escape(&p.label),
            p.x,
            p.y,
            p.height(),
            p.x,
            p.y,
            p.x + 8,
            p.y + 17,
            escape(&cut(&p.label)),
        );
        for (i, c) in t.columns.iter().enumerate() {
            let is_pk = pk.contains(&c.name.as_str());
            let is_fk = t.foreign_keys.iter().any(|fk| fk.columns.contains(&c.name));
            let y = p.y + HEAD_H + ROW_H * i as i64 + 14;
            let mark = match (is_pk, is_fk) {
                (true, true) => "PK FK",
                (true, false) => "PK",
                (false, true) => "FK",
                (false, false) => "",
            };
            let _ = write!(
                out,
                "<text class=\"er-col{}{}\" x=\"{}\" y=\"{y}\" font-size=\"12\" fill=\"#1d2330\"{}>{}</text>\
                 <text class=\"er-type\" x=\"{}\" y=\"{y}\" font-size=\"11\" fill=\"#666666\" text-anchor=\"end\">{}{}</text>",
                if is_pk { " pk" } else { "" },
                if is_fk { " fk" } else { "" },
                p.x + 8,
                if is_pk { " font-weight=\"700\"" } else { "" },
                escape(&cut(&c.name)),
                p.x + BOX_W - 8,
                escape(&cut(&c.ty.raw).chars().take(16).collect::<String>()),
                if mark.is_empty() {
                    String::new()
                } else {
                    format!(" · {mark}")
                },
            );
        }
        out.push_str("</g>");
    }
    for (key, p) in &placed {
        for fk in &p.table.foreign_keys {
            let to_key = (fk.ref_schema.clone(), fk.ref_table.clone());
            let Some(to) = placed.get(&to_key) else {
                continue;
            };
            let y1 = p.row_y(fk.columns.first().map(String::as_str));
            let y2 = to.row_y(fk.ref_columns.first().map(String::as_str));
            let d = if to_key == *key {
                // A self-reference: a loop on the right side.
                let x = p.x + BOX_W;
                format!("M{x},{y1} C{},{y1} {},{y2} {x},{y2}", x + 40, x + 40)
            } else if to.x < p.x {
                let (x1, x2) = (p.x, to.x + BOX_W);
                let mid = (x1 + x2) / 2;
                format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}")
            } else if to.x > p.x {
                let (x1, x2) = (p.x + BOX_W, to.x);
                let mid = (x1 + x2) / 2;
                format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}")
            } else {
                // Same layer (a cut cycle): around the left side.
                let x = p.x;
                format!("M{x},{y1} C{},{y1} {},{y2} {x},{y2}", x - 40, x - 40)
            };
            let _ = write!(
                out,
                "<path class=\"er-fk\" data-from=\"{}\" data-to=\"{}\" data-fk=\"{}\" d=\"{d}\" fill=\"none\" \
                 stroke=\"#4a5a7a\" stroke-width=\"1.5\" marker-end=\"url(#er-arrow)\"><title>{}</title></path>",
                escape(&p.label),
                escape(&to.label),
                escape(&fk.name),
                escape(&format!(
                    "{} ({}) → {} ({})",
                    p.label,
                    fk.columns.join(", "),
                    to.label,
                    fk.ref_columns.join(", ")
                )),
            );
        }
    }
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use strata_schema::{Column, ColumnType, Dialect, ForeignKey, PrimaryKey, Schema};

    use super::*;

    fn col(name: &str, ty: &str) -> Column {
        let mut c = Column::new(name, ColumnType::parse(Dialect::Postgres, ty));
        c.nullable = false;
        c
    }

    fn fk(name: &str, col: &str, to: &str) -> ForeignKey {
        ForeignKey {
            name: name.into(),
            columns: vec![col.into()],
            ref_schema: "public".into(),
            ref_table: to.into(),
            ref_columns: vec!["id".into()],
            on_update: Default::default(),
            on_delete: Default::default(),
            deferrable: false,
            initially_deferred: false,
        }
    }

    fn table(name: &str, cols: &[(&str, &str)], fks: Vec<ForeignKey>) -> Table {
        let mut t = Table::new(name);
        t.columns = cols.iter().map(|(n, ty)| col(n, ty)).collect();
        t.primary_key = Some(PrimaryKey::columns(["id"]));
        t.foreign_keys = fks;
        t
    }

    pub(crate) fn shop() -> Realm {
        let mut r = Realm::new(Dialect::Postgres);
        r.schemas.push(Schema {
            name: "public".into(),
            tables: vec![
                table(
                    "order_items",
                    &[
                        ("id", "bigint"),
                        ("order_id", "bigint"),
                        ("product_id", "bigint"),
                    ],
                    vec![
                        fk("order_items_order_fk", "order_id", "orders"),
                        fk("order_items_product_fk", "product_id", "products"),
                    ],
                ),
                table(
                    "orders",
                    &[
                        ("id", "bigint"),
                        ("user_id", "bigint"),
                        ("placed_at", "timestamptz"),
                    ],
                    vec![fk("orders_user_fk", "user_id", "users")],
                ),
                table("products", &[("id", "bigint"), ("name", "text")], vec![]),
                table(
                    "users",
                    &[("id", "bigint"), ("<script>alert(1)</script>", "text")],
                    vec![],
                ),
            ],
            ..Schema::default()
        });
        r
    }

    #[test]
    fn layers_follow_foreign_keys() {
        let l = layers(&shop());
        let get = |t: &str| l[&("public".to_owned(), t.to_owned())];
        assert_eq!(
            (
                get("users"),
                get("products"),
                get("orders"),
                get("order_items")
            ),
            (0, 0, 1, 2)
        );
    }

    #[test]
    fn cycles_and_self_references_do_not_loop() {
        let mut r = shop();
        let t = &mut r.schemas[0].tables;
        t[3].foreign_keys
            .push(fk("users_last_order_fk", "id", "order_items"));
        t[2].foreign_keys
            .push(fk("products_parent_fk", "id", "products"));
        let svg = svg(&r).unwrap();
        assert_eq!(svg.matches("<path class=\"er-fk\"").count(), 5);
    }

    #[test]
    fn a_large_layer_wraps_into_columns() {
        let mut r = Realm::new(Dialect::Sqlite);
        r.schemas.push(Schema {
            name: "main".into(),
            tables: (0..30)
                .map(|i| table(&format!("t{i:02}"), &[("id", "integer")], vec![]))
                .collect(),
            ..Schema::default()
        });
        let svg = svg(&r).unwrap();
        // 30 tables with no keys between them: columns of 12, 12 and 6.
        let xs: std::collections::BTreeSet<&str> = svg
            .match_indices("<g class=\"er-table\"")
            .map(|(i, _)| {
                let rest = &svg[i..];
                let at = rest.find("<rect x=\"").unwrap() + 9;
                rest[at..].split('"').next().unwrap()
            })
            .collect();
        assert_eq!(xs.into_iter().collect::<Vec<_>>(), ["20", "350", "680"]);
        assert!(svg.contains("class=\"er\" width=\"940\""));
    }

    #[test]
    fn no_tables_no_diagram() {
        assert_eq!(svg(&Realm::new(Dialect::Sqlite)), None);
    }

    #[test]
    fn the_diagram_of_a_shop() {
        let svg = svg(&shop()).unwrap();
        assert!(!svg.contains("<script>"), "names are escaped");
        assert_eq!(svg.matches("<g class=\"er-table\"").count(), 4);
        assert_eq!(svg.matches("<path class=\"er-fk\"").count(), 3);
        // One line per element, so the snapshot reads as a list.
        insta::assert_snapshot!(svg.replace("><", ">\n<"));
    }
}
