//! A tiny HCL document and its rendering in the layout hclwrite's formatter gives it: two-space indentation, no
//! blank lines, `=` aligned within each run of consecutive attributes (a block between two attributes ends the
//! run), an empty block as `name {` + newline + `}`, and exactly one trailing newline.

use super::quote::hcl_string;

/// One item of a block body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// `key = value`; the value is already rendered (a heredoc value spans lines but counts as one attribute).
    Attr(String, String),
    /// A nested block.
    Block(Block),
}

/// `type "label" … { body }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Block {
    pub ty: String,
    pub labels: Vec<String>,
    pub body: Vec<Item>,
}

impl Block {
    pub fn new(ty: &str, labels: impl IntoIterator<Item = String>) -> Self {
        Block {
            ty: ty.to_string(),
            labels: labels.into_iter().collect(),
            body: Vec::new(),
        }
    }

    /// Appends `key = value`.
    pub fn attr(&mut self, key: &str, value: impl Into<String>) {
        self.body.push(Item::Attr(key.to_string(), value.into()));
    }

    /// Appends a nested block.
    pub fn block(&mut self, b: Block) {
        self.body.push(Item::Block(b));
    }
}

/// Renders top-level blocks as one document.
pub(crate) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        render_block(b, 0, &mut out);
    }
    out
}

fn render_block(b: &Block, depth: usize, out: &mut String) {
    indent(depth, out);
    out.push_str(&b.ty);
    for l in &b.labels {
        out.push(' ');
        out.push_str(&hcl_string(l));
    }
    out.push_str(" {\n");
    render_body(&b.body, depth + 1, out);
    indent(depth, out);
    out.push_str("}\n");
}

fn render_body(items: &[Item], depth: usize, out: &mut String) {
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Block(b) => {
                render_block(b, depth, out);
                i += 1;
            }
            Item::Attr(..) => {
                let end = items[i..]
                    .iter()
                    .position(|x| matches!(x, Item::Block(_)))
                    .map_or(items.len(), |p| i + p);
                let width = items[i..end]
                    .iter()
                    .map(|x| match x {
                        Item::Attr(k, _) => k.chars().count(),
                        Item::Block(_) => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for x in &items[i..end] {
                    if let Item::Attr(k, v) = x {
                        indent(depth, out);
                        out.push_str(k);
                        for _ in k.chars().count()..width {
                            out.push(' ');
                        }
                        out.push_str(" = ");
                        out.push_str(v);
                        out.push('\n');
                    }
                }
                i = end;
            }
        }
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_align_and_blocks_break_them() {
        let mut col = Block::new("column", ["id".to_string()]);
        col.attr("null", "false");
        col.attr("type", "integer");
        col.attr("default", "1");
        let mut t = Block::new("table", ["users".to_string()]);
        t.attr("schema", "schema.public");
        t.attr("comment", "\"c\"");
        t.block(col);
        t.attr("strict", "true");
        t.attr("without_rowid", "true");
        let s = Block::new("schema", ["public".to_string()]);
        assert_eq!(
            render(&[t, s]),
            "table \"users\" {\n  schema  = schema.public\n  comment = \"c\"\n  column \"id\" {\n    null    = false\n    \
             type    = integer\n    default = 1\n  }\n  strict        = true\n  without_rowid = true\n}\nschema \"public\" {\n}\n"
        );
    }
}
