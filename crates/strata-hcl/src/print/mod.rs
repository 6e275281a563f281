//! The model printed as Atlas HCL (see lib.rs).

pub mod quote;
