//! Two replicas on one PostgreSQL: sessions, the sign-in throttle, setup links, the fleet view,
//! schedules, cancels and a replica killed mid-scan.

use crate::scans::{node_with_ports, scan_and_wait, silent_listeners, start_scan, tls_endpoint};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use testkit::app::*;

/// Polls `probe` every 100 ms until it returns `Some`, for at most `seconds`.
async fn within<T, F: std::future::Future<Output = Option<T>>>(
    seconds: u64,
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    for _ in 0..seconds * 10 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {seconds} s");
}

async fn scan_state(app: &TestApp, id: i64) -> (String, i64, i64) {
    sqlx::query_as::<_, (String, i32, i32)>("select state, done, total from scan where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .map(|(state, done, total)| (state, done.into(), total.into()))
        .unwrap()
}

#[tokio::test]
async fn a_session_made_on_one_replica_works_on_the_other_and_ends_on_both() {
    let a = spawn_admin().await;
    let b = a.replica(|_| {}).await;
    // One browser, two backends behind a load balancer: the same cookie jar.
    let users = a.client.get(b.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::OK);
    let out = a
        .client
        .delete(b.url("/api/v1/session"))
        .header("Origin", &b.origin)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let after = a.client.get(a.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_failures_spread_over_replicas_add_up() {
    let a = spawn_app_with(|serve| serve.login_account_limit = 4).await;
    a.login(ADMIN, PASSWORD).await;
    a.create_user("auditor1", "auditor").await;
    let b = a.replica(|serve| serve.login_account_limit = 4).await;
    for app in [&a, &b, &a, &b] {
        let response = app.login_response(ADMIN, "wrong password here").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    for app in [&a, &b] {
        let response = app.login_response(ADMIN, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
    }
    // Another account from the same address is not throttled by these.
    b.login("auditor1", PASSWORD).await;
}

#[tokio::test]
async fn the_address_limit_counts_across_accounts_and_a_sign_in_clears_only_the_account() {
    let a = spawn_app_with(|serve| {
        serve.login_account_limit = 2;
        serve.login_address_limit = 3;
    })
    .await;
    a.login(ADMIN, PASSWORD).await;
    a.create_user("auditor1", "auditor").await;
    a.login_response(ADMIN, "wrong one").await;
    a.login(ADMIN, PASSWORD).await;
    // The account's failure is forgotten; the address's is not.
    a.login_response(ADMIN, "wrong two").await;
    a.login_response("auditor1", "wrong three").await;
    assert_eq!(
        a.login_response("auditor1", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_setup_link_printed_by_one_replica_opens_setup_on_the_other() {
    let a = spawn_app_with(|serve| serve.bootstrap_admin = None).await;
    let b = a.replica(|serve| serve.bootstrap_admin = None).await;
    // Each replica printed a link; the test holds one made the same way.
    let token = domain::auth::setup::open_setup(&a.pool).await.unwrap();
    for app in [&a, &b] {
        let page = app
            .get(&format!("/setup?token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let wrong = app.get("/setup?token=not-it").send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    }
    let context = domain::auth::principal::RequestContext {
        principal: None,
        source: "local".into(),
    };
    domain::auth::setup::create_first_admin(&a.pool, &context, ADMIN, PASSWORD)
        .await
        .unwrap()
        .expect("the first admin");
    let closed = b
        .get(&format!("/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_change_made_on_one_replica_shows_on_the_others_next_request() {
    let a = spawn_admin().await;
    let b = a.replica(|_| {}).await;
    b.login(ADMIN, PASSWORD).await;
    // B reads (and keeps) the fleet view first.
    assert_eq!(b.get_json("/api/v1/certificates").await, json!([]));
    let port = tls_endpoint("uccx1.example.com", &["uccx1.example.com"], 10).await;
    let node = node_with_ports(&a, "uccx1.example.com", &[port]).await;
    scan_and_wait(&a, json!({"node_ids": [node]})).await;
    let served = b.get_json("/api/v1/certificates").await;
    assert_eq!(served.as_array().unwrap().len(), 1, "{served}");
    let deleted = a
        .request(Method::DELETE, &format!("/api/v1/nodes/{node}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.get_json("/api/v1/certificates").await, json!([]));
}

#[tokio::test]
async fn a_schedule_fires_once_per_period_across_replicas() {
    // Due in 36 s at start; the test makes it due at once, five times over.
    let fast = |serve: &mut server::config::Serve| serve.scan_interval_hours = 0.01;
    let a = spawn_app_with(fast).await;
    let _b = a.replica(fast).await;
    let _c = a.replica(fast).await;
    for round in 1..=5i64 {
        sqlx::query("update schedule set next_at = now() where name = 'fleet_scan'")
            .execute(&a.pool)
            .await
            .unwrap();
        within(10, "the schedule fires", || async {
            let due: bool = sqlx::query_scalar(
                "select next_at <= now() from schedule where name = 'fleet_scan'",
            )
            .fetch_one(&a.pool)
            .await
            .unwrap();
            (!due).then_some(())
        })
        .await;
        // Its scan (of an empty fleet) is queued and done by whichever replica.
        let scheduled = || async {
            let rows: Vec<(String,)> = sqlx::query_as(
                "select state from scan where requested_by = 'system:scheduler' order by id",
            )
            .fetch_all(&a.pool)
            .await
            .unwrap();
            let all_done = rows.iter().all(|(s,)| s == "done");
            (rows.len() as i64, all_done)
        };
        within(10, "the scheduled scan ends", || async {
            let (count, all_done) = scheduled().await;
            (count >= round && all_done).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(scheduled().await.0, round, "one scheduled scan per period");
    }
    let jobs: i64 = sqlx::query_scalar("select count(*) from job where kind = 'fleet_scan'")
        .fetch_one(&a.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 5);
}

#[tokio::test]
async fn a_cancel_on_one_replica_stops_the_scan_running_on_the_other() {
    let a = spawn_admin().await;
    let silent = silent_listeners(1).await;
    let port = silent[0].local_addr().unwrap().port();
    let node = node_with_ports(&a, "finesse8.example.com", &[port]).await;
    let id = start_scan(&a, node).await;
    within(5, "A runs the scan", || async {
        (scan_state(&a, id).await.0 == "running").then_some(())
    })
    .await;
    // B starts after A took the job, so the scan runs on A; the cancel goes to B.
    let b = a.replica(|_| {}).await;
    let cancel = a
        .client
        .post(b.url(&format!("/api/v1/scans/{id}/cancel")))
        .header("Origin", &b.origin)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    // Well before the probe's 5 s timeout: A heard the cancel at once.
    within(3, "the scan stops on A", || async {
        (scan_state(&a, id).await.0 == "cancelled").then_some(())
    })
    .await;
    drop(silent);
}

#[tokio::test]
async fn a_scan_whose_replica_is_killed_is_finished_by_another() {
    // This replica serves the API but runs no jobs; the scan runs in a real `gatehouse`
    // process on the same database, which is then killed with SIGKILL.
    let a = spawn_app_with(|serve| serve.job_slots = 0).await;
    a.login(ADMIN, PASSWORD).await;
    // Two endpoints refuse at once (the killed process records them), two never answer (it
    // is waiting for them when it dies).
    let silent = silent_listeners(2).await;
    let mut ports: Vec<u16> = silent
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    ports.extend([testkit::free_port(), testkit::free_port()]);
    let node = node_with_ports(&a, "finesse9.example.com", &ports).await;
    let doomed = gatehouse_process(&a.database_url);
    let id = start_scan(&a, node).await;
    within(20, "the process records the refusals", || async {
        let (state, done, _) = scan_state(&a, id).await;
        (state == "running" && done == 2).then_some(())
    })
    .await;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(doomed.id() as i32, libc::SIGKILL) };
    drop(doomed);
    let b = a
        .replica(|serve| {
            serve.job_lease_seconds = 3;
            serve.probe_timeout_seconds = 1;
        })
        .await;
    let (state, done, total) = within(40, "B finishes the scan", || async {
        let now = scan_state(&a, id).await;
        (now.0 != "running" && now.0 != "queued").then_some(now)
    })
    .await;
    assert_eq!((state.as_str(), done, total), ("done", 4, 4));
    // The worker records the scan's end, then its job's: the job follows within moments.
    let attempts: i32 = within(5, "B marks the job done", || async {
        let (attempts, job_state): (i32, String) = sqlx::query_as(
            "select j.attempts, j.state from job j join scan s on s.job_id = j.id where s.id = $1",
        )
        .bind(id)
        .fetch_one(&b.pool)
        .await
        .unwrap();
        (job_state == "done").then_some(attempts)
    })
    .await;
    assert_eq!(attempts, 2);
    // Each endpoint has one result in the scan: what the killed process recorded is kept and
    // not probed again.
    let probes: i64 = sqlx::query_scalar("select count(*) from probe where scan_id = $1")
        .bind(id)
        .fetch_one(&b.pool)
        .await
        .unwrap();
    assert_eq!(probes, 4);
    drop(silent);
}

/// The real binary as a replica on `database_url`, probing with a long timeout (so that it is
/// mid-scan when killed) and renewing a 3-second lease.
fn gatehouse_process(database_url: &str) -> testkit::Reaped {
    let data = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("replica-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{}", testkit::free_port())])
        .env("DATABASE_URL", database_url)
        .env("GATEHOUSE_DATA_DIR", &data)
        .env("GATEHOUSE_SCAN_INTERVAL_HOURS", "0")
        .env("GATEHOUSE_SAMPLE_INTERVAL_SECONDS", "0")
        .env("GATEHOUSE_SCAN_CONCURRENCY", "4")
        .env("GATEHOUSE_PROBE_TIMEOUT_SECONDS", "60")
        .env("GATEHOUSE_JOB_LEASE_SECONDS", "3")
        .env(
            "LEPTOS_SITE_ROOT",
            std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "../target/site".into()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    testkit::Reaped(child)
}

#[tokio::test]
async fn every_webhook_message_is_posted_once_by_three_replicas_sending() {
    let sending = |serve: &mut server::config::Serve| serve.webhook_poll_seconds = 1;
    let a = spawn_app_with(sending).await;
    a.login(ADMIN, PASSWORD).await;
    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200));
    let (base, received) = crate::webhooks::receiver(status).await;
    let created = a
        .send_json(
            Method::POST,
            "/api/v1/webhooks",
            &json!({"name": "ops", "url": format!("{base}/json"), "format": "json"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let _b = a.replica(sending).await;
    let _c = a.replica(sending).await;
    // 60 transitions at once (as a fleet scan finding many changes would queue them), each
    // named by its `n`; all three senders look every second.
    const MESSAGES: i64 = 60;
    sqlx::query(
        "with t as (
             insert into transition (sha256, to_state, detail)
             select repeat('0', 64), 'critical', jsonb_build_object('n', n) from generate_series(1, $1) n
             returning id
         )
         insert into delivery (transition_id, webhook_id, state) select t.id, w.id, 'pending' from t, webhook w",
    )
    .bind(MESSAGES)
    .execute(&a.pool)
    .await
    .unwrap();
    within(20, "every message posted", || async {
        (received.lock().unwrap().len() as i64 >= MESSAGES).then_some(())
    })
    .await;
    // Two more rounds of every sender: nothing is posted again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut seen: Vec<i64> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| body["n"].as_i64().unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (1..=MESSAGES).collect::<Vec<_>>(),
        "each exactly once"
    );
    let attempts: Vec<(String, i32)> =
        sqlx::query_as("select distinct state, attempts from delivery")
            .fetch_all(&a.pool)
            .await
            .unwrap();
    assert_eq!(attempts, [("delivered".to_owned(), 1)]);
}

#[tokio::test]
async fn a_job_longer_than_its_lease_stays_with_the_replica_that_renews_it() {
    // A 3 s lease and a scan of about 5 s (one endpoint that never answers): without renewal
    // the job would be taken back after 3 s and run again.
    let short = |serve: &mut server::config::Serve| {
        serve.job_lease_seconds = 3;
        serve.probe_timeout_seconds = 5;
    };
    let a = spawn_app_with(short).await;
    a.login(ADMIN, PASSWORD).await;
    let silent = silent_listeners(1).await;
    let port = silent[0].local_addr().unwrap().port();
    let node = node_with_ports(&a, "finesse5.example.com", &[port]).await;
    let id = start_scan(&a, node).await;
    within(5, "the scan runs", || async {
        (scan_state(&a, id).await.0 == "running").then_some(())
    })
    .await;
    let _b = a.replica(short).await;
    let state = within(20, "the scan ends", || async {
        let (state, _, _) = scan_state(&a, id).await;
        (state != "running" && state != "queued").then_some(state)
    })
    .await;
    assert_eq!(state, "done");
    let attempts: i32 = sqlx::query_scalar(
        "select j.attempts from job j join scan s on s.job_id = j.id where s.id = $1",
    )
    .bind(id)
    .fetch_one(&a.pool)
    .await
    .unwrap();
    assert_eq!(attempts, 1, "never taken back while renewed");
    drop(silent);
}
