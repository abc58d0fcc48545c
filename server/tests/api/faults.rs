//! The database away or refusing work: requests answer a clear 503 meanwhile (never a 500, never
//! a success that was not written), and everything recovers by itself when it returns.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

/// Asserts a 503 with the `unavailable` error body; returns the body.
async fn unavailable(response: reqwest::Response, what: &str) -> Value {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{what}: {body}");
    body
}

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
    unavailable(b.login_response(ADMIN, PASSWORD).await, "signing in").await;
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
    let body = unavailable(created, "creating a cluster").await;
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

/// A cluster of its own (a restart would disturb the other tests' shared one), a restart the
/// way `pg_ctl restart -m fast` does it (fast shutdown, start on the same port) while a scan
/// runs and pages load.
#[tokio::test]
async fn a_database_restart_answers_503_meanwhile_and_everything_recovers_by_itself() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("restart-{}", std::process::id()));
    let _ = server::pg::remove_data_dir(&dir);
    let cluster = server::pg::EmbeddedPostgres::start(&dir).await.unwrap();
    let port = cluster.port();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(cluster.gatehouse_options())
        .await
        .unwrap();
    server::MIGRATOR.run(&pool).await.unwrap();
    let url = cluster.url("gatehouse");
    let app = spawn_app_on(pool, "gatehouse".into(), url, |serve| {
        serve.probe_timeout_seconds = 2;
        serve.scan_concurrency = 1;
    })
    .await;
    app.login(ADMIN, PASSWORD).await;
    // Three endpoints that never answer: the scan takes about 6 s.
    let silent = crate::scans::silent_listeners(3).await;
    let ports: Vec<u16> = silent
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let node = crate::scans::node_with_ports(&app, "finesse7.example.com", &ports).await;
    let scan = crate::scans::start_scan(&app, node).await;
    let before = app.audit_actions().await.len();

    cluster.stop().await.unwrap();
    assert_eq!(
        app.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/readyz").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    for path in ["/api/v1/clusters", "/api/v1/certificates", "/api/v1/audit"] {
        unavailable(app.get(path).send().await.unwrap(), path).await;
    }
    let refused = app
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": "while down"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = app.get("/inventory").send().await.unwrap();
    assert_ne!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let cluster = server::pg::EmbeddedPostgres::start_on(&dir, Some(port))
        .await
        .unwrap();
    // Everything comes back by itself: readiness, reads, writes, the scan.
    let mut ready = false;
    for _ in 0..100 {
        if app.get("/readyz").send().await.unwrap().status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again within 10 s");
    let created = app
        .send_json(Method::POST, "/api/v1/clusters", &json!({"name": "after"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let mut state = Value::Null;
    for _ in 0..600 {
        state = app.get_json(&format!("/api/v1/scans/{scan}")).await["state"].clone();
        if state != "running" && state != "queued" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "done", "the scan finished after the restart");
    // No audit entry lost, none made for what was refused, and the chain verifies.
    let actions = app.audit_action_names().await;
    assert_eq!(actions.len(), before + 1, "{actions:?}");
    assert_eq!(actions.last().unwrap(), "cluster.create");
    let verified = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(verified["ok"], true, "{verified}");
    drop(silent);
    cluster.stop().await.unwrap();
    let _ = server::pg::remove_data_dir(&dir);
}

/// The database out of space answers every write with SQLSTATE 53100 (`disk_full`); a trigger
/// raises exactly that where the write lands, as a full disk would.
#[tokio::test]
async fn a_full_disk_refuses_writes_with_a_clear_503_and_nothing_is_recorded() {
    let app = spawn_admin().await;
    let audit_before = app.audit_actions().await.len();
    sqlx::raw_sql(
        "create function disk_full() returns trigger language plpgsql as $$
         begin
             raise exception 'could not extend file: No space left on device' using errcode = 'disk_full';
         end $$;
         create trigger disk_full before insert on cluster for each statement execute function disk_full();",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let refused = app
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": "no room"}),
        )
        .await;
    unavailable(refused, "creating a cluster").await;
    let clusters: i64 = sqlx::query_scalar("select count(*) from cluster")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);
    // The change and its audit entry are one transaction: neither was written.
    assert_eq!(app.audit_actions().await.len(), audit_before);
}
