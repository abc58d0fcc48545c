//! The engine in front of simulated Finesse and CUIC nodes: each behaviour of DOMAIN.md §6 as a
//! client meets it, and what reached the upstream as the simulator recorded it.

use base64::Engine as _;
use proxy::Engine;
use proxyconf::{BanTarget, Config};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const FLEET: &str = r#"
[hosts]
"edge.sim.test" = "127.0.3.1"

[[cluster]]
name = "Edge"

[[cluster.node]]
fqdn = "finesse1.sim.test"
kind = "finesse"
password = "Admin!pass1"
https_ports = [0, 0]

[[cluster.node.agent]]
id = "agent1"
password = "Agent!pass1"
first_name = "Ada"
last_name = "Agent"

[[cluster.node.agent]]
id = "agent2"
password = "Agent!pass2"
first_name = "Bo"
last_name = "Agent"

[[cluster.node]]
fqdn = "cuic1.sim.test"
kind = "cuic"
password = "Admin!pass1"
https_ports = [0]

[[cluster.node]]
fqdn = "ids1.sim.test"
kind = "ids"
password = "Admin!pass1"
https_ports = [0]
"#;

const FINESSE: &str = "finesse1.edge.test";
const CUIC: &str = "cuic1.edge.test";
const IDS: &str = "ids1.edge.test";

struct Rig {
    sim: sim::Running,
    engine: Arc<Engine>,
    config: Config,
    port: u16,
    /// The notification service's listener (7443 behind it).
    notify_port: u16,
    /// The certificate the engine presents upstream.
    client_pem: String,
    roots: Arc<rustls::RootCertStore>,
    _dir: Dir,
}

/// A scratch directory removed when dropped.
struct Dir(PathBuf);

/// A `gatehouse-proxy` process, killed when the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// The tests' one address is a listed forwarder that names its clients in `X-Real-IP`.
fn behind_forwarder(c: &mut Config) {
    c.forwarders.addresses = vec!["127.0.0.1".parse().unwrap()];
    c.forwarders.header = Some("X-Real-IP".into());
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl Rig {
    async fn start(edit: impl FnOnce(&mut Config)) -> Rig {
        let sim = sim::start_toml(FLEET, None)
            .await
            .expect("the fleet starts");
        let ca = testkit::pki::Ca::new("Edge test CA");
        let leaf = ca.leaf(&[FINESSE, CUIC, IDS]);
        let dir = std::env::temp_dir().join(format!("gatehouse-proxy-{}", testkit::free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("edge.pem"), &leaf.pem).unwrap();
        std::fs::write(dir.join("edge.key"), &leaf.key_pem).unwrap();
        let client = ca.leaf(&["edge.sim.test"]);
        std::fs::write(dir.join("client.pem"), &client.pem).unwrap();
        std::fs::write(dir.join("client.key"), &client.key_pem).unwrap();
        let port = testkit::free_port();
        let notify_port = testkit::free_port();
        let notify = sim.node("finesse1.sim.test").unwrap().https[1];
        let finesse = sim.node("finesse1.sim.test").unwrap().https[0];
        let cuic = sim.node("cuic1.sim.test").unwrap().https[0];
        let ids = sim.node("ids1.sim.test").unwrap().https[0];
        let trust: Vec<String> = (0..3)
            .map(|i| sim.fleet.state(i).active_tomcat.unwrap().cert_pem)
            .collect();
        let mut config = Config::from_json(&format!(
            r#"{{"schema": 1, "version": 1, "pair": "test",
                "listeners": [
                  {{"address": "127.0.0.1:{port}",
                   "certificates": [{{"certificate": "{dir}/edge.pem", "key": "{dir}/edge.key"}}]}},
                  {{"address": "127.0.0.1:{notify_port}",
                   "certificates": [{{"certificate": "{dir}/edge.pem", "key": "{dir}/edge.key"}}]}}],
                "routes": [
                  {{"external": "{FINESSE}:{port}", "internal": "finesse1.sim.test:8445", "address": "{finesse}", "component": "finesse"}},
                  {{"external": "{FINESSE}:{notify_port}", "internal": "finesse1.sim.test:7443", "address": "{notify}", "component": "finesse"}},
                  {{"external": "{CUIC}:{port}", "internal": "cuic1.sim.test:8444", "address": "{cuic}", "component": "cuic"}},
                  {{"external": "{IDS}:{port}", "internal": "ids1.sim.test:8553", "address": "{ids}", "component": "ids"}}
                ],
                "upstream": {{"client_certificate": {{"certificate": "{dir}/client.pem", "key": "{dir}/client.key"}}}}}}"#,
            dir = dir.display()
        ))
        .unwrap();
        config.upstream.trust = trust;
        edit(&mut config);
        let engine = Engine::start("proxy-a", config.clone())
            .await
            .expect("the engine starts");
        Rig {
            sim,
            engine,
            config,
            port,
            notify_port,
            client_pem: client.pem,
            roots: Arc::new(ca.roots()),
            _dir: Dir(dir),
        }
    }

    /// A TLS connection to the engine asking for `sni`.
    async fn tls(&self, sni: &str) -> std::io::Result<TlsStream<TcpStream>> {
        self.tls_to(sni, self.port).await
    }

    async fn tls_to(&self, sni: &str, port: u16) -> std::io::Result<TlsStream<TcpStream>> {
        let config = rustls::ClientConfig::builder_with_provider(testkit::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth();
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
    }

    /// Sends `raw` (a whole request) on a new connection and reads the answer to its end.
    async fn raw(&self, sni: &str, raw: &str) -> Answer {
        let mut tls = self.tls(sni).await.expect("a TLS connection");
        tls.write_all(raw.as_bytes()).await.unwrap();
        read_answer(&mut tls).await.expect("an answer")
    }

    /// `GET path` on `host` with these headers (`Connection: close` added).
    async fn get(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut raw = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\n",
            self.port
        );
        for (n, v) in headers {
            raw.push_str(&format!("{n}: {v}\r\n"));
        }
        raw.push_str("\r\n");
        self.raw(host, &raw).await
    }

    async fn as_agent(&self, path: &str) -> Answer {
        self.get(
            FINESSE,
            path,
            &[("Authorization", &basic("agent1", "Agent!pass1"))],
        )
        .await
    }

    /// agent1 puts itself READY (a request with a body, `Content-Length` framed).
    async fn set_ready(&self) -> Answer {
        let state = "<User><state>READY</state></User>";
        let raw = format!(
            "PUT /finesse/api/User/agent1 HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{state}",
            self.port,
            basic("agent1", "Agent!pass1"),
            state.len()
        );
        self.raw(FINESSE, &raw).await
    }

    /// `SystemInfo` as `user` with `password`, the client address header saying `client`.
    async fn from(&self, user: &str, password: &str, client: &str) -> Answer {
        let auth = basic(user, password);
        let headers = [("Authorization", auth.as_str()), ("X-Real-IP", client)];
        self.get(FINESSE, "/finesse/api/SystemInfo", &headers).await
    }

    /// Requests that reached the Finesse node for `target`.
    fn reached(&self, target: &str) -> Vec<sim::Seen> {
        self.sim
            .fleet
            .seen(0)
            .into_iter()
            .filter(|s| s.target == target)
            .collect()
    }
}

/// Reads one answer: its head, then the body by Content-Length, chunks, or to the end.
async fn read_answer<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut answer = Answer {
        status,
        head,
        body: String::new(),
    };
    let mut body = Vec::new();
    if let Some(n) = answer
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(n, 0);
        s.read_exact(&mut body).await.ok()?;
    } else if answer
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut line = Vec::new();
            while !line.ends_with(b"\r\n") {
                s.read_exact(&mut byte).await.ok()?;
                line.push(byte[0]);
            }
            let size = usize::from_str_radix(String::from_utf8_lossy(&line).trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            s.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if status != 101 && status != 304 {
        let _ = s.read_to_end(&mut body).await;
    }
    answer.body = String::from_utf8_lossy(&body).into_owned();
    Some(answer)
}

/// Whether the peer closed the connection (a read ends or fails) within `within`.
async fn closed<S: tokio::io::AsyncRead + Unpin>(s: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn an_authenticated_request_reaches_its_upstream_with_the_client_address_and_no_hop_by_hop_header(
) {
    let rig = Rig::start(|_| {}).await;
    let answer = rig
        .get(
            FINESSE,
            "/finesse/api/User/agent1",
            &[
                ("Authorization", &basic("agent1", "Agent!pass1")),
                ("X-Forwarded-For", "6.6.6.6"),
                ("X-Real-IP", "6.6.6.6"),
                ("Keep-Alive", "timeout=99"),
                ("X-Drop-Me", "1"),
                ("Connection", "close, X-Drop-Me"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer.body.contains("<loginId>agent1</loginId>"),
        "{}",
        answer.body
    );
    let forwarded: Vec<_> = rig
        .reached("/finesse/api/User/agent1")
        .into_iter()
        .filter(|s| s.header("host") == Some(&format!("{FINESSE}:{}", rig.port)))
        .collect();
    assert_eq!(
        forwarded.len(),
        1,
        "the client's request, with the client's Host"
    );
    let seen = &forwarded[0];
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(seen.header("x-real-ip"), Some("127.0.0.1"));
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
    for gone in ["keep-alive", "x-drop-me"] {
        assert_eq!(seen.header(gone), None, "{gone} reached the upstream");
    }
    // The engine asked Finesse itself (with the node's own name as Host) before forwarding.
    assert_eq!(rig.reached("/finesse/api/User/agent1").len(), 2);
    let report = rig.engine.report();
    assert_eq!(report.sessions.len(), 1);
    assert_eq!(report.sessions[0].user, "agent1");
    assert_eq!(report.version, 1);
}

#[tokio::test]
async fn without_valid_credentials_nothing_is_forwarded() {
    let rig = Rig::start(|_| {}).await;
    let none = rig.get(FINESSE, "/finesse/api/SystemInfo", &[]).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Basic realm=\"Finesse\"")
    );
    let wrong = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Authorization", &basic("agent1", "nope"))],
        )
        .await;
    assert_eq!(wrong.status, 401);
    // The desktop's own requests are never challenged (no browser dialog over the desktop).
    assert_eq!(wrong.header("www-authenticate"), None);
    let fetched = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Sec-Fetch-Mode", "cors")],
        )
        .await;
    assert_eq!(
        (fetched.status, fetched.header("www-authenticate")),
        (401, None)
    );
    let odd = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Authorization", &basic("../../x", "y"))],
        )
        .await;
    assert_eq!(odd.status, 401);
    let bearer = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Authorization", "Bearer abc")],
        )
        .await;
    assert_eq!(bearer.status, 401);
    assert!(rig.reached("/finesse/api/SystemInfo").is_empty());
    // An implausible name is refused without asking Finesse.
    assert!(rig
        .sim
        .fleet
        .seen(0)
        .iter()
        .all(|s| !s.target.contains("..")));
}

#[tokio::test]
async fn credentials_are_checked_against_finesse_once_then_believed() {
    let rig = Rig::start(|_| {}).await;
    for _ in 0..3 {
        assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    }
    assert_eq!(rig.reached("/finesse/api/SystemInfo").len(), 3);
    assert_eq!(
        rig.reached("/finesse/api/User/agent1").len(),
        1,
        "one check, then the cache"
    );
    // Another password for the same user is checked again (and refused).
    let wrong = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Authorization", &basic("agent1", "Agent!pass2"))],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(rig.reached("/finesse/api/User/agent1").len(), 2);
    // A revoked user is asked about again.
    rig.engine.revoke("agent1");
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    assert_eq!(rig.reached("/finesse/api/User/agent1").len(), 3);
}

#[tokio::test]
async fn on_a_kept_alive_connection_the_same_credentials_are_believed_until_their_time_runs_out() {
    let rig = Rig::start(|c| c.auth.credential_cache_secs = 1).await;
    let mut tls = rig.tls(FINESSE).await.unwrap();
    let send = |auth: String| {
        format!(
            "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {auth}\r\n\r\n",
            rig.port
        )
    };
    let good = basic("agent1", "Agent!pass1");
    for auth in [&good, &good, &basic("agent1", "Agent!pass2"), &good] {
        tls.write_all(send(auth.clone()).as_bytes()).await.unwrap();
        let answer = read_answer(&mut tls).await.expect("an answer");
        let expected = if *auth == good { 200 } else { 401 };
        assert_eq!(answer.status, expected, "{answer:?}");
    }
    assert_eq!(
        rig.reached("/finesse/api/User/agent1").len(),
        2,
        "the good password once, the wrong one once"
    );
    // Past the credential time the same header on the same connection is asked about again.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    tls.write_all(send(good.clone()).as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut tls).await.expect("an answer").status, 200);
    assert_eq!(rig.reached("/finesse/api/User/agent1").len(), 3);
    assert_eq!(rig.reached("/finesse/api/SystemInfo").len(), 4);
}

#[tokio::test]
async fn five_failures_ban_the_address_with_418_and_close_what_it_has_open() {
    let rig = Rig::start(|_| {}).await;
    // A kept-alive connection of the same address, authenticated.
    let mut open = rig.tls(FINESSE).await.unwrap();
    let request = format!(
        "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\n\r\n",
        rig.port,
        basic("agent2", "Agent!pass2")
    );
    open.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut open).await.unwrap().status, 200);
    for i in 0..5 {
        let user = format!("guess{i}");
        let a = rig
            .get(
                FINESSE,
                "/finesse/api/SystemInfo",
                &[("Authorization", &basic(&user, "x"))],
            )
            .await;
        assert_eq!(a.status, 401, "attempt {i}");
    }
    let banned = rig.as_agent("/finesse/api/SystemInfo").await;
    assert_eq!(banned.status, 418, "{banned:?}");
    assert!(
        closed(&mut open, Duration::from_secs(2)).await,
        "the open connection was closed"
    );
    let bans = rig.engine.report().bans;
    assert_eq!(bans.len(), 1);
    assert_eq!(
        bans[0].target,
        BanTarget::Address("127.0.0.1".parse().unwrap())
    );
    assert_eq!(bans[0].until - bans[0].since, 1800);
    // Lifted: served again.
    assert!(rig.engine.lift(&bans[0].target));
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
}

#[tokio::test]
async fn five_failures_for_one_account_ban_the_account_from_any_address() {
    // The test's one address is a forwarder's, so that only the account counts.
    let rig = Rig::start(behind_forwarder).await;
    for i in 0..5 {
        let a = rig.from("agent1", "wrong", &format!("203.0.113.{i}")).await;
        assert_eq!(a.status, 401);
    }
    let a = rig.from("agent1", "Agent!pass1", "198.51.100.1").await;
    assert_eq!(a.status, 418);
    let bans = rig.engine.report().bans;
    assert_eq!(
        bans.iter().map(|b| &b.target).collect::<Vec<_>>(),
        [&BanTarget::Account("agent1".into())]
    );
}

#[tokio::test]
async fn a_client_address_header_is_believed_only_from_a_listed_forwarder() {
    let spoofed = Rig::start(|c| c.forwarders.header = Some("X-Real-IP".into())).await;
    let a = spoofed.from("agent1", "Agent!pass1", "203.0.113.50").await;
    assert_eq!(a.status, 200);
    let seen = spoofed.reached("/finesse/api/SystemInfo");
    assert_eq!(seen[0].header("x-real-ip"), Some("127.0.0.1"));
    assert_eq!(seen[0].header("x-forwarded-for"), Some("127.0.0.1"));

    let listed = Rig::start(|c| {
        c.forwarders.addresses = vec!["127.0.0.0/8".parse().unwrap()];
        c.forwarders.header = Some("X-Real-IP".into());
    })
    .await;
    let a = listed.from("agent1", "Agent!pass1", "203.0.113.50").await;
    assert_eq!(a.status, 200);
    let seen = listed.reached("/finesse/api/SystemInfo");
    assert_eq!(seen[0].header("x-real-ip"), Some("203.0.113.50"));
    assert_eq!(
        listed.engine.report().sessions[0].address,
        "203.0.113.50".parse::<std::net::IpAddr>().unwrap()
    );
}

#[tokio::test]
async fn listed_forwarders_are_neither_limited_nor_banned() {
    let rig = Rig::start(|c| {
        c.forwarders.addresses = vec!["127.0.0.1".parse().unwrap()];
        c.forwarders.header = Some("X-Real-IP".into());
        c.limits.rates.finesse = proxyconf::Rate {
            per_second: 1,
            burst: 1,
        };
    })
    .await;
    // No header: the forwarder itself is the client, and it is exempt.
    for _ in 0..4 {
        assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    }
    for i in 0..6 {
        let a = rig
            .get(
                FINESSE,
                "/finesse/api/SystemInfo",
                &[("Authorization", &basic(&format!("x{i}"), "bad"))],
            )
            .await;
        assert_eq!(a.status, 401);
    }
    assert!(rig.engine.report().bans.is_empty());
    // A client behind it is limited.
    let behind = rig.from("agent1", "Agent!pass1", "203.0.113.7").await;
    assert_eq!(behind.status, 200);
    let again = rig.from("agent1", "Agent!pass1", "203.0.113.7").await;
    assert_eq!(again.status, 429);
}

#[tokio::test]
async fn over_the_rate_of_its_class_a_client_is_answered_429_with_retry_after() {
    let rig = Rig::start(|_| {}).await;
    let path = "/finesse/api/User/agent1/ClientLog";
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(rig.as_agent(path).await);
    }
    let limited: Vec<_> = statuses.iter().filter(|a| a.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "{:?}",
        statuses.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let retry: u64 = limited[0].header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    // Another class is not affected.
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
}

#[tokio::test]
async fn unknown_names_and_a_host_other_than_the_tls_name_are_refused() {
    let rig = Rig::start(|_| {}).await;
    assert!(
        rig.tls("unknown.edge.test").await.is_err(),
        "an SNI that is no route"
    );
    let mut raw = format!(
        "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {CUIC}:{}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        rig.port,
        basic("agent1", "Agent!pass1")
    );
    assert_eq!(rig.raw(FINESSE, &raw).await.status, 421);
    raw = raw.replace(&format!("{CUIC}:{}", rig.port), &format!("{FINESSE}:1"));
    assert_eq!(rig.raw(FINESSE, &raw).await.status, 404);
    assert!(rig.reached("/finesse/api/SystemInfo").is_empty());
}

#[tokio::test]
async fn refused_paths_and_paths_that_read_two_ways_never_reach_the_upstream() {
    let rig = Rig::start(|_| {}).await;
    assert_eq!(rig.as_agent("/cfadmin/").await.status, 403);
    assert_eq!(rig.as_agent("/http-bind").await.status, 403);
    // FIPPA (the IP phone agent) is not supported through the proxy (seed 004).
    assert_eq!(rig.as_agent("/fippa/agent1").await.status, 403);
    for method in ["TRACE", "CONNECT"] {
        let target = if method == "CONNECT" {
            format!("{FINESSE}:{}", rig.port)
        } else {
            "/".into()
        };
        let raw = format!(
            "{method} {target} HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            rig.port,
            basic("agent1", "Agent!pass1")
        );
        assert_eq!(rig.raw(FINESSE, &raw).await.status, 405, "{method}");
    }
    assert_eq!(
        rig.get(FINESSE, "/desktop/assets/../../finesse/api/SystemInfo", &[])
            .await
            .status,
        400
    );
    assert_eq!(
        rig.get(
            FINESSE,
            "/desktop/assets/%2e%2e/%2e%2e/finesse/api/SystemInfo",
            &[]
        )
        .await
        .status,
        400
    );
    assert!(rig
        .sim
        .fleet
        .seen(0)
        .iter()
        .all(|s| !s.target.contains("cfadmin")
            && !s.target.contains("SystemInfo")
            && !s.target.contains("fippa")
            && s.method != "TRACE"
            && s.method != "CONNECT"));
}

#[tokio::test]
async fn an_sso_token_the_ids_signed_is_believed_and_a_forged_or_expired_one_is_not() {
    let rig = Rig::start(|_| {}).await;
    let ids = rig.sim.fleet.index("ids1.sim.test").unwrap();
    let token = rig.sim.fleet.ids_token(ids, "agent1", 600).unwrap();
    let bearer = |t: &str| format!("Bearer {t}");
    let desktop = "/desktop/container/";
    // The engine fetches the IdS's key when a token names one it does not know yet.
    let ok = rig
        .get(FINESSE, desktop, &[("Authorization", &bearer(&token))])
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(rig.reached(desktop).len(), 1);
    let expired = rig.sim.fleet.ids_token(ids, "agent1", -5).unwrap();
    let refused = rig
        .get(FINESSE, desktop, &[("Authorization", &bearer(&expired))])
        .await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("expired"), "{refused:?}");
    // The claims changed after signing: the signature no longer holds.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"sub":"agent2","exp":4102444800}"#);
    let forged = parts.join(".");
    assert_eq!(
        rig.get(FINESSE, desktop, &[("Authorization", &bearer(&forged))])
            .await
            .status,
        401
    );
    assert_eq!(
        rig.get(FINESSE, desktop, &[("Authorization", "Bearer x.y")])
            .await
            .status,
        401
    );
    assert_eq!(
        rig.reached(desktop).len(),
        1,
        "nothing else reached Finesse"
    );
    // Believed from the cache: the agent is a session of this engine.
    assert!(rig
        .engine
        .report()
        .sessions
        .iter()
        .any(|s| s.user == "agent1"));
    // Five bad tokens ban the address like five bad passwords.
    for _ in 0..3 {
        rig.get(FINESSE, desktop, &[("Authorization", &bearer(&forged))])
            .await;
    }
    let banned = rig
        .get(FINESSE, desktop, &[("Authorization", &bearer(&token))])
        .await;
    assert_eq!(banned.status, 418);
}

#[tokio::test]
async fn a_websocket_may_carry_its_credentials_as_a_protocol_entry_which_stays_at_the_edge() {
    let rig = Rig::start(|_| {}).await;
    let entry = format!(
        "basic.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("agent1:Agent!pass1")
    );
    // No REST request before: the protocol entry alone authenticates the handshake.
    let mut socket = rig
        .websocket(&[("Sec-WebSocket-Protocol", &entry)])
        .await
        .expect("the upgrade is accepted and the entry answered as the protocol");
    assert!(sign_in(&mut socket, "agent1", "Agent!pass1")
        .await
        .is_some());
    let upgrade = rig
        .sim
        .fleet
        .seen(0)
        .into_iter()
        .find(|s| s.target == "/ws/")
        .unwrap();
    assert!(
        upgrade
            .headers
            .iter()
            .all(|(n, v)| n != "sec-websocket-protocol" && !v.contains(&entry)),
        "the credentials stayed at the edge: {:?}",
        upgrade.headers
    );
    let wrong = format!(
        "basic.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("agent2:wrong")
    );
    assert_eq!(
        rig.websocket(&[("Sec-WebSocket-Protocol", &wrong)])
            .await
            .err(),
        Some(401)
    );
    let ids = rig.sim.fleet.index("ids1.sim.test").unwrap();
    let token = rig.sim.fleet.ids_token(ids, "agent2", 600).unwrap();
    let bearer = format!("bearer.{token}");
    assert!(rig
        .websocket(&[("Sec-WebSocket-Protocol", &bearer)])
        .await
        .is_ok());
}

#[tokio::test]
async fn static_files_are_served_without_credentials_from_the_cache() {
    let rig = Rig::start(|_| {}).await;
    for _ in 0..3 {
        let a = rig
            .get(
                FINESSE,
                "/desktop/assets/js/app.js",
                &[("Cookie", "JSESSIONID=secret")],
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        assert!(a.body.contains("simulated desktop file js/app.js"));
        assert_eq!(a.header("content-type"), Some("text/javascript"));
    }
    let seen = rig.reached("/desktop/assets/js/app.js");
    assert_eq!(seen.len(), 1, "fetched once");
    assert_eq!(seen[0].header("cookie"), None);
    assert_eq!(seen[0].header("authorization"), None);
    let cache = rig.engine.report().cache;
    assert_eq!((cache.entries, cache.hits), (1, 2));
}

#[tokio::test]
async fn request_smuggling_shapes_are_refused_before_the_upstream() {
    let rig = Rig::start(|_| {}).await;
    let auth = basic("agent1", "Agent!pass1");
    let p = rig.port;
    let cases = [
        format!("POST /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{p}\r\nAuthorization: {auth}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"),
        format!("POST /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{p}\r\nAuthorization: {auth}\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd"),
        format!("GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{p}\r\nAuthorization: {auth}\r\nX-Folded: a\r\n b\r\n\r\n"),
        format!("POST /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{p}\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    ];
    for (i, raw) in cases.iter().enumerate() {
        let mut tls = rig.tls(FINESSE).await.unwrap();
        tls.write_all(raw.as_bytes()).await.unwrap();
        let answer = read_answer(&mut tls).await;
        let status = answer.map(|a| a.status);
        if i == 0 {
            // Read by its Transfer-Encoding alone, answered, and the connection closed: what
            // followed the chunked body is never read as a request.
            assert!(closed(&mut tls, Duration::from_secs(2)).await);
        } else {
            assert!(matches!(status, None | Some(400)), "case {i}: {status:?}");
        }
    }
    let first = rig.reached("/finesse/api/SystemInfo");
    assert!(first.len() <= 1);
    assert!(first
        .iter()
        .all(|s| s.header("content-length").is_none_or(|l| l == "0")));
    assert!(rig
        .sim
        .fleet
        .seen(0)
        .iter()
        .all(|s| s.target != "/smuggled"));
}

#[tokio::test]
async fn oversized_heads_and_bodies_are_refused() {
    let rig = Rig::start(|_| {}).await;
    let long = "a".repeat(20_000);
    let a = rig.get(FINESSE, &format!("/finesse/api/{long}"), &[]).await;
    assert!(
        a.status == 431 || a.status == 414 || a.status == 400,
        "{}",
        a.status
    );
    let a = rig
        .get(FINESSE, "/finesse/api/SystemInfo", &[("X-Big", &long)])
        .await;
    assert_eq!(a.status, 431);
    let raw = format!(
        "POST /finesse/api/User/agent1 HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        rig.port,
        basic("agent1", "Agent!pass1"),
        (15u64 << 20) + 1
    );
    assert_eq!(rig.raw(FINESSE, &raw).await.status, 413);
}

#[tokio::test]
async fn a_slow_request_head_or_body_is_cut_off() {
    let rig = Rig::start(|c| {
        c.timeouts.client_header_secs = 1;
        c.timeouts.client_body_secs = 1;
    })
    .await;
    let mut slow = rig.tls(FINESSE).await.unwrap();
    slow.write_all(
        format!(
            "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{}\r\n",
            rig.port
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let _ = slow.write_all(b"X-Slow: 1\r\n").await;
    }
    assert!(
        closed(&mut slow, Duration::from_secs(2)).await,
        "the slow head was cut off"
    );

    let mut body = rig.tls(FINESSE).await.unwrap();
    body.write_all(
        format!(
            "PUT /finesse/api/User/agent1 HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\nContent-Length: 100\r\n\r\nabc",
            rig.port,
            basic("agent1", "Agent!pass1")
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut body)).await;
    assert!(
        matches!(answered, Ok(None) | Ok(Some(Answer { status: 408, .. }))),
        "{answered:?}"
    );
    assert!(rig.reached("/finesse/api/SystemInfo").is_empty());
    assert_eq!(
        rig.sim.fleet.agent_state(0, "agent1"),
        None,
        "the upstream never got the whole body"
    );
    // A whole body goes through.
    assert_eq!(rig.set_ready().await.status, 202);
    assert_eq!(
        rig.sim.fleet.agent_state(0, "agent1").as_deref(),
        Some("READY")
    );
}

#[tokio::test]
async fn more_connections_from_one_address_than_the_limit_are_answered_503() {
    let rig = Rig::start(|c| c.limits.http1_connections = 2).await;
    let _a = rig.tls(FINESSE).await.unwrap();
    let _b = rig.tls(FINESSE).await.unwrap();
    let third = rig.as_agent("/finesse/api/SystemInfo").await;
    assert_eq!(third.status, 503);
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
}

#[tokio::test]
async fn a_new_configuration_takes_effect_without_dropping_open_connections_and_a_bad_one_changes_nothing(
) {
    let rig = Rig::start(|_| {}).await;
    let mut open = rig.tls(FINESSE).await.unwrap();
    let request = format!(
        "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\n\r\n",
        rig.port,
        basic("agent1", "Agent!pass1")
    );
    open.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut open).await.unwrap().status, 200);

    let mut next = rig.config.clone();
    next.version = 2;
    next.auth
        .refused_prefixes
        .push("/finesse/api/SystemInfo".into());
    rig.engine
        .apply(next)
        .await
        .expect("version 2 is put in force");
    assert_eq!(rig.engine.report().version, 2);
    // The open connection is still served, by the new rules.
    open.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut open).await.unwrap().status, 403);

    let mut bad = rig.config.clone();
    bad.version = 3;
    bad.listeners[0].certificates[0].key = "/nonexistent/edge.key".into();
    let problems = rig.engine.apply(bad).await.unwrap_err();
    assert!(
        problems[0].contains("/nonexistent/edge.key"),
        "{problems:?}"
    );
    let report = rig.engine.report();
    assert_eq!(report.version, 2);
    assert_eq!(report.refused.unwrap().version, 3);
    open.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(
        read_answer(&mut open).await.unwrap().status,
        403,
        "version 2 still serves"
    );
}

#[tokio::test]
async fn an_upstream_not_in_the_trust_is_never_sent_credentials() {
    let rig = Rig::start(|c| {
        c.upstream.trust = vec![testkit::pki::Ca::new("Someone else").pem()];
    })
    .await;
    let a = rig.as_agent("/finesse/api/SystemInfo").await;
    assert_eq!(a.status, 502);
    assert!(
        rig.sim.fleet.seen(0).is_empty(),
        "no request reached the node"
    );
    let health = rig.engine.report().upstreams;
    assert!(!health[0].up);
    assert!(
        health[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("certificate"),
        "{health:?}"
    );
}

type Socket = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;

impl Rig {
    /// Opens the notification WebSocket through the engine with `headers` on the upgrade.
    async fn websocket(&self, headers: &[(&str, &str)]) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("wss://{FINESSE}:{}/ws/", self.notify_port);
        let mut request = url.into_client_request().unwrap();
        for (n, v) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let tls = self.tls_to(FINESSE, self.notify_port).await.unwrap();
        match tokio_tungstenite::client_async(request, tls).await {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("{e}"),
        }
    }

    fn reached_notifications(&self) -> usize {
        self.sim
            .fleet
            .seen(0)
            .iter()
            .filter(|s| s.target == "/ws/")
            .count()
    }
}

/// The next text message, within two seconds.
async fn next_text(socket: &mut Socket) -> Option<String> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => return None,
        }
    }
}

async fn sign_in(socket: &mut Socket, user: &str, password: &str) -> Option<String> {
    use futures_util::SinkExt;
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    let auth = format!("<auth mechanism=\"PLAIN\">{plain}</auth>");
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(auth.into()))
        .await
        .ok()?;
    next_text(socket).await
}

#[tokio::test]
async fn a_websocket_is_refused_before_its_address_authenticated_a_rest_request() {
    let rig = Rig::start(|_| {}).await;
    assert_eq!(rig.websocket(&[]).await.err(), Some(401));
    assert_eq!(
        rig.reached_notifications(),
        0,
        "nothing reached the notification service"
    );
    let refused = rig
        .get(
            FINESSE,
            "/ws/",
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        )
        .await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Authorization Failed"), "{refused:?}");
}

#[tokio::test]
async fn after_a_rest_request_the_websocket_carries_the_agents_events() {
    let rig = Rig::start(|_| {}).await;
    assert_eq!(rig.as_agent("/finesse/api/User/agent1").await.status, 200);
    let mut socket = rig
        .websocket(&[])
        .await
        .expect("the upgrade is let through");
    assert_eq!(
        sign_in(&mut socket, "agent1", "Agent!pass1")
            .await
            .as_deref(),
        Some("<success/>")
    );
    let first = next_text(&mut socket).await.unwrap();
    assert!(first.contains("<state>NOT_READY</state>"), "{first}");
    assert_eq!(rig.set_ready().await.status, 202);
    let event = next_text(&mut socket).await.unwrap();
    assert!(
        event.contains("<loginId>agent1</loginId><state>READY</state>"),
        "{event}"
    );
    let session = &rig.engine.report().sessions[0];
    assert_eq!((session.user.as_str(), session.websockets), ("agent1", 1));
    let upgrade = rig
        .sim
        .fleet
        .seen(0)
        .into_iter()
        .find(|s| s.target == "/ws/")
        .unwrap();
    assert_eq!(upgrade.header("x-real-ip"), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_ban_or_a_revoke_closes_open_websockets_at_once() {
    let rig = Rig::start(|_| {}).await;
    assert_eq!(rig.as_agent("/finesse/api/User/agent1").await.status, 200);
    let mut socket = rig.websocket(&[]).await.unwrap();
    assert_eq!(
        sign_in(&mut socket, "agent1", "Agent!pass1")
            .await
            .as_deref(),
        Some("<success/>")
    );
    rig.engine.revoke("agent1");
    assert!(
        closed(socket.get_mut(), Duration::from_secs(2)).await,
        "revoked: closed"
    );

    assert_eq!(rig.as_agent("/finesse/api/User/agent1").await.status, 200);
    let mut socket = rig.websocket(&[]).await.unwrap();
    assert_eq!(
        sign_in(&mut socket, "agent1", "Agent!pass1")
            .await
            .as_deref(),
        Some("<success/>")
    );
    rig.engine.ban(proxyconf::Ban {
        target: BanTarget::Address("127.0.0.1".parse().unwrap()),
        reason: "test".into(),
        since: proxy::now(),
        until: proxy::now() + 60,
        origin: proxyconf::BanOrigin::Console,
    });
    assert!(
        closed(socket.get_mut(), Duration::from_secs(2)).await,
        "banned: closed"
    );
    assert_eq!(rig.websocket(&[]).await.err(), Some(418));
}

#[tokio::test]
async fn with_client_auth_a_proxy_is_served_only_once_its_certificate_is_trusted() {
    let rig = Rig::start(|c| c.upstream.bind = Some("127.0.3.1".parse().unwrap())).await;
    rig.sim.fleet.change_by_hand(0, |s| {
        s.client_auth = true;
        s.allowed_hosts = vec!["edge.sim.test".into()];
    });
    // The engine's certificate is not in tomcat-trust: Finesse refuses the credential check.
    let refused = rig.as_agent("/finesse/api/SystemInfo").await;
    assert_eq!(refused.status, 502, "{refused:?}");
    assert!(rig.reached("/finesse/api/SystemInfo").is_empty());
    rig.sim.fleet.change_by_hand(0, |s| {
        s.trust.push(sim::StoredCert {
            unit: "tomcat-trust".into(),
            file: "edge.sim.test.pem".into(),
            description: "Trust Certificate".into(),
            cert_pem: rig.client_pem.clone(),
            key_pem: None,
        })
    });
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    let seen = rig.reached("/finesse/api/SystemInfo");
    assert_eq!(
        seen[0].peer.ip(),
        "127.0.3.1".parse::<std::net::IpAddr>().unwrap()
    );
}

#[tokio::test]
async fn a_forwarders_header_is_read_as_the_forwarder_wrote_it_or_refused() {
    let rig = Rig::start(behind_forwarder).await;
    // A list: the last entry is the one the forwarder added.
    let a = rig
        .from("agent1", "Agent!pass1", "6.6.6.6, 203.0.113.9")
        .await;
    assert_eq!(a.status, 200);
    let seen = rig.reached("/finesse/api/SystemInfo");
    assert_eq!(seen[0].header("x-real-ip"), Some("203.0.113.9"));
    // Not an address, or twice: refused, never taken for the exempt forwarder.
    assert_eq!(
        rig.from("agent1", "Agent!pass1", "203.0.113.9:5000")
            .await
            .status,
        400
    );
    let auth = basic("agent1", "Agent!pass1");
    let twice = [
        ("Authorization", auth.as_str()),
        ("X-Real-IP", "203.0.113.9"),
        ("X-Real-IP", "127.0.0.1"),
    ];
    assert_eq!(
        rig.get(FINESSE, "/finesse/api/SystemInfo", &twice)
            .await
            .status,
        400
    );
    // An address the header names is never exempt, even a forwarder's.
    for i in 0..5 {
        let a = rig.from(&format!("x{i}"), "bad", "127.0.0.1").await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(
        rig.from("agent1", "Agent!pass1", "127.0.0.1").await.status,
        418
    );
}

#[tokio::test]
async fn tomcat_path_parameters_and_empty_segments_never_reach_the_upstream() {
    let rig = Rig::start(|_| {}).await;
    for path in [
        "/desktop/assets/..;/..;/finesse/api/SystemInfo",
        "/cfadmin;x/",
        "//cfadmin/",
        "/desktop/assets/js;jsessionid=1/app.js",
    ] {
        assert_eq!(rig.get(FINESSE, path, &[]).await.status, 400, "{path}");
    }
    assert!(rig.sim.fleet.seen(0).is_empty());
}

#[tokio::test]
async fn an_account_ban_stops_guessing_but_not_the_agent_already_signed_in() {
    let rig = Rig::start(behind_forwarder).await;
    assert_eq!(
        rig.from("agent2", "Agent!pass2", "198.51.100.2")
            .await
            .status,
        200
    );
    for i in 0..5 {
        let a = rig.from("Agent2", "guess", &format!("203.0.113.{i}")).await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(
        rig.engine
            .report()
            .bans
            .iter()
            .map(|b| &b.target)
            .collect::<Vec<_>>(),
        [&BanTarget::Account("agent2".into())],
        "counted without case"
    );
    assert_eq!(
        rig.from("agent2", "Agent!pass2", "198.51.100.2")
            .await
            .status,
        200
    );
    assert_eq!(
        rig.from("agent2", "another", "198.51.100.3").await.status,
        418
    );
}

#[tokio::test]
async fn a_host_header_other_than_the_request_target_is_refused() {
    let rig = Rig::start(|_| {}).await;
    let raw = format!(
        "GET https://{FINESSE}:{p}/finesse/api/SystemInfo HTTP/1.1\r\nHost: {CUIC}:{p}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic("agent1", "Agent!pass1"),
        p = rig.port
    );
    assert_eq!(rig.raw(FINESSE, &raw).await.status, 400);
    assert!(rig.reached("/finesse/api/SystemInfo").is_empty());
}

#[tokio::test]
async fn static_answers_with_a_query_are_passed_on_not_kept() {
    let rig = Rig::start(|_| {}).await;
    for i in 0..3 {
        let a = rig
            .get(FINESSE, &format!("/desktop/assets/js/app.js?v={i}"), &[])
            .await;
        assert_eq!(a.status, 200);
    }
    assert_eq!(rig.engine.report().cache.entries, 0);
    let fetched = rig.sim.fleet.seen(0);
    assert_eq!(fetched.len(), 3);
    assert!(fetched
        .iter()
        .all(|s| s.header("accept-language").is_none()));
}

#[tokio::test]
async fn upstream_connections_are_kept_alive_across_requests_and_clients() {
    let rig = Rig::start(|_| {}).await;
    // Sequential requests on separate client connections, one with a body: the engine's own
    // credential check and every forwarded request go over one upstream connection.
    for _ in 0..3 {
        assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    }
    assert_eq!(rig.set_ready().await.status, 202);
    assert_eq!(rig.as_agent("/finesse/api/User/agent1").await.status, 200);
    let seen = rig.sim.fleet.seen(0);
    let ports: std::collections::BTreeSet<u16> = seen.iter().map(|s| s.peer.port()).collect();
    assert_eq!(seen.len(), 6, "{seen:?}");
    let order: Vec<_> = seen
        .iter()
        .map(|s| (s.peer.port(), s.method.as_str(), s.target.as_str()))
        .collect();
    assert_eq!(ports.len(), 1, "one upstream connection: {order:?}");
}

#[tokio::test]
async fn a_kept_connection_the_upstream_closed_is_replaced_without_the_client_noticing() {
    let rig = Rig::start(|_| {}).await;
    let mut faults = rig.sim.fleet.faults(0);
    faults.keepalive_ms = 150;
    rig.sim.fleet.set_faults(0, faults).unwrap();
    for _ in 0..2 {
        assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
        // Finesse closes the idle connection the engine kept.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    let ports: std::collections::BTreeSet<u16> = rig
        .reached("/finesse/api/SystemInfo")
        .iter()
        .map(|s| s.peer.port())
        .collect();
    assert_eq!(
        ports.len(),
        3,
        "a new connection after each close: {ports:?}"
    );
    assert!(rig.engine.report().upstreams.iter().all(|h| h.up));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_the_upstream_stays_healthy() {
    let rig = Rig::start(|c| c.limits.body_bytes = 16).await;
    let body = "<User><state>READY</state></User>";
    let raw = format!(
        "PUT /finesse/api/User/agent1 HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        rig.port,
        basic("agent1", "Agent!pass1"),
        body.len()
    );
    assert_eq!(rig.raw(FINESSE, &raw).await.status, 413);
    assert_eq!(rig.sim.fleet.agent_state(0, "agent1"), None);
    assert!(
        rig.engine.report().upstreams.iter().all(|h| h.up),
        "{:?}",
        rig.engine.report().upstreams
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_keepalive_time() {
    let rig = Rig::start(|c| c.timeouts.keepalive_secs = 1).await;
    let mut open = rig.tls(FINESSE).await.unwrap();
    let request = format!(
        "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{}\r\nAuthorization: {}\r\n\r\n",
        rig.port,
        basic("agent1", "Agent!pass1")
    );
    open.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut open).await.unwrap().status, 200);
    assert!(closed(&mut open, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_ban_decided_by_one_instance_reaches_its_peer_within_a_second() {
    // Side A is the rig's engine; side B another engine with its own certificate and ports.
    let a_link = testkit::free_port();
    let b_link = testkit::free_port();
    let other = testkit::pki::Ca::new("Side B");
    let b_client = other.leaf(&["proxy-b.edge.test"]);
    let rig = Rig::start(|_| {}).await;
    let dir = rig._dir.0.clone();
    std::fs::write(dir.join("b.pem"), &b_client.pem).unwrap();
    std::fs::write(dir.join("b.key"), &b_client.key_pem).unwrap();
    let mut a = rig.config.clone();
    a.version = 2;
    a.peer = Some(proxyconf::Peer {
        listen: ([127, 0, 0, 1], a_link).into(),
        address: ([127, 0, 0, 1], b_link).into(),
        certificate: b_client.pem.clone(),
    });
    rig.engine.apply(a.clone()).await.expect("A takes its peer");
    let mut b = a.clone();
    let b_port = testkit::free_port();
    b.listeners.truncate(1);
    b.listeners[0].address = ([127, 0, 0, 1], b_port).into();
    b.routes.retain(|r| r.external.port == rig.port);
    for r in &mut b.routes {
        r.external.port = b_port;
    }
    b.upstream.client_certificate = Some(proxyconf::KeyPair {
        certificate: dir.join("b.pem").display().to_string(),
        key: dir.join("b.key").display().to_string(),
    });
    b.peer = Some(proxyconf::Peer {
        listen: ([127, 0, 0, 1], b_link).into(),
        address: ([127, 0, 0, 1], a_link).into(),
        certificate: rig.client_pem.clone(),
    });
    let side_b = Engine::start("proxy-b", b).await.expect("B starts");
    for i in 0..5 {
        let a = rig
            .get(
                FINESSE,
                "/finesse/api/SystemInfo",
                &[("Authorization", &basic(&format!("x{i}"), "bad"))],
            )
            .await;
        assert_eq!(a.status, 401);
    }
    let at = std::time::Instant::now();
    while side_b.report().bans.is_empty() {
        assert!(
            at.elapsed() < Duration::from_secs(1),
            "B heard of the ban within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ban = &side_b.report().bans[0];
    assert_eq!(ban.target, BanTarget::Address("127.0.0.1".parse().unwrap()));
    assert_eq!(ban.origin, proxyconf::BanOrigin::Peer);
    // A link that shows another certificate is refused: a stranger cannot ban.
    // Side A's certificate is what B pins; a third party with another key gets nowhere.
    let third = Rig::start(|c| {
        c.peer = Some(proxyconf::Peer {
            listen: ([127, 0, 0, 1], testkit::free_port()).into(),
            address: ([127, 0, 0, 1], b_link).into(),
            certificate: b_client.pem.clone(),
        });
    })
    .await;
    assert!(side_b.lift(&ban.target.clone()));
    for i in 0..5 {
        third
            .get(
                FINESSE,
                "/finesse/api/SystemInfo",
                &[("Authorization", &basic(&format!("y{i}"), "bad"))],
            )
            .await;
    }
    assert_eq!(
        third.engine.report().bans.len(),
        1,
        "the third engine banned"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        side_b.report().bans.is_empty(),
        "B did not take a stranger's ban"
    );
    side_b.shutdown();
}

#[tokio::test]
async fn the_lan_side_serves_metrics_the_report_and_the_proxy_map() {
    let status = testkit::free_port();
    let map_port = testkit::free_port();
    let rig = Rig::start(|c| {
        c.status.address = Some(([127, 0, 0, 1], status).into());
        c.status.proxymap_address = Some(([127, 0, 0, 1], map_port).into());
        c.status.proxymap = "finesse1.sim.test:8445=finesse1.edge.test:443\n".into();
    })
    .await;
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
    let get = |port: u16, path: &str| {
        let path = path.to_owned();
        async move {
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            tcp.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
            read_answer(&mut tcp).await.unwrap()
        }
    };
    let metrics = get(status, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("gatehouse_proxy_config_version 1"),
        "{}",
        metrics.body
    );
    assert!(metrics
        .body
        .contains("gatehouse_proxy_requests_total{outcome=\"forwarded\"} 1"));
    let report: proxyconf::Report =
        serde_json::from_str(&get(status, "/status").await.body).unwrap();
    assert_eq!((report.version, report.sessions.len()), (1, 1));
    // The map over HTTPS, with the first listener certificate.
    let mut tls = rig.tls_to(FINESSE, map_port).await.unwrap();
    tls.write_all(b"GET /proxymap.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let map = read_answer(&mut tls).await.unwrap();
    assert_eq!(map.status, 200);
    assert_eq!(map.body, "finesse1.sim.test:8445=finesse1.edge.test:443\n");
}

#[tokio::test]
async fn more_http2_requests_in_flight_from_one_address_than_the_limit_are_answered_503() {
    use http_body_util::BodyExt;
    type Boxed = http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>;
    let rig = Rig::start(|c| c.limits.http2_streams = 2).await;
    let connect = || async {
        let mut config = rustls::ClientConfig::builder_with_provider(testkit::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rig.roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = TcpStream::connect(("127.0.0.1", rig.port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(FINESSE.to_owned()).unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let (send, connection) = hyper::client::conn::http2::handshake::<_, _, Boxed>(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tls),
        )
        .await
        .expect("an HTTP/2 connection");
        tokio::spawn(connection);
        send
    };
    let auth = basic("agent1", "Agent!pass1");
    let request = || {
        http::Request::builder()
            .uri(format!(
                "https://{FINESSE}:{}/finesse/api/SystemInfo",
                rig.port
            ))
            .header("authorization", auth.as_str())
            .body(http_body_util::Empty::new().boxed())
            .unwrap()
    };
    // The upstream slow to accept a connection (the simulator's latency): two requests stay
    // in flight, on one connection (its own limit, told to the client in SETTINGS).
    let node = rig.sim.fleet.index("finesse1.sim.test").unwrap();
    let mut faults = rig.sim.fleet.faults(node);
    faults.latency_ms = 3_000;
    rig.sim.fleet.set_faults(node, faults).unwrap();
    let first = connect().await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut send = first.clone();
        let req = request();
        held.push(tokio::spawn(async move { send.send_request(req).await }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A second connection from the same address: over the address's limit.
    let third = connect().await.send_request(request()).await.unwrap();
    assert_eq!(third.status(), 503);
    for h in held {
        h.abort();
    }
}

/// `GET path` on the plain-HTTP status port at `port`: the answer's body, if any.
async fn status_get(port: u16, path: &str) -> Option<String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .ok()?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).await.ok()?;
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

#[tokio::test]
async fn the_binary_follows_its_configuration_file_and_keeps_the_last_good_one() {
    let dir =
        Dir(std::env::temp_dir().join(format!("gatehouse-proxy-file-{}", testkit::free_port())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let status = testkit::free_port();
    let port = testkit::free_port();
    let file = dir.0.join("proxy.json");
    let ca = testkit::pki::Ca::new("File test CA");
    let leaf = ca.leaf(&[FINESSE]);
    std::fs::write(dir.0.join("edge.pem"), &leaf.pem).unwrap();
    std::fs::write(dir.0.join("edge.key"), &leaf.key_pem).unwrap();
    let trust = serde_json::to_string(&ca.pem()).unwrap();
    let listener = format!(
        r#"{{"address": "127.0.0.1:{port}", "certificates": [{{"certificate": "{0}/edge.pem", "key": "{0}/edge.key"}}]}}"#,
        dir.0.display()
    );
    let document = |version: u32, extra: &str| {
        format!(
            r#"{{"schema": 1, "version": {version}, "pair": "file", "listeners": [{listener}],
                "routes": [{{"external": "{FINESSE}:{port}", "internal": "finesse1.sim.test:8445", "address": "127.0.0.1:9", "component": "finesse"}}],
                "upstream": {{"trust": [{trust}]}},
                "status": {{"address": "127.0.0.1:{status}"}}{extra}}}"#
        )
    };
    std::fs::write(&file, document(1, "")).unwrap();
    let _child = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-proxy"))
            .args(["run", "--instance", "file-test", "--config"])
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let report =
        |body: Option<String>| -> Option<proxyconf::Report> { serde_json::from_str(&body?).ok() };
    let until = |want: u64, refused: Option<u64>| async move {
        for _ in 0..100 {
            if let Some(r) = report(status_get(status, "/status").await) {
                if r.version == want && r.refused.as_ref().map(|f| f.version) == refused {
                    return r;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("version {want} (refused {refused:?}) not reported within 10 s");
    };
    until(1, None).await;
    // A change of the file is in force within a second or two.
    std::fs::write(&file, document(2, r#", "limits": {"body_bytes": 1000}"#)).unwrap();
    until(2, None).await;
    // A document the engine refuses changes nothing; its reason is reported.
    std::fs::write(&file, document(3, r#", "bans": {"failures": 0}"#)).unwrap();
    let r = until(2, Some(3)).await;
    assert!(!r.refused.unwrap().problems.is_empty());
    // Unreadable JSON likewise keeps version 2.
    std::fs::write(&file, "{ not json").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        report(status_get(status, "/status").await).unwrap().version,
        2
    );
}

#[tokio::test]
async fn the_binary_serves_each_connection_on_a_worker_with_the_workers_own_upstream_connections() {
    let rig = Rig::start(|_| {}).await;
    // The rig's configuration on ports of the binary's own.
    let (port, notify_port) = (testkit::free_port(), testkit::free_port());
    let json = rig
        .config
        .to_json()
        .replace(&format!(":{}\"", rig.port), &format!(":{port}\""))
        .replace(
            &format!(":{}\"", rig.notify_port),
            &format!(":{notify_port}\""),
        );
    let file = rig._dir.0.join("workers.json");
    std::fs::write(&file, json).unwrap();
    let _child = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-proxy"))
            .args([
                "run",
                "--instance",
                "workers-test",
                "--workers",
                "2",
                "--config",
            ])
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let mut up = false;
    for _ in 0..100 {
        if rig.tls_to(FINESSE, port).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the binary listens within 10 s");
    let seen_before = rig.sim.fleet.seen(0).len();
    // Connections are handed to the two workers in turn; each worker checks the credentials
    // or believes them, and forwards over upstream connections of its own, kept alive.
    let request = format!(
        "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{port}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        basic("agent1", "Agent!pass1")
    );
    for _ in 0..6 {
        let mut tls = rig.tls_to(FINESSE, port).await.expect("a TLS connection");
        tls.write_all(request.as_bytes()).await.unwrap();
        let answer = read_answer(&mut tls).await.expect("an answer");
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let seen: Vec<_> = rig.sim.fleet.seen(0).split_off(seen_before);
    let order: Vec<_> = seen
        .iter()
        .map(|s| (s.peer.port(), s.target.as_str()))
        .collect();
    assert_eq!(
        seen.iter()
            .filter(|s| s.target == "/finesse/api/SystemInfo")
            .count(),
        6,
        "{order:?}"
    );
    let ports: std::collections::BTreeSet<u16> = seen.iter().map(|s| s.peer.port()).collect();
    assert_eq!(
        ports.len(),
        2,
        "one upstream connection per worker: {order:?}"
    );
    // A ban decided on one worker closes what the address holds open on the others.
    let mut open = rig.tls_to(FINESSE, port).await.expect("a TLS connection");
    let kept = request.replace("Connection: close\r\n", "");
    open.write_all(kept.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut open).await.expect("an answer").status, 200);
    for i in 0..5 {
        let guess = format!(
            "GET /finesse/api/SystemInfo HTTP/1.1\r\nHost: {FINESSE}:{port}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            basic(&format!("guess{i}"), "x")
        );
        let mut tls = rig.tls_to(FINESSE, port).await.expect("a TLS connection");
        tls.write_all(guess.as_bytes()).await.unwrap();
        let answer = read_answer(&mut tls).await.expect("an answer");
        assert_eq!(answer.status, 401, "attempt {i}: {answer:?}");
    }
    assert!(
        closed(&mut open, Duration::from_secs(2)).await,
        "the connection on the other worker was closed"
    );
}

#[tokio::test]
async fn with_the_valid_user_list_an_unlisted_login_id_never_reaches_finesse() {
    let dir = Dir(std::env::temp_dir().join(format!("gatehouse-users-{}", testkit::free_port())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("finesse-admin");
    std::fs::write(&file, "admin:Admin!pass1\n").unwrap();
    let path = file.display().to_string();
    let rig = Rig::start(|c| c.auth.users_credentials = Some(path)).await;
    // The list is read within seconds of the configuration.
    for _ in 0..50 {
        if !rig.reached("/finesse/api/Users").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rig.reached("/finesse/api/Users").len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ghost = rig
        .get(
            FINESSE,
            "/finesse/api/SystemInfo",
            &[("Authorization", &basic("ghost", "x"))],
        )
        .await;
    assert_eq!(ghost.status, 401);
    assert!(
        rig.reached("/finesse/api/User/ghost").is_empty(),
        "Finesse was not asked"
    );
    assert_eq!(rig.as_agent("/finesse/api/SystemInfo").await.status, 200);
}
