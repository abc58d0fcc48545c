//! The audit log: append-only in the database, chained by hash, readable and exportable.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::ConnectOptions;
use testkit::app::*;

#[tokio::test]
async fn the_database_itself_refuses_to_update_delete_or_truncate_entries() {
    let app = spawn_admin().await;
    for statement in [
        "update audit_entry set actor = 'mallory'",
        "delete from audit_entry",
        "truncate audit_entry",
    ] {
        let error = sqlx::query(statement).execute(&app.pool).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
}

async fn verify(app: &testkit::app::TestApp) -> Value {
    let response = app.get("/api/v1/audit/verify").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// What someone with the database's superuser does by hand: switch the guard off, change rows.
async fn tamper(app: &testkit::app::TestApp, statement: &str) {
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("alter table audit_entry disable trigger user")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut *conn).await.unwrap();
    sqlx::query("alter table audit_entry enable trigger user")
        .execute(&mut *conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn verify_passes_on_an_intact_chain() {
    let app = spawn_admin().await;
    app.create_user("bob", "auditor").await;
    let report = verify(&app).await;
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["entries"].as_i64().unwrap() >= 3);
    assert!(report.get("first_broken").is_none());
}

#[tokio::test]
async fn verify_names_an_edited_entry() {
    let app = spawn_admin().await;
    app.create_user("bob", "auditor").await;
    tamper(
        &app,
        "update audit_entry set actor = 'mallory' where id = 2",
    )
    .await;
    let report = verify(&app).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken"], 2);
    assert!(report["reason"].as_str().unwrap().contains("edited"));
}

#[tokio::test]
async fn verify_names_the_entry_after_a_deleted_one() {
    let app = spawn_admin().await;
    app.create_user("bob", "auditor").await;
    tamper(&app, "delete from audit_entry where id = 2").await;
    let report = verify(&app).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken"], 3);
    assert!(report["reason"].as_str().unwrap().contains("missing"));
}

#[tokio::test]
async fn the_command_line_verify_fails_on_a_broken_chain() {
    let app = spawn_admin().await;
    tamper(
        &app,
        "update audit_entry set detail = 'nothing happened' where id = 1",
    )
    .await;
    let options: sqlx::postgres::PgConnectOptions = app.pool.connect_options().as_ref().clone();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", options.to_url_lossy().to_string())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["first_broken"], 1);
}

#[tokio::test]
async fn reading_filtering_and_exporting_are_themselves_audited() {
    let app = spawn_admin().await;
    let page: Value = app
        .get_json("/api/v1/audit?action=auth.&outcome=success")
        .await;
    let entries = page["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("auth.")));
    assert!(entries
        .iter()
        .all(|e| e["hash"].as_str().unwrap().len() == 64));

    let csv = app.get("/api/v1/audit?format=csv").send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,at,actor,actor_role,source,action,target,outcome,detail,before,after,prev_hash,hash"
    );
    assert!(lines.count() >= 3);

    let jsonl = app
        .get("/api/v1/audit?format=jsonl")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in jsonl.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        assert_eq!(entry["prev_hash"].as_str().unwrap().len(), 64);
    }
    let actions = app.audit_action_names().await;
    assert!(actions.contains(&"audit.read".to_owned()));
    assert_eq!(actions.iter().filter(|a| *a == "audit.export").count(), 2);
}

#[tokio::test]
async fn secrets_never_reach_the_audit_log() {
    let app = spawn_admin().await;
    let id = app.create_user("bob", "auditor").await;
    app.request(reqwest::Method::PUT, &format!("/api/v1/users/{id}"))
        .json(&serde_json::json!({"password": "a secret new passphrase"}))
        .send()
        .await
        .unwrap();
    let token = app.create_token("ci", "monitor").await;
    let dump = app
        .get("/api/v1/audit?format=jsonl")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in [
        PASSWORD,
        "a secret new passphrase",
        token.as_str(),
        "$argon2id",
    ] {
        assert!(!dump.contains(secret), "{secret} leaked into the audit log");
    }
}
