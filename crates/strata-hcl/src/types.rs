//! Column types as HCL spells them (owned by the printer helper; see lib.rs).
