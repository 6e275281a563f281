//! The deployment record of an apply run, as the CLI and the operator report it (`POST …/deployments`).
//!
//! `deployment()` is the one mapping from an apply result to a record (feature `engine`). What it decides:
//!
//! - a run that returned a report is recorded as it ended: `succeeded` when files ran, `noop` when none was
//!   pending, `failed` with the report's error when a statement failed;
//! - a run that ended in an error and still has a partial report (a failed statement, a cancellation between
//!   files, an interrupted in-flight statement) is always `failed`, carrying the error, with the files that ran;
//! - a run that failed before executing anything (unreachable database, invalid directory, dirty database, …) is
//!   `failed` with the error and no files;
//! - a lock timeout is **not** reported: nothing touched the target, the registry records runs that ran, and
//!   whoever started the run sees the error directly (the CLI prints it, the operator retries and shows it in the
//!   resource's status).
//!
//! Neither the target nor an error text holds a credential of the target URL: the target keeps only host, port,
//! database and non-secret parameters ([`target_of`]) and texts are scrubbed of the URL's secrets.

use crate::model::{DeployStatus, NewDeployment};

/// A database URL as deployments show it: credentials removed entirely (user and password), secret query
/// parameters redacted. The driver's redaction does it ([`strata_driver::without_credentials`]), so it finds a
/// password wherever `redact` does, also in a URL that does not parse.
pub fn target_of(url: &str) -> String {
    strata_driver::without_credentials(url)
}

/// A deployment record for a run that failed before executing anything (no report). `error` is scrubbed of
/// `target_url`'s credentials.
pub fn failed_deployment(
    dir: &str,
    target_url: &str,
    tag: Option<&str>,
    version: Option<&str>,
    error: &str,
) -> NewDeployment {
    let now = jiff::Timestamp::now().to_string();
    NewDeployment {
        dir: dir.to_owned(),
        target: target_of(target_url),
        tag: tag.map(str::to_owned),
        version: version.map(str::to_owned),
        from_version: String::new(),
        to_version: String::new(),
        status: DeployStatus::Failed,
        error: Some(strata_driver::scrub(error, target_url)),
        files: Vec::new(),
        statements: 0,
        duration_ms: 0,
        started_at: now.clone(),
        finished_at: now,
    }
}

#[cfg(feature = "engine")]
pub use with_engine::{deployment, deployment_from_report};

#[cfg(feature = "engine")]
mod with_engine {
    use strata_engine::EngineError;
    use strata_engine::report::ApplyReport;

    use super::{failed_deployment, target_of};
    use crate::model::{DeployStatus, DeployedFile, FileOutcome, NewDeployment};

    /// The deployment record of an apply of directory `dir` (fetched by `tag`, registry version `version`) on
    /// `target_url`, or `None` when the run is not reported. The one mapping the CLI and the operator share; the
    /// rules are the [module's](super):
    ///
    /// | result | record |
    /// |---|---|
    /// | `Ok(report)` | `succeeded`, `noop` (nothing pending), or `failed` with the report's error |
    /// | `Err(e)` with a partial report (statement failed, cancelled, in-flight stop) | `failed`, error `e` (or the report's own), the files that ran |
    /// | `Err(e)` without a report | `failed`, error `e`, no files |
    /// | `Err(EngineError::Lock(_))` (lock timeout) | `None`: nothing ran, nothing is reported |
    pub fn deployment(
        dir: &str,
        target_url: &str,
        tag: Option<&str>,
        version: Option<&str>,
        result: Result<&ApplyReport, &EngineError>,
    ) -> Option<NewDeployment> {
        let e = match result {
            Ok(report) => {
                return Some(deployment_from_report(
                    dir, target_url, tag, version, report,
                ));
            }
            Err(EngineError::Lock(_)) => return None,
            Err(e) => e,
        };
        let error = e.to_string();
        Some(match e.report() {
            Some(report) => {
                let mut d = deployment_from_report(dir, target_url, tag, version, report);
                // A cancelled run's report carries no error of its own; it did not succeed either.
                d.status = DeployStatus::Failed;
                d.error = d
                    .error
                    .or_else(|| Some(strata_driver::scrub(&error, target_url)));
                d
            }
            None => failed_deployment(dir, target_url, tag, version, &error),
        })
    }

    /// The record of an apply report as it stands: `failed` when it carries an error, `noop` when no file ran,
    /// `succeeded` otherwise. Use [`deployment`] for an apply result; this is its building block. Neither the
    /// target nor an error text holds a credential of `target_url`.
    pub fn deployment_from_report(
        dir: &str,
        target_url: &str,
        tag: Option<&str>,
        version: Option<&str>,
        report: &ApplyReport,
    ) -> NewDeployment {
        let files: Vec<DeployedFile> = report
            .applied
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let error = f
                    .error
                    .as_ref()
                    .map(|e| strata_driver::scrub(&e.text, target_url));
                // A file without an error that is the last of a run that stopped with one did not finish.
                let stopped_here = i + 1 == report.applied.len() && !report.error.is_empty();
                let outcome = if error.is_some() {
                    FileOutcome::Failed
                } else if stopped_here {
                    FileOutcome::Partial
                } else {
                    FileOutcome::Applied
                };
                DeployedFile {
                    name: f.file.name.clone(),
                    statements: f.applied.len() as i64,
                    error,
                    version: Some(f.file.version.clone()),
                    outcome: Some(outcome),
                    duration_ms: Some(f.end.duration_since(f.start).as_millis().max(0) as i64),
                }
            })
            .collect();
        let status = if !report.error.is_empty() {
            DeployStatus::Failed
        } else if report.applied.is_empty() {
            DeployStatus::Noop
        } else {
            DeployStatus::Succeeded
        };
        let duration = report.end.duration_since(report.start).as_millis() as i64;
        NewDeployment {
            dir: dir.to_owned(),
            target: target_of(target_url),
            tag: tag.map(str::to_owned),
            version: version.map(str::to_owned),
            from_version: report.current.clone(),
            to_version: if report.target.is_empty() {
                report.current.clone()
            } else {
                report.target.clone()
            },
            status,
            error: (!report.error.is_empty())
                .then(|| strata_driver::scrub(&report.error, target_url)),
            statements: files.iter().map(|f| f.statements).sum(),
            files,
            duration_ms: duration.max(0),
            started_at: report.start.to_string(),
            finished_at: report.end.to_string(),
        }
    }

    #[cfg(test)]
    mod tests {
        use std::time::Duration;

        use strata_driver::DriverError;
        use strata_engine::report::{AppliedFile, FileRef, StmtError};

        use super::*;

        const URL: &str = "postgres://u:hunter2@db:5432/app";

        fn file(name: &str, version: &str) -> FileRef {
            FileRef {
                name: name.into(),
                version: version.into(),
                description: String::new(),
            }
        }

        /// A report of a run from version 1 towards 3 that ran `ran` files, the last one failing with `error`.
        fn report(ran: usize, error: Option<&str>) -> ApplyReport {
            let start = jiff::Timestamp::from_second(1_700_000_000).unwrap();
            let end = start + jiff::SignedDuration::from_millis(1500);
            let pending = vec![file("2_b.sql", "2"), file("3_c.sql", "3")];
            let applied = pending
                .iter()
                .take(ran)
                .enumerate()
                .map(|(i, f)| AppliedFile {
                    file: f.clone(),
                    start,
                    end,
                    skipped: 0,
                    applied: vec!["SELECT 1;".into(); i + 1],
                    error: error.filter(|_| i + 1 == ran).map(|e| StmtError {
                        stmt: "SELECT 1;".into(),
                        text: e.into(),
                    }),
                })
                .collect();
            ApplyReport {
                driver: "postgres".into(),
                url: None,
                dir: "strata://app".into(),
                pending,
                applied,
                current: "1".into(),
                target: "3".into(),
                start,
                end,
                error: error.unwrap_or_default().into(),
                message: None,
            }
        }

        fn map(result: Result<&ApplyReport, &EngineError>) -> Option<NewDeployment> {
            deployment("app", URL, Some("v1"), Some("abc"), result)
        }

        #[test]
        fn a_successful_run_is_succeeded() {
            let d = map(Ok(&report(2, None))).unwrap();
            assert_eq!(d.status, DeployStatus::Succeeded);
            assert_eq!(d.error, None);
            assert_eq!(
                (d.dir.as_str(), d.target.as_str()),
                ("app", "postgres://db:5432/app")
            );
            assert_eq!(
                (d.tag.as_deref(), d.version.as_deref()),
                (Some("v1"), Some("abc"))
            );
            assert_eq!((d.from_version.as_str(), d.to_version.as_str()), ("1", "3"));
            assert_eq!((d.files.len(), d.statements, d.duration_ms), (2, 3, 1500));
            // Per file: its version, outcome, statements and time.
            let per_file: Vec<_> = d
                .files
                .iter()
                .map(|f| {
                    (
                        f.name.as_str(),
                        f.version.as_deref(),
                        f.outcome,
                        f.statements,
                        f.duration_ms,
                    )
                })
                .collect();
            assert_eq!(
                per_file,
                [
                    (
                        "2_b.sql",
                        Some("2"),
                        Some(FileOutcome::Applied),
                        1,
                        Some(1500)
                    ),
                    (
                        "3_c.sql",
                        Some("3"),
                        Some(FileOutcome::Applied),
                        2,
                        Some(1500)
                    ),
                ]
            );
        }

        #[test]
        fn a_run_with_nothing_pending_is_noop() {
            let mut r = report(0, None);
            r.target = String::new();
            let d = map(Ok(&r)).unwrap();
            assert_eq!(d.status, DeployStatus::Noop);
            assert_eq!((d.from_version.as_str(), d.to_version.as_str()), ("1", "1"));
            assert!(d.files.is_empty() && d.error.is_none());
        }

        #[test]
        fn a_failed_statement_is_failed_with_the_files_that_ran() {
            let r = report(
                1,
                Some("relation \"t\" already exists (postgres://u:hunter2@db:5432/app)"),
            );
            let e = EngineError::Execution(Box::new(r.clone()));
            for d in [map(Ok(&r)).unwrap(), map(Err(&e)).unwrap()] {
                assert_eq!(d.status, DeployStatus::Failed);
                let error = d.error.as_deref().unwrap();
                assert!(
                    error.starts_with("relation \"t\" already exists"),
                    "{error}"
                );
                assert!(!error.contains("hunter2"), "{error}");
                assert_eq!(d.files.len(), 1);
                assert!(d.files[0].error.is_some());
                assert_eq!(d.files[0].outcome, Some(FileOutcome::Failed));
                assert_eq!(d.files[0].version.as_deref(), Some("2"));
            }
        }

        #[test]
        fn a_cancelled_run_is_failed_with_the_cancellation() {
            // The report of a run cancelled between files holds no error of its own.
            let e = EngineError::Cancelled {
                version: "3".into(),
                report: Box::new(report(1, None)),
            };
            let d = map(Err(&e)).unwrap();
            assert_eq!(d.status, DeployStatus::Failed);
            assert_eq!(d.error, Some(e.to_string()));
            assert_eq!((d.files.len(), d.statements), (1, 1));
        }

        #[test]
        fn a_run_stopped_inside_a_file_marks_it_partial() {
            // An interrupted in-flight statement: the run has an error, the file it stopped in has none.
            let mut r = report(2, None);
            r.error = "connection lost while a statement was in flight".into();
            let d = map(Ok(&r)).unwrap();
            assert_eq!(d.status, DeployStatus::Failed);
            let outcomes: Vec<_> = d.files.iter().map(|f| f.outcome).collect();
            assert_eq!(
                outcomes,
                [Some(FileOutcome::Applied), Some(FileOutcome::Partial)]
            );
        }

        #[test]
        fn a_failure_before_any_file_is_failed_without_files() {
            let e = EngineError::Driver(DriverError::Connect {
                url: "postgres://u:xxxxx@db:5432/app".into(),
                message: "connection refused".into(),
                hint: "check the host".into(),
            });
            let d = map(Err(&e)).unwrap();
            assert_eq!(d.status, DeployStatus::Failed);
            assert_eq!(d.error, Some(e.to_string()));
            assert!(d.files.is_empty());
            assert_eq!((d.statements, d.duration_ms), (0, 0));
            assert_eq!(
                (d.tag.as_deref(), d.version.as_deref()),
                (Some("v1"), Some("abc"))
            );
        }

        #[test]
        fn a_lock_timeout_is_not_reported() {
            let e = EngineError::Lock(DriverError::LockTimeout {
                name: "atlas_migrate_execute".into(),
                waited: Duration::from_secs(10),
                detail: "another run holds it".into(),
            });
            assert_eq!(map(Err(&e)), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_lose_credentials() {
        assert_eq!(
            target_of("postgres://u:secret@db:5432/app?sslmode=disable"),
            "postgres://db:5432/app?sslmode=disable"
        );
        assert_eq!(
            target_of("mysql://root:pw@localhost/x"),
            "mysql://localhost/x"
        );
        assert!(!target_of("postgres://db/app?password=hunter2").contains("hunter2"));
        assert_eq!(target_of("sqlite://file.db"), "sqlite://file.db");
        // Issue 10 item 8: the password used to survive when it held a '/', '?' or '#'.
        assert_eq!(
            target_of("postgres://u:S3cr/3tPW@host:1/x"),
            "postgres://host:1/x"
        );
        assert_eq!(
            target_of("mysql://u:S3cr?3t#PW@host:1/x"),
            "mysql://host:1/x"
        );
    }
}
