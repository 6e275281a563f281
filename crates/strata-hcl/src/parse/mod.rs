//! HCL schema files read into the model (see lib.rs).
