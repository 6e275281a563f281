//! Report formats: Atlas's text layout ([`text`]), Atlas's JSON shape ([`json`]), GitHub workflow commands
//! ([`github`]) and SARIF 2.1.0 ([`sarif`]).

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;
