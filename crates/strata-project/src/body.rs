//! The shape check of one block body: every attribute and block must be one the block knows (never silently
//! ignored), and none given twice.

use hcl::edit::Span as _;
use hcl::edit::structure::{Body, Structure};

use crate::ProjectError;
use crate::eval::Text;

/// Checks `body` (of a block called `what` in messages) against its known attribute and block names. With
/// `extra_attrs`, unknown attributes are allowed (env blocks: they become input variables).
pub(crate) fn check_body_with(
    text: &Text,
    body: &Body,
    what: &str,
    attrs: &[&str],
    blocks: &[&str],
    extra_attrs: bool,
) -> Result<(), ProjectError> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let key = a.key.as_str();
                let line = text.pos(a.span()).line;
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                    return Err(ProjectError::at(
                        text.pos(a.span()),
                        format!(
                            "attribute {key:?} in {what} block was already set on line {first}"
                        ),
                    ));
                }
                seen.push((key, line));
                if !extra_attrs && !attrs.contains(&key) {
                    return Err(ProjectError::at(
                        text.pos(a.span()),
                        format!(
                            "unsupported argument {key:?} in {what} block; expected one of: {}",
                            list(attrs)
                        ),
                    ));
                }
                if blocks.contains(&key) {
                    return Err(ProjectError::at(
                        text.pos(a.span()),
                        format!("{key:?} in {what} block is a block: write {key} {{ … }}"),
                    ));
                }
            }
            Structure::Block(b) => {
                let kind = b.ident.as_str();
                if !blocks.contains(&kind) {
                    let expected = if blocks.is_empty() {
                        "it takes no blocks".to_owned()
                    } else {
                        format!("expected one of: {}", list(blocks))
                    };
                    return Err(ProjectError::at(
                        text.pos(b.span()),
                        format!("unsupported block type {kind:?} in {what} block; {expected}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn check_body(
    text: &Text,
    body: &Body,
    what: &str,
    attrs: &[&str],
    blocks: &[&str],
) -> Result<(), ProjectError> {
    check_body_with(text, body, what, attrs, blocks, false)
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "(none)".to_owned();
    }
    names.join(", ")
}
