//! The job queue and its typed kinds: a replica runs only the kinds it knows and leaves the
//! others (a newer replica's) in the table; a payload its kind cannot read fails the job as a
//! bug, with that said.

use serde_json::json;
use std::time::Duration;
use testkit::app::*;

/// Queues a job row as another replica would (two attempts), with `state` and an expired lease
/// when running.
async fn job_row(app: &TestApp, kind: &str, payload: serde_json::Value, state: &str) -> i64 {
    sqlx::query_scalar(
        "insert into job (kind, payload, max_attempts, created_by, state, owner, lease_until, attempts)
         values ($1, $2, 2, 'test', $3,
                 case when $3 = 'running' then 'gone:1:abcdef' end,
                 case when $3 = 'running' then now() - interval '1 minute' end,
                 case when $3 = 'running' then 1 else 0 end)
         returning id",
    )
    .bind(kind)
    .bind(payload)
    .bind(state)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn job_state(app: &TestApp, id: i64) -> (String, i32, Option<String>) {
    sqlx::query_as("select state, attempts, error from job where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Waits until job `id` is no longer queued or running (at most 10 s).
async fn ended(app: &TestApp, id: i64) -> (String, i32, Option<String>) {
    for _ in 0..100 {
        let state = job_state(app, id).await;
        if state.0 != "queued" && state.0 != "running" {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} did not end within 10 s");
}

#[tokio::test]
async fn jobs_of_a_kind_this_replica_does_not_know_are_left_for_one_that_does() {
    let app = spawn_app().await;
    let queued = job_row(&app, "from_a_newer_release", json!({}), "queued").await;
    let abandoned = job_row(&app, "from_a_newer_release", json!({}), "running").await;
    // Known kinds queued and abandoned after them are run and taken back.
    let ping = job_row(&app, "ping", json!({}), "queued").await;
    let taken_back = job_row(&app, "ping", json!({}), "running").await;
    assert_eq!(ended(&app, ping).await.0, "done");
    assert_eq!(ended(&app, taken_back).await, ("done".into(), 2, None));
    // Several rounds later the unknown ones are as they were: never claimed, never reaped.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(job_state(&app, queued).await, ("queued".into(), 0, None));
    assert_eq!(
        job_state(&app, abandoned).await,
        ("running".into(), 1, None)
    );
}

#[tokio::test]
async fn a_payload_its_kind_cannot_read_fails_the_job_and_says_it_is_a_bug() {
    let app = spawn_app().await;
    let id: i64 = sqlx::query_scalar(
        "insert into job (kind, payload, created_by) values ('scan', '{\"scan\": \"seven\"}', 'test') returning id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (state, attempts, error) = ended(&app, id).await;
    assert_eq!((state.as_str(), attempts), ("failed", 1));
    let error = error.unwrap_or_default();
    assert!(
        error.contains("the payload of a scan job is not what its kind takes (a bug)")
            && error.contains("scan_id"),
        "{error}"
    );
}
