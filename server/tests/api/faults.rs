//! The database refusing work: writes answer a clear 503 and nothing reports success that was
//! not written.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

#[tokio::test]
async fn a_read_only_database_refuses_writes_with_a_clear_503() {
    let a = spawn_admin().await;
    // As on a standby after a failover, or an operator's `default_transaction_read_only`: every
    // new connection to this database is read-only. A replica started now has only such
    // connections.
    sqlx::query(&format!(
        "alter database {} set default_transaction_read_only = on",
        a.database
    ))
    .execute(&a.pool)
    .await
    .unwrap();
    let b = a.replica(|_| {}).await;
    let ready = b.get("/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "reads still work");
    // Signing in writes the session: refused, and said so.
    let login = b.login_response(ADMIN, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    // With a session made on the writable replica, a change through the read-only one is
    // refused too, and nothing is written.
    let created = a
        .client
        .post(b.url("/api/v1/clusters"))
        .header("Origin", &b.origin)
        .json(&json!({"name": "written?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("try again"),
        "{body}"
    );
    let clusters: i64 = sqlx::query_scalar("select count(*) from cluster")
        .fetch_one(&a.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);
    // The writable replica still works.
    let created = a
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": "written"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
}
