use crate::common::connect;
use strata_driver::{DriverError, redact};

#[tokio::test]
async fn unknown_scheme_and_bad_urls() {
    let err = connect("oracle://scott:tiger@h/db").await.unwrap_err();
    assert!(
        matches!(err, DriverError::UnknownScheme { ref scheme } if scheme == "oracle"),
        "{err}"
    );
    assert!(err.to_string().contains("postgres://"), "{err}");
    assert!(!format!("{err:?}").contains("tiger"));

    let err = connect("mysql://u:tiger@h:port/db").await.unwrap_err();
    assert!(
        matches!(err, DriverError::InvalidUrl { ref field, .. } if field == "port"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("tiger") && !format!("{err:?}").contains("tiger"),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_mysql_is_a_connect_error() {
    let err = connect("mysql://root:tiger@127.0.0.1:1/db")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DriverError::Connect { .. }), "{msg}");
    assert!(msg.contains("mysql://root:xxxxx@127.0.0.1:1/db"), "{msg}");
    assert!(msg.contains("reachable at 127.0.0.1:1"), "{msg}");
    assert!(!msg.contains("tiger") && !format!("{err:?}").contains("tiger"));
}

#[test]
fn redact_is_public() {
    assert_eq!(
        redact("maria://u:p@h/db?password=p"),
        "maria://u:xxxxx@h/db?password=xxxxx"
    );
}
