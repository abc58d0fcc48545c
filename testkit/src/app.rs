//! `spawn_app()`: the whole application (`server::startup::Application`) on a free port, over a
//! fresh database in a real PostgreSQL, and a client for it.
//!
//! One embedded cluster serves the whole test binary (started once, on a thread that lives as
//! long as the process, so the cluster stops when the tests end); each test gets its own
//! database. Set `TEST_DATABASE_URL` to use an external server instead.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::OnceLock;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// The test cluster: how to connect, and a URL for a database of it without the database's
/// name (for other processes: a replica started as the real binary).
static CLUSTER: OnceLock<(PgConnectOptions, String)> = OnceLock::new();

fn cluster() -> (PgConnectOptions, String) {
    CLUSTER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
                let options = PgConnectOptions::from_str(&url)
                    .expect("TEST_DATABASE_URL is a PostgreSQL URL");
                let base = url.split('?').next().unwrap_or_default();
                let base = base[..base.rfind('/').unwrap_or(base.len())].to_owned();
                return (options, base);
            }
            // One place for every checkout's test clusters, which the PostgreSQL user can always
            // enter (a cluster below a checkout in a private directory would be moved to
            // /var/lib/postgresql/gatehouse-clusters and outlive a deleted checkout); each run removes those whose
            // process is gone, whichever checkout ran them.
            let base = std::env::temp_dir().join("gatehouse-test-clusters");
            std::fs::create_dir_all(&base).expect("a directory for test clusters");
            remove_dead_clusters(&base);
            let dir = base.join(format!("pg-{}", std::process::id()));
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let pg = server::pg::EmbeddedPostgres::start(&dir)
                        .await
                        .expect("embedded PostgreSQL starts");
                    let url = pg.url("");
                    let base = url.trim_end_matches('/').to_owned();
                    tx.send((pg.connect_options("postgres"), base)).unwrap();
                    // Keep the cluster (and this thread, its parent) alive until the process exits.
                    std::future::pending::<()>().await;
                    drop(pg);
                });
            });
            rx.recv().expect("the cluster thread reports")
        })
        .clone()
}

/// One sealing key per test process, beside its cluster (a later run removes it once the process
/// is gone), made before the first application starts so that concurrent starts only read it.
fn sealing_key() -> std::path::PathBuf {
    static KEY: OnceLock<std::path::PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = std::env::temp_dir()
            .join("gatehouse-test-clusters")
            .join(format!("secret-{}.key", std::process::id()));
        domain::appliances::secret::Sealer::from_file(&path).expect("a sealing key for the tests");
        path
    })
    .clone()
}

/// Data directories of earlier test runs whose process is gone.
fn remove_dead_clusters(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("pg-").and_then(|p| p.parse::<u32>().ok()) {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = server::pg::remove_data_dir(&entry.path());
            }
        }
        // The sealing key of a test process that is gone.
        let key_of = name
            .strip_prefix("secret-")
            .and_then(|rest| rest.strip_suffix(".key"));
        if let Some(pid) = key_of.and_then(|p| p.parse::<u32>().ok()) {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// A route's path template with its parameters filled in (`{id}` 1, `{sha256}` 64 zeros).
pub fn concrete(template: &str) -> String {
    template
        .replace("{id}", "1")
        .replace("{sha256}", &"0".repeat(64))
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub origin: String,
    /// The database's name (for tests that reach under the application, as an attacker would).
    pub database: String,
    /// A `DATABASE_URL` for the same database (a replica started as the real binary).
    pub database_url: String,
}

/// `spawn_app()`, signed in as the admin.
pub async fn spawn_admin() -> TestApp {
    let app = spawn_app().await;
    app.login(ADMIN, PASSWORD).await;
    app
}

/// A fresh database, migrated, with one admin (`admin` / `correct horse battery`).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut server::config::Serve)) -> TestApp {
    let (options, base) = cluster();
    let database = format!(
        "test_{}",
        domain::tokens::store::random_secret()
            .to_lowercase()
            .replace(['-', '_'], "")[..16]
            .to_owned()
    );
    let mut admin = options
        .clone()
        .connect()
        .await
        .expect("connect to the test cluster");
    sqlx::query(&format!("create database {database}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone().database(&database))
        .await
        .unwrap();
    server::MIGRATOR.run(&pool).await.expect("migrations apply");
    let database_url = format!("{base}/{database}");
    start(pool, database, database_url, configure).await
}

impl TestApp {
    /// A second replica on this one's database: another application in this process (its
    /// own listener, job worker and schedules, its own client), as a load balancer's second
    /// backend would be.
    pub async fn replica(&self, configure: impl FnOnce(&mut server::config::Serve)) -> TestApp {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(cluster().0.database(&self.database))
            .await
            .unwrap();
        start(
            pool,
            self.database.clone(),
            self.database_url.clone(),
            configure,
        )
        .await
    }
}

/// The application on a database the test made itself (e.g. in a cluster of its own that it
/// stops and starts), migrated.
pub async fn spawn_app_on(
    pool: PgPool,
    database: String,
    database_url: String,
    configure: impl FnOnce(&mut server::config::Serve),
) -> TestApp {
    start(pool, database, database_url, configure).await
}

/// The settings every test application starts from.
pub fn test_settings() -> server::config::Serve {
    let mut serve = <server::config::Cli as clap::Parser>::parse_from(["gatehouse", "serve"]);
    let server::config::Command::Serve(ref mut serve) = serve.command else {
        unreachable!()
    };
    serve.listen = "127.0.0.1:0".parse().unwrap();
    serve.site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "../target/site".into());
    serve.bootstrap_admin = Some(format!("{ADMIN}:{PASSWORD}").into());
    // Background work the tests drive themselves (a scan, a sample, a delivery) stays off
    // unless a test turns it on.
    serve.scan_interval_hours = 0.0;
    serve.sample_interval_seconds = 0;
    serve.drift_interval_minutes = 0;
    serve.webhook_poll_seconds = 0;
    serve.secret_key_file = Some(sealing_key());
    (**serve).clone()
}

async fn start(
    pool: PgPool,
    database: String,
    database_url: String,
    configure: impl FnOnce(&mut server::config::Serve),
) -> TestApp {
    let mut serve = test_settings();
    configure(&mut serve);
    let open = server::Database {
        pool: pool.clone(),
        embedded: None,
    };
    let app = server::startup::Application::build_on(serve, open)
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    TestApp {
        addr,
        pool,
        client: client(),
        origin: format!("http://{addr}"),
        database,
        database_url,
    }
}

/// An HTTP client that keeps cookies and does not follow redirects.
pub fn client() -> reqwest::Client {
    // reqwest is built without a TLS provider of its own; use ring, as the server does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request as the console's own pages send it (same Origin).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("Origin", &self.origin)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// Sends a JSON body as the console's own pages would (same Origin, this client's cookies).
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> reqwest::Response {
        self.request(method, path).json(body).send().await.unwrap()
    }

    /// GETs a path with a bearer token (and no cookies) and decodes its JSON body.
    pub async fn get_json_as(&self, token: &str, path: &str) -> Value {
        client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// GETs a path and decodes its JSON body; panics unless it answered 200.
    /// A POST without a body that must answer 200, and its JSON.
    pub async fn post_ok(&self, path: &str) -> Value {
        let response = self.request(Method::POST, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "POST {path}");
        response.json().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// Signs this app's client in; panics unless it worked.
    pub async fn login(&self, username: &str, password: &str) {
        let response = self.login_response(username, password).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap()
        );
    }

    pub async fn login_response(&self, username: &str, password: &str) -> reqwest::Response {
        self.request(Method::POST, "/api/v1/session")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// POSTs `body` to `path` as the signed-in admin, expects 201; returns the new `id`.
    pub async fn create(&self, path: &str, body: &Value) -> i64 {
        let response = self.send_json(Method::POST, path, body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "POST {path}");
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a user as the signed-in admin; returns its id.
    pub async fn create_user(&self, username: &str, role: &str) -> i64 {
        let body = json!({"username": username, "password": PASSWORD, "role": role});
        self.create("/api/v1/users", &body).await
    }

    /// Creates a cluster as the signed-in admin; returns its id.
    pub async fn create_cluster(&self, name: &str) -> i64 {
        self.create("/api/v1/clusters", &json!({"name": name}))
            .await
    }

    /// A new user with `role`, signed in on a client of its own.
    pub async fn signed_in_as(&self, username: &str, role: &str) -> TestApp {
        self.create_user(username, role).await;
        let client = self.other_client();
        client.login(username, PASSWORD).await;
        client
    }

    /// Creates a token as the signed-in admin; returns the secret.
    pub async fn create_token(&self, name: &str, role: &str) -> String {
        let response = self
            .request(Method::POST, "/api/v1/tokens")
            .json(&json!({"name": name, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Another client (its own cookie jar) against the same server.
    pub fn other_client(&self) -> TestApp {
        TestApp {
            addr: self.addr,
            pool: self.pool.clone(),
            client: client(),
            origin: self.origin.clone(),
            database: self.database.clone(),
            database_url: self.database_url.clone(),
        }
    }

    /// The first message for `field` in a validation error body.
    pub fn field_message(error: &Value, field: &str) -> String {
        error["fields"][field][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The names of the audit actions recorded so far, oldest first.
    pub async fn audit_action_names(&self) -> Vec<String> {
        self.audit_actions()
            .await
            .into_iter()
            .map(|(_, action, _)| action)
            .collect()
    }

    /// The audit actions recorded so far, oldest first.
    pub async fn audit_actions(&self) -> Vec<(String, String, String)> {
        sqlx::query_as::<_, (String, String, String)>(
            "select actor, action, outcome from audit_entry order by id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}
