//! The embedded PostgreSQL: created on first start, reused afterwards, survives a crash's stale
//! `postmaster.pid`, and keeps the data between starts.

use server::pg::EmbeddedPostgres;
use sqlx::{ConnectOptions, Connection};

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "current_thread")]
async fn the_cluster_is_reused_with_its_data_and_a_stale_pid_file_is_cleared() {
    let dir = fresh_dir("reuse");

    let first = EmbeddedPostgres::start(&dir)
        .await
        .expect("first start creates the cluster");
    let mut conn = first.gatehouse_options().connect().await.unwrap();
    sqlx::query("create table kept (value text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("insert into kept values ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    first.stop().await.expect("a clean stop");
    assert!(
        !dir.join("postgres/postmaster.pid").exists(),
        "a clean stop removes the pid file"
    );

    // A crash leaves postmaster.pid behind, naming a process that is gone.
    std::fs::write(dir.join("postgres/postmaster.pid"), "999999\n/nowhere\n").unwrap();
    let second = EmbeddedPostgres::start(&dir)
        .await
        .expect("restart after a crash");
    let mut conn = second.gatehouse_options().connect().await.unwrap();
    let value: String = sqlx::query_scalar("select value from kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(value, "still here");
    conn.close().await.unwrap();

    // While it runs, a second start on the same directory is refused with a reason.
    let error = EmbeddedPostgres::start(&dir)
        .await
        .err()
        .expect("the directory is in use");
    assert!(error.to_string().contains("already running"), "{error:#}");
    second.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "current_thread")]
async fn the_password_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("private");
    let pg = EmbeddedPostgres::start(&dir).await.unwrap();
    let mode = std::fs::metadata(dir.join("postgres.password"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Only password authentication is accepted.
    let wrong = pg.gatehouse_options().password("wrong").connect().await;
    assert!(wrong.is_err());
    pg.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn requests_answer_503_while_the_database_is_away_and_recover_when_it_returns() {
    use server::config::{Cli, Command};
    let dir = fresh_dir("away");
    let pg = EmbeddedPostgres::start(&dir).await.unwrap();
    let port = pg.port();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(pg.gatehouse_options())
        .await
        .unwrap();
    server::MIGRATOR.run(&pool).await.unwrap();
    let Command::Serve(serve) = <Cli as clap::Parser>::parse_from([
        "gatehouse",
        "serve",
        "--bootstrap-admin",
        "admin:correct horse battery",
    ])
    .command
    else {
        unreachable!()
    };
    let state = server::app_state(pool, &serve, false).unwrap();
    server::bootstrap(&state, &serve).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::router(state)
        .unwrap()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let login = || {
        client
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "admin", "password": "correct horse battery"}))
            .send()
    };
    assert_eq!(login().await.unwrap().status(), 200);

    pg.stop().await.unwrap();
    let away = login().await.unwrap();
    assert_eq!(away.status(), 503);
    let body: serde_json::Value = away.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    let back = EmbeddedPostgres::start_on(&dir, Some(port)).await.unwrap();
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(login().await.unwrap().status(), 200);
    back.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
