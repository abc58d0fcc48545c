//! The `gatehouse` binary as an operator runs it: its own embedded PostgreSQL in a fresh data
//! directory, the one-time setup link, `user add`, HTTPS, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Running {
    child: testkit::Reaped,
    base: String,
    setup_link: Option<String>,
    data: PathBuf,
    /// What it wrote to standard error after it started listening.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// A test that fails leaves nothing running: the server is the leader of its own process
/// group, and the group (its demo's gatehouse-proxy children too) is killed with it.
impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: signalling the process group our own child leads.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
    }
}

fn data_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bin-{name}-{}", std::process::id()));
    let _ = server::pg::remove_data_dir(&dir);
    dir
}

/// Starts `gatehouse serve` and reads its standard error until it listens.
fn serve(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Running {
    let port = testkit::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .process_group(0)
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("GATEHOUSE_DATA_DIR", data)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .env_remove("DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut setup_link = None;
    let mut base = None;
    let mut said = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        said.push(line.clone());
        if let Some(at) = line.find("/setup?token=") {
            let start = line[..at].rfind("http").unwrap();
            setup_link = Some(line[start..].trim().to_owned());
        }
        if let Some(at) = line.find("Gatehouse listening on ") {
            base = Some(
                line[at + "Gatehouse listening on ".len()..]
                    .trim()
                    .to_owned(),
            );
            break;
        }
    }
    // Keep reading, so the server never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(line);
        }
    });
    Running {
        child: testkit::Reaped(child),
        base: base.unwrap_or_else(|| {
            panic!(
                "the server did not say where it listens; it said:\n{}",
                said.join("\n")
            )
        }),
        setup_link,
        data: data.to_owned(),
        log,
    }
}

impl Running {
    /// SIGTERM, then wait: the process and its PostgreSQL stop cleanly. How long it took.
    fn stop(mut self) -> std::time::Duration {
        let asked = std::time::Instant::now();
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.0.wait().unwrap();
        assert!(status.success(), "gatehouse exited with {status}");
        assert!(
            !self.data.join("postgres/postmaster.pid").exists(),
            "PostgreSQL stopped with it"
        );
        // Issue 24, item 10: the SSH session places go back before the database closes.
        let log = self.log.lock().unwrap().join("\n");
        assert!(
            !log.contains("giving back an SSH session place"),
            "a place was given back after the database closed:\n{log}"
        );
        let _ = server::pg::remove_data_dir(&self.data);
        asked.elapsed()
    }
}

use testkit::app::client;

#[tokio::test]
async fn the_setup_link_works_once_and_only_with_its_token() {
    let data = data_dir("setup");
    let running = serve(&data, &[], &[]);
    let link = running
        .setup_link
        .clone()
        .expect("a setup link is printed when no user exists");
    let client = client();
    assert_eq!(
        client
            .get(format!("{}/setup", running.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(format!("{}/setup?token=guess", running.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Create the first administrator"));

    let token = link.split("token=").nth(1).unwrap().to_owned();
    let form = [
        ("token", token.as_str()),
        ("username", "root-admin"),
        ("password", "first admin passphrase"),
        ("confirm", "first admin passphrase"),
    ];
    let created = client
        .post(format!("{}/api/fn/setup", running.base))
        .header("Origin", &running.base)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    // Signed in as the new admin at once.
    assert_eq!(
        client
            .get(format!("{}/api/v1/users", running.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The link is spent.
    assert_eq!(client.get(&link).send().await.unwrap().status(), 404);
    let again = testkit::app::client()
        .post(format!("{}/api/fn/setup", running.base))
        .header("Origin", &running.base)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    running.stop();
}

#[tokio::test]
async fn user_add_creates_a_user_who_can_sign_in() {
    let data = data_dir("useradd");
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "add", "ops", "--role", "auditor"])
        .env("GATEHOUSE_DATA_DIR", &data)
        .env("GATEHOUSE_PASSWORD", "operator passphrase")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("user ops (auditor) added"));

    let weak = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "add", "weak"])
        .env("GATEHOUSE_DATA_DIR", &data)
        .env("GATEHOUSE_PASSWORD", "short")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));

    let running = serve(&data, &[], &[]);
    assert!(
        running.setup_link.is_none(),
        "a user exists, so there is no setup link"
    );
    let login = client()
        .post(format!("{}/api/v1/session", running.base))
        .json(&serde_json::json!({"username": "ops", "password": "operator passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    running.stop();
}

#[tokio::test]
async fn over_tls_cookies_are_secure_and_hsts_is_sent() {
    let data = data_dir("tls");
    std::fs::create_dir_all(&data).unwrap();
    let certified = testkit::pki::Leaf::self_signed("localhost", &["localhost"], 365);
    let (cert, key) = (data.join("cert.pem"), data.join("key.pem"));
    std::fs::write(&cert, &certified.pem).unwrap();
    std::fs::write(&key, &certified.key_pem).unwrap();
    let running = serve(
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &[("GATEHOUSE_BOOTSTRAP_ADMIN", "admin:correct horse battery")],
    );
    assert!(running.base.starts_with("https://"), "{}", running.base);
    let base = running.base.replace("127.0.0.1", "localhost");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.der.clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .unwrap();
    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    running.stop();
}

#[test]
fn a_key_that_is_not_pem_is_a_clear_error() {
    let data = data_dir("badkey");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("cert.pem"), "not a certificate").unwrap();
    std::fs::write(data.join("key.pem"), "not a key").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(data.join("cert.pem"))
        .arg("--tls-key")
        .arg(data.join("key.pem"))
        .env("GATEHOUSE_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cert.pem holds no certificate") || stderr.contains("not a PEM"),
        "{stderr}"
    );
    let _ = server::pg::remove_data_dir(&data);
}

#[test]
fn an_unreachable_database_at_start_is_a_clear_error_after_the_wait() {
    let port = testkit::free_port();
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("postgres://gatehouse:secret@127.0.0.1:{port}/gatehouse"),
        )
        .env("GATEHOUSE_DB_WAIT_SECONDS", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the database was not reachable for 1 s"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret"),
        "the password never reaches the log: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn the_demo_fleet_runs_and_is_registered_with_its_accounts() {
    let data = data_dir("demo");
    let server = serve(
        &data,
        &["--demo"],
        &[("GATEHOUSE_BOOTSTRAP_ADMIN", "admin:correct horse battery")],
    );
    let http = client();
    let base = server.base.clone();
    let signed_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let nodes: Vec<serde_json::Value> = http
        .get(format!("{base}/api/v1/nodes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        nodes.len(),
        14,
        "two each of Finesse, CUIC, LiveData, IdS, UCCX and proxies, a BroadWorks XSP and AS"
    );
    for node in &nodes {
        let tags = node["tags"].as_array().unwrap();
        assert!(tags.contains(&serde_json::json!("simulated")), "{node}");
        assert!(
            node["cluster"].as_str().unwrap().starts_with("Demo: "),
            "{node}"
        );
    }
    let finesse = nodes
        .iter()
        .find(|n| n["fqdn"] == "finesse1.demo.example.com")
        .unwrap();
    let test: serde_json::Value = http
        .post(format!(
            "{base}/api/v1/nodes/{}/test-connection",
            finesse["id"]
        ))
        .header("Origin", &base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], true, "{test}");
    let agents: serde_json::Value = http
        .get(format!("{base}/api/v1/connected-agents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents["totals"]["total"], 91, "{agents}");
    // At start the console reads every demo VOS node's certificate stores by itself (audited as
    // system:demo), so a new user's node pages are not empty; the BroadWorks nodes have none.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let audit: serde_json::Value = http
            .get(format!(
                "{base}/api/v1/audit?action=node.stores.read&limit=100"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let by_demo = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor"] == "system:demo")
            .count();
        if by_demo == 12 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{by_demo} of 12 demo nodes' stores read at start: {audit}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    server.stop();
}

/// A request can be followed through the log: the service it calls logs inside a span naming
/// the request's id (the one in its `x-request-id` header) and the actor, and so does the scan
/// it started, after the request has ended.
#[tokio::test]
async fn one_request_can_be_followed_through_the_log() {
    let data = data_dir("trace");
    let running = serve(
        &data,
        &[],
        &[("GATEHOUSE_BOOTSTRAP_ADMIN", "admin:correct horse battery")],
    );
    let client = client();
    let login = client
        .post(format!("{}/api/v1/session", running.base))
        .json(&serde_json::json!({"username": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let started = client
        .post(format!("{}/api/v1/scans", running.base))
        .header("Origin", &running.base)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let id = started.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let lines_of_request = || -> Vec<String> {
        running
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| {
                line.contains(&format!("request{{id={id}"))
                    || line.contains(&format!("request={id}"))
            })
            .cloned()
            .collect()
    };
    for _ in 0..100 {
        if lines_of_request()
            .iter()
            .any(|l| l.contains("scan finished"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let lines = lines_of_request();
    let started = lines.iter().find(|l| l.contains("scan started"));
    assert!(
        started.is_some_and(|l| l.contains("start_scan{actor=admin")),
        "{lines:#?}"
    );
    // The scan ran as a job (on whichever replica), whose lines name the request.
    assert!(
        lines.iter().any(|l| l.contains("job{id=")
            && l.contains("kind=scan")
            && l.contains("scan finished")),
        "{lines:#?}"
    );
    running.stop();
}

#[test]
fn a_request_that_never_ends_does_not_keep_the_console_from_stopping() {
    use std::io::Write;
    let data = data_dir("drain");
    let running = serve(&data, &[], &[]);
    let address = running.base.trim_start_matches("http://");
    // Headers begun and never finished: the connection stays open as long as the server waits.
    let mut hung = std::net::TcpStream::connect(address).unwrap();
    hung.write_all(b"GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = running.log.clone();
    let took = running.stop();
    assert!(
        took < std::time::Duration::from_secs(30),
        "stopped after {took:?}"
    );
    let said = log.lock().unwrap().join("\n");
    assert!(
        said.contains("requests still open 10 s after the stop: closed"),
        "{said}"
    );
    drop(hung);
}

#[test]
fn proxymap_check_prints_each_problem_where_it_is_and_exits_1_on_errors() {
    let dir = data_dir("proxymap");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.txt");
    std::fs::write(
        &good,
        "finesse1.lan:8445=finesse1.xyz.com:443\r\n10.0.0.5:8553=ids.xyz.com\n",
    )
    .unwrap();
    let bad = dir.join("bad.txt");
    std::fs::write(
        &bad,
        "finesse1.lan:8445=finesse1.xyz.com\nFINESSE1.lan:8445=f2.xyz.com\n",
    )
    .unwrap();
    let check = |files: &[&Path]| {
        let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["proxymap", "check"])
            .args(files)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = check(&[&good]);
    assert_eq!(code, Some(0), "warnings alone pass: {out}");
    assert_eq!(
        out,
        format!("{}:2:1: warning: address-literal: the internal side is the address 10.0.0.5: the components expect host names (FQDNs) here\n", good.display())
    );
    let (code, out) = check(&[&good, &bad]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(&format!(
            "{}:2:1: error: duplicate-internal: ",
            bad.display()
        )),
        "{out}"
    );
    let (code, _) = check(&[&dir.join("missing.txt")]);
    assert_eq!(code, Some(1), "a file that cannot be read fails");
    std::fs::remove_dir_all(&dir).unwrap();
}
