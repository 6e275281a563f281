//! MySQL / MariaDB URLs: `mysql://user:pass@host:port/db?tls=false`, `mysql+unix:///path/to/sock?database=db`
//! (see [`crate::url`]).

use std::time::Duration;

use crate::error::DriverError;
use crate::url::{
    DbIdentity, Password, Server, decode, invalid, parse_duration, split_host_port, split_pieces,
};

/// Parts of a MySQL / MariaDB URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MysqlUrl {
    /// Whether the scheme says MariaDB (`maria`, `mariadb`).
    pub mariadb_scheme: bool,
    /// Host (TCP); `None` with a socket.
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Unix socket path (`+unix` schemes).
    pub socket: Option<String>,
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<Password>,
    /// Database (the bound schema).
    pub database: Option<String>,
    /// TLS mode, normalised to sqlx's names (`disabled`, `preferred`, `required`, `verify_ca`, `verify_identity`).
    pub ssl_mode: Option<String>,
    /// `charset`.
    pub charset: Option<String>,
    /// `collation`.
    pub collation: Option<String>,
    /// `timeout` (connect).
    pub connect_timeout: Option<Duration>,
}

impl MysqlUrl {
    /// See [`crate::DbUrl::identity`].
    pub fn identity(&self) -> DbIdentity {
        let server = match &self.socket {
            Some(path) => Server::Socket(path.clone()),
            None => Server::Tcp {
                host: self
                    .host
                    .as_deref()
                    .unwrap_or("127.0.0.1")
                    .to_ascii_lowercase(),
                port: self.port.unwrap_or(3306),
            },
        };
        DbIdentity::Mysql {
            server,
            database: self.database.clone(),
        }
    }
}

pub(crate) fn parse(
    scheme: &str,
    rest: &str,
    unix: bool,
    redacted: &str,
) -> Result<MysqlUrl, DriverError> {
    let p = split_pieces(rest, redacted)?;
    let mut out = MysqlUrl {
        mariadb_scheme: scheme.to_ascii_lowercase().starts_with("maria"),
        user: p.user,
        password: p.password.map(Password),
        ..MysqlUrl::default()
    };
    if unix {
        if p.path.is_empty() {
            return Err(invalid(
                redacted,
                "path",
                "a +unix URL needs the socket path, e.g. mysql+unix:///var/run/mysqld/mysqld.sock",
            ));
        }
        out.socket = Some(decode(p.path, redacted, "path")?);
    } else {
        let (host, port) = split_host_port(p.hostport, redacted)?;
        out.host = host;
        out.port = port;
        let db = p.path.strip_prefix('/').unwrap_or(p.path);
        if db.contains('/') {
            return Err(invalid(
                redacted,
                "path",
                format!("{db:?} is not a database name (only one path segment is allowed)"),
            ));
        }
        out.database = Some(decode(db, redacted, "path")?).filter(|d| !d.is_empty());
    }
    for (k, v) in p.query {
        match k.as_str() {
            "database" if unix => out.database = Some(v).filter(|d| !d.is_empty()),
            "tls" => {
                let mode = match v.to_ascii_lowercase().as_str() {
                    "true" | "1" => "verify_identity",
                    "false" | "0" => "disabled",
                    "skip-verify" => "required",
                    "preferred" => "preferred",
                    _ => {
                        return Err(invalid(
                            redacted,
                            "tls",
                            format!(
                                "unknown value {v:?}; use one of true, false, skip-verify, preferred"
                            ),
                        ));
                    }
                };
                out.ssl_mode = Some(mode.to_string());
            }
            "ssl-mode" | "sslmode" | "ssl_mode" => {
                let mode = match v.to_ascii_lowercase().replace('-', "_").as_str() {
                    "disabled" | "disable" => "disabled",
                    "preferred" | "prefer" => "preferred",
                    "required" | "require" => "required",
                    "verify_ca" => "verify_ca",
                    "verify_identity" | "verify_full" => "verify_identity",
                    _ => {
                        return Err(invalid(
                            redacted,
                            &k,
                            format!(
                                "unknown value {v:?}; use one of disabled, preferred, required, verify_ca, verify_identity"
                            ),
                        ));
                    }
                };
                out.ssl_mode = Some(mode.to_string());
            }
            "charset" => out.charset = v.split(',').next().map(str::to_string),
            "collation" => out.collation = Some(v),
            "timeout" => {
                out.connect_timeout =
                    Some(parse_duration(&v, Duration::from_secs(1)).ok_or_else(|| {
                        invalid(
                            redacted,
                            "timeout",
                            format!("{v:?} is not a duration (e.g. 5s, 1m30s)"),
                        )
                    })?)
            }
            // Other go-sql-driver parameters (parseTime, loc, multiStatements, …) do not apply.
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::{Target, parse};
    use strata_migrate::Dialect;

    #[test]
    fn mysql_urls() {
        let u = parse("mysql://root:pass@localhost:3306/test?parseTime=true&tls=false").unwrap();
        assert_eq!(u.dialect(), Dialect::Mysql);
        assert_eq!(u.bound_schema(), Some("test"));
        let Target::Mysql(m) = &u.target else {
            panic!()
        };
        assert_eq!(m.host.as_deref(), Some("localhost"));
        assert_eq!(m.port, Some(3306));
        assert_eq!(m.ssl_mode.as_deref(), Some("disabled"));
        assert!(!m.mariadb_scheme);

        for url in ["maria://root@h/", "mariadb://root@h", "mysql://root@h:3306"] {
            let u = parse(url).unwrap();
            assert_eq!(u.bound_schema(), None, "{url}");
        }
        let u = parse("mariadb+unix:///run/mysqld/mysqld.sock?database=app").unwrap();
        let Target::Mysql(m) = &u.target else {
            panic!()
        };
        assert!(m.mariadb_scheme);
        assert_eq!(m.socket.as_deref(), Some("/run/mysqld/mysqld.sock"));
        assert_eq!(m.database.as_deref(), Some("app"));

        let u = parse("mysql://h/db?timeout=1m30s").unwrap();
        let Target::Mysql(m) = &u.target else {
            panic!()
        };
        assert_eq!(m.connect_timeout, Some(Duration::from_secs(90)));
        assert!(matches!(
            parse("mysql://h/a/b"),
            Err(DriverError::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse("mysql://h/db?tls=maybe"),
            Err(DriverError::InvalidUrl { .. })
        ));
    }
}
