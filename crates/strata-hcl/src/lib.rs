//! Atlas's HCL schema language, without I/O.
//!
//! - [`types`]: how a column type is spelled in HCL per dialect (`varchar(255)`, `character_varying(255)`,
//!   `sql("int[]")`, `enum.status`), both ways. The one home of that mapping.
//! - [`print`]: the model as `schema inspect` prints it (Atlas's hclwrite layout, byte for byte).
//! - [`parse`]: `schema.hcl` files (blocks, references, variables, locals, `for_each`) into the model, errors at
//!   `file:line:column`.
//! - [`routine`]: Atlas's `function`, `procedure` and `trigger` blocks ↔ the model's definitions, both ways.
//! - [`unexpressed`]: what HCL cannot hold.

#![warn(missing_docs)]

pub mod parse;
pub mod print;
pub mod routine;
pub mod types;
pub mod unexpressed;
