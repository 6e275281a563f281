//! Postgres URLs: `postgres://user:pass@host:port/db?sslmode=disable&search_path=app` (see [`crate::url`]).

use std::time::Duration;

use crate::error::DriverError;
use crate::url::{DbIdentity, Password, Server, decode, invalid, split_host_port, split_pieces};

/// Parts of a Postgres URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgUrl {
    /// Host name or address (brackets of IPv6 removed); a path starting with `/` is a socket directory.
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<Password>,
    /// Database name (URL path).
    pub database: Option<String>,
    /// `search_path`: the bound schema.
    pub search_path: Option<String>,
    /// `sslmode`.
    pub sslmode: Option<String>,
    /// `sslrootcert`.
    pub sslrootcert: Option<String>,
    /// `sslcert`.
    pub sslcert: Option<String>,
    /// `sslkey`.
    pub sslkey: Option<String>,
    /// `application_name` (default `strata`).
    pub application_name: Option<String>,
    /// `options` (raw `-c k=v` text).
    pub options: Option<String>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// Other parameters, sent as run-time settings.
    pub settings: Vec<(String, String)>,
}

impl PgUrl {
    /// See [`crate::DbUrl::identity`].
    pub fn identity(&self) -> DbIdentity {
        let host = self.host.as_deref().unwrap_or("localhost");
        let server = if host.starts_with('/') {
            Server::Socket(host.to_string())
        } else {
            Server::Tcp {
                host: host.to_ascii_lowercase(),
                port: self.port.unwrap_or(5432),
            }
        };
        DbIdentity::Postgres {
            server,
            database: self.database.clone().or_else(|| self.user.clone()),
        }
    }
}

pub(crate) fn parse(rest: &str, redacted: &str) -> Result<PgUrl, DriverError> {
    let p = split_pieces(rest, redacted)?;
    let (host, port) = split_host_port(p.hostport, redacted)?;
    let database = p
        .path
        .strip_prefix('/')
        .map(|d| decode(d, redacted, "path"))
        .transpose()?
        .filter(|d| !d.is_empty());
    let mut out = PgUrl {
        host,
        port,
        user: p.user,
        password: p.password.map(Password),
        database,
        ..PgUrl::default()
    };
    for (k, v) in p.query {
        match k.as_str() {
            "search_path" => out.search_path = (!v.is_empty()).then_some(v),
            "sslmode" => {
                const MODES: &[&str] = &[
                    "disable",
                    "allow",
                    "prefer",
                    "require",
                    "verify-ca",
                    "verify-full",
                ];
                if !MODES.contains(&v.as_str()) {
                    return Err(invalid(
                        redacted,
                        "sslmode",
                        format!(
                            "unknown value {v:?}; use one of disable, allow, prefer, require, verify-ca, verify-full"
                        ),
                    ));
                }
                out.sslmode = Some(v);
            }
            "sslrootcert" => out.sslrootcert = Some(v),
            "sslcert" => out.sslcert = Some(v),
            "sslkey" => out.sslkey = Some(v),
            "application_name" | "fallback_application_name" => {
                if k == "application_name" || out.application_name.is_none() {
                    out.application_name = Some(v)
                }
            }
            "options" => out.options = Some(v),
            "connect_timeout" => {
                let secs: u64 = v.parse().map_err(|_| {
                    invalid(
                        redacted,
                        "connect_timeout",
                        format!("{v:?} is not a whole number of seconds"),
                    )
                })?;
                out.connect_timeout = (secs > 0).then(|| Duration::from_secs(secs));
            }
            "user" => out.user = Some(v),
            "password" => out.password = Some(Password(v)),
            "dbname" => out.database = Some(v),
            "host" => out.host = Some(v),
            "port" => {
                out.port = Some(v.parse().map_err(|_| {
                    invalid(redacted, "port", format!("{v:?} is not a port number"))
                })?)
            }
            // Client-side parameters of lib/pq that are not server settings.
            "sslsni"
            | "sslpassword"
            | "binary_parameters"
            | "disable_prepared_binary_result"
            | "krbsrvname"
            | "krbspn"
            | "target_session_attrs" => {}
            _ => out.settings.push((k, v)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::Password;
    use crate::url::{Target, parse};
    use strata_migrate::Dialect;

    #[test]
    fn postgres_urls() {
        let u = parse("postgres://alice:pw@db.example:6543/app?sslmode=disable&search_path=public&statement_timeout=5s")
            .unwrap();
        assert_eq!(u.dialect(), Dialect::Postgres);
        assert_eq!(u.bound_schema(), Some("public"));
        let Target::Postgres(p) = &u.target else {
            panic!()
        };
        assert_eq!(p.host.as_deref(), Some("db.example"));
        assert_eq!(p.port, Some(6543));
        assert_eq!(p.user.as_deref(), Some("alice"));
        assert_eq!(p.password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(p.database.as_deref(), Some("app"));
        assert_eq!(p.sslmode.as_deref(), Some("disable"));
        assert_eq!(
            p.settings,
            vec![("statement_timeout".to_string(), "5s".to_string())]
        );

        let u = parse("postgresql://[::1]:5433/").unwrap();
        let Target::Postgres(p) = &u.target else {
            panic!()
        };
        assert_eq!(p.host.as_deref(), Some("::1"));
        assert_eq!(p.port, Some(5433));
        assert_eq!(p.database, None);
        assert_eq!(u.bound_schema(), None);

        let err = parse("postgres://h/db?sslmode=bogus").unwrap_err();
        assert!(
            matches!(&err, DriverError::InvalidUrl { field, .. } if field == "sslmode"),
            "{err}"
        );
        assert!(err.to_string().contains("verify-full"), "{err}");
        let err = parse("postgres://h:99999/db").unwrap_err();
        assert!(
            matches!(&err, DriverError::InvalidUrl { field, .. } if field == "port"),
            "{err}"
        );
    }
}
