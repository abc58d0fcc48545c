//! The embedded PostgreSQL: created on first start, reused afterwards, survives a crash's stale
//! `postmaster.pid`, and keeps the data between starts.

use server::pg::EmbeddedPostgres;
use sqlx::{ConnectOptions, Connection};

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = server::pg::remove_data_dir(&dir);
    dir
}

/// Writes a row for [`kept_row`] to find after a restart.
async fn keep_a_row(pg: &EmbeddedPostgres) {
    let mut conn = pg.gatehouse_options().connect().await.unwrap();
    sqlx::query("create table kept (value text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("insert into kept values ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn kept_row(pg: &EmbeddedPostgres) -> String {
    let mut conn = pg.gatehouse_options().connect().await.unwrap();
    let value = sqlx::query_scalar("select value from kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    value
}

#[tokio::test(flavor = "current_thread")]
async fn the_cluster_is_reused_with_its_data_and_a_stale_pid_file_is_cleared() {
    let dir = fresh_dir("reuse");

    let first = EmbeddedPostgres::start(&dir)
        .await
        .expect("first start creates the cluster");
    keep_a_row(&first).await;
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
    assert_eq!(kept_row(&second).await, "still here");

    // While it runs, a second start on the same directory is refused with a reason.
    let error = EmbeddedPostgres::start(&dir)
        .await
        .err()
        .expect("the directory is in use");
    assert!(error.to_string().contains("already running"), "{error:#}");
    second.stop().await.unwrap();
    let _ = server::pg::remove_data_dir(&dir);
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
    let _ = server::pg::remove_data_dir(&dir);
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
    let mut serve = *serve;
    serve.listen = "127.0.0.1:0".parse().unwrap();
    serve.secret_key_file = Some(dir.join("secret.key"));
    let database = server::Database {
        pool,
        embedded: None,
    };
    let app = server::startup::Application::build_on(serve, database)
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
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
    let _ = server::pg::remove_data_dir(&dir);
}

/// A directory private to its owner (as root's home directory, or one made by `mktemp -d`).
fn private_dir(name: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("gatehouse-{name}-{}", std::process::id()));
    let _ = server::pg::remove_data_dir(&dir.join("data"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[tokio::test(flavor = "current_thread")]
async fn a_data_directory_below_a_private_directory_works_and_keeps_its_data() {
    let private = private_dir("private-parent");
    let data = private.join("data");

    let first = EmbeddedPostgres::start(&data)
        .await
        .expect("the cluster starts below a 0700 directory");
    keep_a_row(&first).await;
    first.stop().await.unwrap();
    if is_root() {
        let link = std::fs::read_link(data.join("postgres"))
            .expect("the cluster, run as the postgres user, lives outside the private directory");
        assert!(
            link.starts_with(server::pg::RELOCATED),
            "{}",
            link.display()
        );
    }
    assert!(
        data.join("postgres.password").exists(),
        "Gatehouse's own files stay in the data directory"
    );

    let second = EmbeddedPostgres::start(&data)
        .await
        .expect("a second start");
    assert_eq!(kept_row(&second).await, "still here");
    second.stop().await.unwrap();

    let link = std::fs::read_link(data.join("postgres")).ok();
    server::pg::remove_data_dir(&data).unwrap();
    if let Some(link) = link {
        assert!(
            !link.exists(),
            "removing the data directory removes its cluster"
        );
    }
    let _ = std::fs::remove_dir_all(&private);
}

#[tokio::test(flavor = "current_thread")]
async fn a_cluster_the_postgres_user_can_no_longer_reach_is_refused_in_words_naming_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        return; // PostgreSQL runs as the caller, who can always enter its own directories.
    }
    let parent = private_dir("closed-later");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = parent.join("data");
    let pg = EmbeddedPostgres::start(&data).await.unwrap();
    pg.stop().await.unwrap();
    assert!(
        std::fs::symlink_metadata(data.join("postgres"))
            .unwrap()
            .is_dir(),
        "an open parent keeps the cluster in the data directory"
    );

    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).unwrap();
    let error = EmbeddedPostgres::start(&data)
        .await
        .err()
        .expect("the cluster cannot be reached");
    let message = format!("{error:#}");
    assert!(message.contains(&parent.display().to_string()), "{message}");
    assert!(message.contains("chmod o+x"), "{message}");
    server::pg::remove_data_dir(&data).unwrap();
    let _ = std::fs::remove_dir_all(&parent);
}
