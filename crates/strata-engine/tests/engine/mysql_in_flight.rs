//! MariaDB: a DDL statement that took effect while its progress row was lost (the client died between the two),
//! and the next run deciding on its own whether it took effect.
//!
//! The state a crash leaves is made by the engine itself: a trigger fails the progress write right after the
//! statement, so the statement has committed (DDL commits on its own) and the row still names it as in flight, as
//! the write before it left it. For "did not take effect", the statement's effect is then reverted out of band —
//! the state a crash right after the marker write leaves. Every statement fails when run twice, so a double
//! execution cannot pass unnoticed.

use std::time::Duration;

use strata_engine::report::FileRef;
use strata_engine::{Cancel, EngineError, Limit, Observer, SetOptions, Undecided};
use strata_migrate::MigrationDir;
use strata_migrate::inflight::Marker;
use strata_migrate::plan::InFlightOutcome;

use crate::common::{Db, dir};

/// Tables every shape starts from (file 1).
const SETUP: &str = "CREATE TABLE base (id int PRIMARY KEY, a int, b int);
CREATE TABLE gone (id int);
CREATE VIEW gone_view AS SELECT 1 AS x;
CREATE INDEX base_b ON base (b);
CREATE TABLE child (id int PRIMARY KEY, base_id int, other_id int, CONSTRAINT child_other FOREIGN KEY (other_id) REFERENCES base (id));
CREATE TABLE nopk (id int NOT NULL);
CREATE TABLE haspk (id int PRIMARY KEY);
CREATE TABLE old_name (id int);
ALTER TABLE base ADD CONSTRAINT base_pos CHECK (id > 0);
INSERT INTO base VALUES (1, 1, 1), (2, 2, 2);
";

/// The file whose second statement is in flight.
fn shape_file(stmt: &str) -> String {
    format!("CREATE TABLE before_it (id int);\n{stmt}\nCREATE TABLE after_it (id int);\n")
}

fn shape_dir(stmt: &str) -> MigrationDir {
    dir(&[("1_setup.sql", SETUP), ("2_shape.sql", &shape_file(stmt))])
}

/// The decisions the engine reported.
#[derive(Default)]
struct Notes(Vec<(String, u64, bool, String)>);

impl Observer for Notes {
    fn in_flight(&mut self, file: &FileRef, statement: u64, took_effect: bool, why: &str) {
        self.0
            .push((file.name.clone(), statement, took_effect, why.to_owned()));
    }
}

/// Applies file 1, then runs file 2 with its progress write after statement 2 failing: statement 2 has taken
/// effect and the row names it as in flight.
async fn crash_after(db: &Db, d: &MigrationDir, stmt: &str) {
    let mut first = db.apply_opts();
    first.limit = Limit::Amount(std::num::NonZeroUsize::new(1).unwrap());
    db.apply_with(d, &first).await.unwrap();
    let name = db.test.name.clone();
    db.test
        .admin_execute(&format!(
            "CREATE TRIGGER `{name}`.lose_progress BEFORE UPDATE ON `{name}`.atlas_schema_revisions FOR EACH ROW \
             BEGIN IF NEW.version = '2' AND NEW.applied = 2 THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'simulated crash before the progress write'; END IF; END"
        ))
        .await;
    let err = db.apply(d).await.unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    db.test
        .admin_execute(&format!("DROP TRIGGER `{name}`.lose_progress"))
        .await;
    let row = db.rows().await.pop().unwrap();
    assert_eq!((row.version.as_str(), row.applied, row.total), ("2", 1, 3));
    let marker = Marker::parse(row.error.as_deref().unwrap_or_default())
        .unwrap_or_else(|| panic!("no in-flight marker: {row:?}"));
    assert_eq!(marker.statement, 2);
    assert!(marker.connection.is_some(), "{marker:?}");
    assert_eq!(row.error_stmt.as_deref(), Some(stmt));
}

/// Applies again and checks that it finished, with the in-flight statement decided as `took_effect`.
async fn recover(db: &Db, d: &MigrationDir, took_effect: bool) -> String {
    let mut notes = Notes::default();
    let report = strata_engine::apply(
        d,
        &db.db_url(),
        &db.apply_opts(),
        &mut notes,
        &Cancel::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("recovery needed a human: {e}"));
    assert_eq!(notes.0.len(), 1, "one decision");
    let (file, statement, decided, why) = notes.0.remove(0);
    assert_eq!((file.as_str(), statement), ("2_shape.sql", 2));
    assert_eq!(decided, took_effect, "decided {decided} because {why}");
    let f = &report.applied[0];
    assert_eq!(f.skipped, if took_effect { 2 } else { 1 }, "{f:?}");
    let row = db.rows().await.pop().unwrap();
    assert_eq!((row.applied, row.total), (3, 3), "{row:?}");
    assert_eq!(row.error.as_deref(), Some(""), "{row:?}");
    assert!(db.has_table("after_it").await);
    why
}

/// One recognised shape: the statement, SQL that reverts it, and SQL counting what it leaves (1 once done).
async fn shape(stmt: &str, undo: &str, probe: &str) {
    // Took effect: recorded as applied, not run again (it would fail if it were).
    let Some(db) = Db::mysql().await else { return };
    let d = shape_dir(stmt);
    crash_after(&db, &d, stmt).await;
    let why = recover(&db, &d, true).await;
    assert!(!why.is_empty());
    assert_eq!(db.scalar(probe).await.as_deref(), Some("1"), "{probe}");

    // Did not take effect (reverted, as if the crash came before it ran): it runs.
    let Some(db) = Db::mysql().await else { return };
    crash_after(&db, &d, stmt).await;
    db.exec(undo).await;
    recover(&db, &d, false).await;
    assert_eq!(db.scalar(probe).await.as_deref(), Some("1"), "{probe}");
}

fn count_in(view: &str, filter: &str) -> String {
    format!(
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.{view} WHERE TABLE_SCHEMA = DATABASE() AND {filter}"
    )
}

fn table_probe(t: &str, exists: bool) -> String {
    format!(
        "SELECT CAST(COUNT(*) = {} AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
         AND TABLE_NAME = '{t}'",
        u8::from(exists)
    )
}

fn column_probe(t: &str, c: &str, exists: bool) -> String {
    format!(
        "SELECT CAST(COUNT(*) = {} AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         AND TABLE_NAME = '{t}' AND COLUMN_NAME = '{c}'",
        u8::from(exists)
    )
}

fn index_probe(t: &str, i: &str, exists: bool) -> String {
    format!(
        "SELECT CAST(COUNT(DISTINCT INDEX_NAME) = {} AS CHAR) FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{t}' AND INDEX_NAME = '{i}'",
        u8::from(exists)
    )
}

fn constraint_probe(t: &str, k: &str, exists: bool) -> String {
    format!(
        "SELECT CAST(COUNT(*) = {} AS CHAR) FROM information_schema.TABLE_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = '{t}' AND CONSTRAINT_NAME = '{k}'",
        u8::from(exists)
    )
}

macro_rules! shapes {
    ($($name:ident: $stmt:expr, $undo:expr, $probe:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                shape($stmt, $undo, &$probe).await;
            }
        )*
    };
}

shapes! {
    create_table: "CREATE TABLE made (id int);", "DROP TABLE made", table_probe("made", true);
    create_view: "CREATE VIEW made_view AS SELECT id FROM base;", "DROP VIEW made_view",
        count_in("VIEWS", "TABLE_NAME = 'made_view'");
    create_index: "CREATE INDEX base_a ON base (a);", "DROP INDEX base_a ON base",
        index_probe("base", "base_a", true);
    drop_table: "DROP TABLE gone;", "CREATE TABLE gone (id int)", table_probe("gone", false);
    drop_view: "DROP VIEW gone_view;", "CREATE VIEW gone_view AS SELECT 1 AS x",
        table_probe("gone_view", false);
    drop_index: "DROP INDEX base_b ON base;", "CREATE INDEX base_b ON base (b)",
        index_probe("base", "base_b", false);
    add_column: "ALTER TABLE base ADD COLUMN c int NOT NULL DEFAULT 7, ALGORITHM=COPY;",
        "ALTER TABLE base DROP COLUMN c", column_probe("base", "c", true);
    drop_column: "ALTER TABLE base DROP COLUMN a;", "ALTER TABLE base ADD COLUMN a int AFTER id",
        column_probe("base", "a", false);
    change_column: "ALTER TABLE base CHANGE a renamed bigint;", "ALTER TABLE base CHANGE renamed a int",
        column_probe("base", "renamed", true);
    rename_column: "ALTER TABLE base RENAME COLUMN a TO a2;", "ALTER TABLE base RENAME COLUMN a2 TO a",
        column_probe("base", "a2", true);
    add_index: "ALTER TABLE base ADD INDEX base_ab (a, b);", "ALTER TABLE base DROP INDEX base_ab",
        index_probe("base", "base_ab", true);
    add_unique_key: "ALTER TABLE base ADD UNIQUE KEY base_u (a);", "ALTER TABLE base DROP KEY base_u",
        index_probe("base", "base_u", true);
    drop_key: "ALTER TABLE base DROP KEY base_b;", "ALTER TABLE base ADD KEY base_b (b)",
        index_probe("base", "base_b", false);
    add_check: "ALTER TABLE base ADD CONSTRAINT base_ck CHECK (a >= 0);",
        "ALTER TABLE base DROP CONSTRAINT base_ck", constraint_probe("base", "base_ck", true);
    drop_check: "ALTER TABLE base DROP CONSTRAINT base_pos;",
        "ALTER TABLE base ADD CONSTRAINT base_pos CHECK (id > 0)", constraint_probe("base", "base_pos", false);
    add_foreign_key: "ALTER TABLE child ADD CONSTRAINT child_base FOREIGN KEY (base_id) REFERENCES base (id);",
        "ALTER TABLE child DROP FOREIGN KEY child_base", constraint_probe("child", "child_base", true);
    drop_foreign_key: "ALTER TABLE child DROP FOREIGN KEY child_other;",
        "ALTER TABLE child ADD CONSTRAINT child_other FOREIGN KEY (other_id) REFERENCES base (id)",
        constraint_probe("child", "child_other", false);
    add_primary_key: "ALTER TABLE nopk ADD PRIMARY KEY (id);", "ALTER TABLE nopk DROP PRIMARY KEY",
        index_probe("nopk", "PRIMARY", true);
    drop_primary_key: "ALTER TABLE haspk DROP PRIMARY KEY;", "ALTER TABLE haspk ADD PRIMARY KEY (id)",
        index_probe("haspk", "PRIMARY", false);
    rename_table: "RENAME TABLE old_name TO new_name;", "RENAME TABLE new_name TO old_name",
        table_probe("new_name", true);
    alter_rename_table: "ALTER TABLE old_name RENAME TO new_name2;", "ALTER TABLE new_name2 RENAME TO old_name",
        table_probe("new_name2", true);
}

/// `MODIFY` redefines the column whatever it was: whether or not it took effect, it simply runs again.
#[tokio::test]
async fn modify_runs_again() {
    let stmt = "ALTER TABLE base MODIFY a bigint NOT NULL DEFAULT 0;";
    let probe = "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = 'base' AND COLUMN_NAME = 'a' AND DATA_TYPE = 'bigint' AND IS_NULLABLE = 'NO'";
    for undo in [None, Some("ALTER TABLE base MODIFY a int")] {
        let Some(db) = Db::mysql().await else { return };
        let d = shape_dir(stmt);
        crash_after(&db, &d, stmt).await;
        if let Some(u) = undo {
            db.exec(u).await;
        }
        let why = recover(&db, &d, false).await;
        assert!(why.contains("same result"), "{why}");
        assert_eq!(db.scalar(probe).await.as_deref(), Some("1"));
    }
}

/// An unnamed index cannot be looked up: the run stops, names the file, the statement and the commands; `migrate
/// set --in-flight applied` (the index is there) lets the next apply continue after it without running it again.
#[tokio::test]
async fn unknown_stops_with_the_commands_and_set_applied_continues() {
    let Some(db) = Db::mysql().await else { return };
    let stmt = "ALTER TABLE base ADD INDEX (a);";
    let d = shape_dir(stmt);
    crash_after(&db, &d, stmt).await;
    let err = db.apply(&d).await.unwrap_err();
    let EngineError::InFlight(stop) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (stop.file.as_str(), stop.version.as_str(), stop.statement),
        ("2_shape.sql", "2", 2)
    );
    assert!(
        matches!(&stop.problem, Undecided::Unknown(why) if why.contains("an index without a name"))
    );
    let text = err.to_string();
    let connection = stop.connection.expect("the session was recorded");
    assert_eq!(
        text,
        format!(
            "sql/migrate: cannot tell whether statement 2 of \"2_shape.sql\" took effect: an earlier run stopped \
             while it ran (connection {connection}), and no clause of it shows in the schema (an index without a \
             name) [at 2_shape.sql:2:1]\n\n    -> ALTER TABLE base ADD INDEX (a);\n\nCheck the database, then \
             record what happened and apply again (with the --url, --dir and --revisions-schema of this apply):\n  \
             it took effect:                   strata migrate set 2 --in-flight applied\n  \
             it did not, or you reverted it:   strata migrate set 2 --in-flight pending"
        )
    );
    assert_eq!(err.report().unwrap().error, text, "JSON reports carry it");
    // Nothing ran, nothing changed.
    assert!(!db.has_table("after_it").await);
    let row = db.rows().await.pop().unwrap();
    assert_eq!(row.applied, 1);
    // Status shows the row as an attempt that needs attention, as Atlas would.
    let st = db.status(&d).await.unwrap();
    assert!(
        st.to_text()
            .contains("  -- SQL:   ALTER TABLE base ADD INDEX (a);\n")
            && st
                .to_text()
                .contains("  -- ERROR: strata: statement 2 started on connection"),
        "{}",
        st.to_text()
    );

    let set = set_in_flight(&db, &d, "2", InFlightOutcome::Applied)
        .await
        .unwrap();
    assert_eq!(
        set.to_text(),
        "Current version is 2 (1 set):\n\n  + 2 (shape)\n\n"
    );
    let row = db.rows().await.pop().unwrap();
    assert_eq!(
        (row.kind, row.applied, row.error.as_deref()),
        (6, 2, Some(""))
    );
    let r = db.apply(&d).await.unwrap();
    assert_eq!(r.applied[0].skipped, 2);
    assert!(db.has_table("after_it").await);
    assert_eq!(
        db.scalar(&count_in(
            "STATISTICS",
            "TABLE_NAME = 'base' AND COLUMN_NAME = 'a'"
        ))
        .await
        .as_deref(),
        Some("1"),
        "the index exists once"
    );
}

/// `migrate set --in-flight pending` after reverting the statement: the next apply runs it.
#[tokio::test]
async fn unknown_then_set_pending_runs_it() {
    let Some(db) = Db::mysql().await else { return };
    let stmt = "ALTER TABLE base ADD INDEX (a);";
    let d = shape_dir(stmt);
    crash_after(&db, &d, stmt).await;
    assert!(matches!(
        db.apply(&d).await.unwrap_err(),
        EngineError::InFlight(_)
    ));
    db.exec("ALTER TABLE base DROP INDEX a").await;
    set_in_flight(&db, &d, "2", InFlightOutcome::Pending)
        .await
        .unwrap();
    let row = db.rows().await.pop().unwrap();
    assert_eq!(
        (row.kind, row.applied, row.error.as_deref()),
        (6, 1, Some(""))
    );
    let r = db.apply(&d).await.unwrap();
    assert_eq!(r.applied[0].skipped, 1);
    assert_eq!(
        db.scalar(&count_in(
            "STATISTICS",
            "TABLE_NAME = 'base' AND INDEX_NAME = 'a'"
        ))
        .await
        .as_deref(),
        Some("1")
    );
}

/// `--in-flight` on a row without a marker, and without a version, is refused and changes nothing.
#[tokio::test]
async fn set_in_flight_refuses_without_a_marker() {
    let Some(db) = Db::mysql().await else { return };
    let d = shape_dir("CREATE TABLE made (id int);");
    db.apply(&d).await.unwrap();
    let before = db.rows().await;
    let err = set_in_flight(&db, &d, "2", InFlightOutcome::Applied)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "revision \"2\" records no statement in flight (3 of 3 statements applied, no error): there is nothing \
         for --in-flight to settle; 'migrate set' without it rewrites the history"
    );
    let opts = SetOptions {
        in_flight: Some(InFlightOutcome::Pending),
        ..db.set_opts()
    };
    let err = strata_engine::set(&d, &db.db_url(), None, &opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs the version"), "{err}");
    assert_eq!(db.rows().await, before);
}

/// The session that ran the statement is still on the server (MariaDB finishes a statement whose client died):
/// the run waits for it, up to `--lock-timeout`, and decides once it is gone.
#[tokio::test]
async fn waits_for_the_interrupted_session() {
    use sqlx::Connection as _;
    let Some(db) = Db::mysql().await else { return };
    let stmt = "CREATE TABLE made (id int);";
    let d = shape_dir(stmt);
    crash_after(&db, &d, stmt).await;
    // A session that stays busy for a while stands in for the one that ran the statement.
    let mut busy = sqlx::MySqlConnection::connect(db.url()).await.unwrap();
    let id: u64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS UNSIGNED)")
        .fetch_one(&mut busy)
        .await
        .unwrap();
    let marker = Marker {
        statement: 2,
        connection: Some(id),
    };
    db.exec(&format!(
        "UPDATE atlas_schema_revisions SET error = '{}' WHERE version = '2'",
        marker.to_string().replace('\'', "''")
    ))
    .await;
    let sleeper = tokio::spawn(async move {
        sqlx::query("SELECT SLEEP(3)")
            .execute(&mut busy)
            .await
            .unwrap();
        busy.close().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut short = db.apply_opts();
    short.lock_timeout = Duration::from_millis(500);
    // The named lock is server-wide and a short wait may lose it to a parallel test: try until the run gets it.
    let err = loop {
        let err = strata_engine::apply(
            &d,
            &db.db_url(),
            &short,
            &mut Notes::default(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
        if !matches!(&err, EngineError::Lock(e) if e.is_lock_timeout()) {
            break err;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let EngineError::InFlight(stop) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        stop.problem,
        Undecided::StillRunning {
            connection: id,
            waited: Duration::from_millis(500)
        }
    );
    assert!(
        err.to_string()
            .contains(&format!("is still running on connection {id}")),
        "{err}"
    );
    // With the default wait the run outlasts the session, then decides.
    let started = std::time::Instant::now();
    recover(&db, &d, true).await;
    sleeper.await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "it waited");
}

async fn set_in_flight(
    db: &Db,
    d: &MigrationDir,
    version: &str,
    outcome: InFlightOutcome,
) -> Result<strata_engine::SetReport, EngineError> {
    let opts = SetOptions {
        in_flight: Some(outcome),
        ..db.set_opts()
    };
    // MariaDB's named lock is server-wide: retry while a parallel test holds it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = strata_engine::set(d, &db.db_url(), Some(version), &opts).await;
        match &r {
            Err(EngineError::Lock(e))
                if e.is_lock_timeout() && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return r,
        }
    }
}

/// A row without a marker (Atlas, or an older Strata, was interrupted): nothing says a statement was in flight, so
/// the run resumes at it as before, fails on the repeated DDL, and explains the way out.
#[tokio::test]
async fn a_row_without_a_marker_keeps_the_resume_hint() {
    let Some(db) = Db::mysql().await else { return };
    let stmt = "CREATE TABLE made (id int);";
    let d = shape_dir(stmt);
    crash_after(&db, &d, stmt).await;
    db.exec("UPDATE atlas_schema_revisions SET error = '', error_stmt = '' WHERE version = '2'")
        .await;
    let mut notes = Notes::default();
    let err = strata_engine::apply(
        &d,
        &db.db_url(),
        &db.apply_opts(),
        &mut notes,
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(notes.0.is_empty(), "nothing to decide");
    let text = err.to_string();
    assert!(
        text.contains("'made' already exists")
            && text.contains(
                "This run resumed 2_shape.sql at statement 2, after an earlier run stopped there"
            )
            && text.contains("run 'strata migrate set 1' to drop its partial revision"),
        "{text}"
    );
}

/// The file was edited after the crash at the statement in flight: what ran is not what the file says now, so the
/// run cannot decide (and `--in-flight` refuses until the file is restored).
#[tokio::test]
async fn an_edited_statement_in_flight_is_not_decided() {
    let Some(db) = Db::mysql().await else { return };
    let stmt = "CREATE TABLE made (id int);";
    crash_after(&db, &shape_dir(stmt), stmt).await;
    let edited = shape_dir("CREATE TABLE made (id bigint);");
    let err = db.apply(&edited).await.unwrap_err();
    let EngineError::InFlight(stop) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        stop.problem,
        Undecided::Unknown(
            "the file changed since: statement 2 now reads differently from the one that ran, recorded as \
             \"CREATE TABLE made (id int);\""
                .into()
        )
    );
    let err = set_in_flight(&db, &edited, "2", InFlightOutcome::Applied)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the file changed since"), "{err}");
    // Restored, the run decides on its own.
    recover(&db, &shape_dir(stmt), true).await;
}
