//! A gatehouse-proxy pair managed from the console: a pair made from a published map, its
//! instance following the console with its own token (the configuration in force within a
//! second of its publication), its report shown (sessions, bans), bans added and lifted by an
//! admin reaching the instance, and the token good for nothing else.

use crate::scans::scan_and_wait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::app::*;

const FLEET: &str = r#"
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
"#;

struct Edge {
    app: TestApp,
    _sim: sim::Running,
    /// Side A's instance id and its engine.
    instance: i64,
    engine: Arc<proxy::Engine>,
    port: u16,
    ca: testkit::pki::Ca,
    dir: std::path::PathBuf,
    pair_id: i64,
    /// What the pair was made with (its settings and side B's overlay).
    settings: Value,
    overlays: Value,
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.engine.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A pair named `name` on a map with nothing published: the pair and side A's instance id.
pub(crate) async fn solo_pair(app: &TestApp, name: &str) -> (Value, i64) {
    let map = app
        .create(
            "/api/v1/proxymaps",
            &json!({"name": name, "cluster_id": null}),
        )
        .await;
    let settings = json!({"schema": 1, "version": 0, "listeners": [], "routes": []});
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/proxy-pairs",
            &json!({"name": name, "map_id": map, "instances": ["a1", "b1"], "settings": settings}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let pair: Value = response.json().await.unwrap();
    let instance = pair["instances"][0]["id"].as_i64().unwrap();
    (pair, instance)
}

/// Issues `instance`'s token.
pub(crate) async fn issue(app: &TestApp, instance: i64) -> String {
    let response = app
        .request(Method::POST, &format!("/api/v1/proxies/{instance}/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("gp_"));
    token
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A console with the simulated Finesse node scanned, a published map exposing it as
/// `finesse1.edge.test`, a pair publishing version 1, and side A's engine following it.
async fn edge() -> Edge {
    let app = spawn_admin().await;
    let sim = sim::start_toml(FLEET, None).await.unwrap();
    let https = sim.nodes[0].https[0];
    let cluster = app.create_cluster("Edge").await;
    let node = app
        .create(
            "/api/v1/nodes",
            &json!({"cluster_id": cluster, "kind": "finesse", "role": "primary", "fqdn": "finesse1.sim.test",
                    "address": "127.0.0.1", "endpoints": [{"port": https.port()}]}),
        )
        .await;
    scan_and_wait(&app, json!({"node_ids": [node]})).await;
    let port = testkit::free_port();
    let map = app
        .create(
            "/api/v1/proxymaps",
            &json!({"name": "Edge map", "cluster_id": cluster}),
        )
        .await;
    let text = format!(
        "finesse1.sim.test:{}=finesse1.edge.test:{port}\n",
        https.port()
    );
    let saved = app
        .send_json(
            Method::POST,
            &format!("/api/v1/proxymaps/{map}/versions"),
            &json!({"text": text, "base_version": 0, "comment": "edge"}),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::CREATED);
    let published = app
        .send_json(
            Method::POST,
            &format!("/api/v1/proxymaps/{map}/publish"),
            &json!({"version": 1}),
        )
        .await;
    assert_eq!(published.status(), StatusCode::OK);

    let ca = testkit::pki::Ca::new("Edge test CA");
    let leaf = ca.leaf(&["finesse1.edge.test"]);
    let dir = std::env::temp_dir().join(format!("gatehouse-edge-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("edge.pem"), &leaf.pem).unwrap();
    std::fs::write(dir.join("edge.key"), &leaf.key_pem).unwrap();
    let settings = json!({
        "schema": 1, "version": 0,
        "listeners": [{"address": format!("127.0.0.1:{port}"),
                       "certificates": [{"certificate": dir.join("edge.pem"), "key": dir.join("edge.key")}]}],
        "routes": []
    });
    // Side B on this same host: its own port (what differs, as a merge patch).
    let overlays = json!([{}, {"listeners": [{"address": format!("127.0.0.1:{}", port + 1), "public_port": port,
        "certificates": [{"certificate": dir.join("edge.pem"), "key": dir.join("edge.key")}]}]}]);
    let created = app
        .send_json(
            Method::POST,
            "/api/v1/proxy-pairs",
            &json!({"name": "DMZ", "map_id": map, "instances": ["proxy-a", "proxy-b"],
                    "settings": settings, "overlays": overlays}),
        )
        .await;
    let status = created.status();
    let pair: Value = created.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{pair}");
    let instance = pair["instances"][0]["id"].as_i64().unwrap();
    let token = issue(&app, instance).await;

    let engine = proxy::Engine::idle("proxy-a");
    let console = proxy::console::Console::new(&app.url(""), token, None).unwrap();
    tokio::spawn(console.follow(engine.clone()));
    let pair_id = pair["id"].as_i64().unwrap();
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/proxy-pairs/{pair_id}/publish"),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let published: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{published}");
    assert_eq!(published["version"], 1, "{published}");
    assert_eq!(published["state"], "applying", "{published}");
    let at = Instant::now();
    until("version 1 in force", || engine.report().version == 1).await;
    assert!(
        at.elapsed() < Duration::from_secs(2),
        "in force after {:?}",
        at.elapsed()
    );
    Edge {
        app,
        _sim: sim,
        instance,
        engine,
        port,
        ca,
        dir,
        pair_id,
        settings,
        overlays,
    }
}

impl Edge {
    /// `SystemInfo` through the engine as agent1 (`password`): the status.
    async fn through(&self, password: &str) -> u16 {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(
                rustls::ClientConfig::builder_with_provider(testkit::tls::provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(self.ca.roots())
                    .with_no_client_auth(),
            )
            .resolve("finesse1.edge.test", ([127, 0, 0, 1], self.port).into())
            .build()
            .unwrap();
        client
            .get(format!(
                "https://finesse1.edge.test:{}/finesse/api/SystemInfo",
                self.port
            ))
            .basic_auth("agent1", Some(password))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    async fn instance_view(&self) -> Value {
        self.app
            .get_json(&format!("/api/v1/proxies/{}", self.instance))
            .await
    }
}

#[tokio::test]
async fn an_instance_follows_its_published_configuration_and_reports_who_it_serves() {
    let edge = edge().await;
    let config = edge.engine.config();
    assert_eq!(config.config.routes.len(), 1);
    assert_eq!(
        config.config.routes[0].internal.to_string(),
        format!("finesse1.sim.test:{}", edge._sim.nodes[0].https[0].port())
    );
    assert!(
        !config.config.upstream.trust.is_empty(),
        "the certificate the scan saw is trusted"
    );
    assert_eq!(edge.through("Agent!pass1").await, 200);

    let deadline = Instant::now() + Duration::from_secs(10);
    let view = loop {
        let view = edge.instance_view().await;
        if view["sessions"] == 1 || Instant::now() > deadline {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(view["in_force"], 1, "{view}");
    assert_eq!(view["published"], 1);
    assert_eq!(view["health"], "up", "{view}");
    assert_eq!(view["pair"], "DMZ");
    assert_eq!(view["side"], "a");
    assert_eq!(view["listen"][0], format!("127.0.0.1:{}", edge.port));
    let sessions = edge
        .app
        .get_json(&format!("/api/v1/proxies/{}/sessions", edge.instance))
        .await;
    assert_eq!(sessions[0]["user"], "agent1", "{sessions}");
    assert_eq!(sessions[0]["address"], "127.0.0.1");

    // Connected agents: the agent, through which instance.
    let agents = edge.app.get_json("/api/v1/connected-agents").await;
    assert_eq!(agents["proxied"][0]["user"], "agent1", "{agents}");
    assert_eq!(agents["proxied"][0]["instance"], "proxy-a");
    assert_eq!(agents["proxied"][0]["pair"], "DMZ");
    let metrics = edge
        .app
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"gatehouse_proxy_sessions{pair="DMZ",instance="proxy-a"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"gatehouse_proxy_config_behind{pair="DMZ",instance="proxy-a"} 0"#));
    assert!(metrics.contains(r#"gatehouse_proxy_bans{pair="DMZ",instance="proxy-a"} 0"#));

    // The second side never pulled: its view says so.
    let all = edge.app.get_json("/api/v1/proxies").await;
    let b = all
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["side"] == "b")
        .unwrap();
    assert_eq!(b["health"], "never");
    assert_eq!(
        b["listen"][0],
        format!("127.0.0.1:{}", edge.port + 1),
        "{b}"
    );
    assert_eq!(b["has_token"], false);
}

#[tokio::test]
async fn a_ban_an_admin_adds_reaches_the_instance_at_once_and_a_lift_undoes_it() {
    let edge = edge().await;
    assert_eq!(edge.through("Agent!pass1").await, 200);
    let bans = format!("/api/v1/proxies/{}/bans", edge.instance);
    for (body, field) in [
        (
            json!({"ip": "not an address", "minutes": 5, "reason": "x"}),
            "ip",
        ),
        (
            json!({"ip": "127.0.0.1", "minutes": 0, "reason": "x"}),
            "minutes",
        ),
        (
            json!({"ip": "127.0.0.1", "minutes": 5, "reason": "two\nlines"}),
            "reason",
        ),
    ] {
        let refused = edge.app.send_json(Method::POST, &bans, &body).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = refused.json().await.unwrap();
        assert!(!TestApp::field_message(&error, field).is_empty(), "{error}");
    }
    let added = edge
        .app
        .send_json(
            Method::POST,
            &bans,
            &json!({"ip": "127.0.0.1", "minutes": 5, "reason": "looks hostile"}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let at = Instant::now();
    let engine = edge.engine.clone();
    until("the ban in force", || !engine.report().bans.is_empty()).await;
    assert!(
        at.elapsed() < Duration::from_secs(2),
        "banned after {:?}",
        at.elapsed()
    );
    assert_eq!(edge.through("Agent!pass1").await, 418);
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = edge.app.get_json(&bans).await;
        if listed.as_array().is_some_and(|l| !l.is_empty()) || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(listed[0]["target"], "127.0.0.1", "{listed}");
    assert_eq!(listed[0]["origin"], "console");
    assert_eq!(listed[0]["reason"], "looks hostile");
    assert!(listed[0]["seconds_left"].as_u64().unwrap() > 240);

    let lifted = edge
        .app
        .request(Method::DELETE, &format!("{bans}/127.0.0.1"))
        .send()
        .await
        .unwrap();
    assert_eq!(lifted.status(), StatusCode::ACCEPTED);
    until("the ban lifted", || engine.report().bans.is_empty()).await;
    assert_eq!(edge.through("Agent!pass1").await, 200);
    let actions = edge.app.audit_action_names().await;
    for action in [
        "proxy.pair.create",
        "proxy.token.issue",
        "proxy.config.plan",
        "proxy.config.apply",
        "proxy.ban.add",
        "proxy.ban.lift",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
}

/// Waits up to a minute (the whole suite shares two cores) for plan `plan` to be `state`: the plan.
async fn plan_until(app: &TestApp, plan: i64, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = app.get_json(&format!("/api/v1/proxy-plans/{plan}")).await;
        if seen["state"] == state {
            return seen;
        }
        assert!(Instant::now() < deadline, "plan {plan} not {state}: {seen}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_pair_configuration_is_planned_applied_verified_by_reports_and_drift_is_seen() {
    let edge = edge().await;
    let app = &edge.app;
    let pair = edge.pair_id;
    let first = app
        .get_json(&format!("/api/v1/proxy-pairs/{pair}/plans"))
        .await;
    let first = first[0]["id"].as_i64().unwrap();
    // Side B starts following: the first plan is verified once both report version 1.
    let listed = app.get_json(&format!("/api/v1/proxy-pairs/{pair}")).await;
    let side_b = listed["instances"][1]["id"].as_i64().unwrap();
    let engine_b = proxy::Engine::idle("proxy-b");
    let console =
        proxy::console::Console::new(&app.url(""), issue(app, side_b).await, None).unwrap();
    let follow_b = tokio::spawn(console.follow(engine_b.clone()));
    let applied = plan_until(app, first, "applied").await;
    assert!(
        applied["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outcome"] == "verified"),
        "{applied}"
    );

    // A private key pasted where a file belongs is refused: documents reach plans and auditors.
    let mut pasted = edge.settings.clone();
    pasted["listeners"][0]["certificates"][0]["key"] =
        json!("-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n");
    let refused = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/proxy-pairs/{pair}/settings"),
            &json!({"settings": pasted}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A settings change reaches nobody until a plan is applied; the plan names it per instance.
    let mut settings = edge.settings.clone();
    settings["limits"] = json!({"body_bytes": 1_000_000});
    let put = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/proxy-pairs/{pair}/settings"),
            &json!({"settings": settings, "overlays": edge.overlays}),
        )
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let read = app
        .get_json(&format!("/api/v1/proxy-pairs/{pair}/settings"))
        .await;
    assert_eq!(
        read["settings"]["limits"]["body_bytes"], 1_000_000,
        "{read}"
    );
    assert_eq!(read["overlays"], edge.overlays);
    let plan_path = format!("/api/v1/proxy-pairs/{pair}/plan");
    let planned = app.request(Method::POST, &plan_path).send().await.unwrap();
    assert_eq!(planned.status(), StatusCode::CREATED);
    let planned: Value = planned.json().await.unwrap();
    assert_eq!(
        (planned["state"].as_str(), planned["version"].as_u64()),
        (Some("ready"), Some(2))
    );
    for instance in planned["instances"].as_array().unwrap() {
        assert_eq!(
            (instance["from"].as_u64(), instance["to"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(
            instance["changes"],
            json!([{"path": "limits.body_bytes", "from": (15u64 << 20).to_string(), "to": "1000000"}]),
            "{planned}"
        );
    }
    // Planning again changes nothing made: the same version, the earlier plan superseded and
    // no longer applicable.
    let again: Value = app
        .request(Method::POST, &plan_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], 2, "{again}");
    let stale = app
        .request(
            Method::POST,
            &format!("/api/v1/proxy-plans/{}/apply", planned["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(edge.engine.report().version, 1, "nothing told before apply");
    let apply = |plan: &Value| {
        app.request(
            Method::POST,
            &format!("/api/v1/proxy-plans/{}/apply", plan["id"]),
        )
        .send()
    };
    assert_eq!(apply(&again).await.unwrap().status(), StatusCode::ACCEPTED);
    plan_until(app, again["id"].as_i64().unwrap(), "applied").await;
    assert_eq!(edge.engine.config().config.limits.body_bytes, 1_000_000);
    assert_eq!(engine_b.config().config.limits.body_bytes, 1_000_000);

    // Side B told a certificate file its host does not have: it refuses version 3 and keeps
    // serving version 2; the plan fails with its words, and B shows as drift.
    let mut overlays = edge.overlays.clone();
    overlays[1]["listeners"][0]["certificates"][0]["certificate"] = json!("/nonexistent/edge.pem");
    let put = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/proxy-pairs/{pair}/settings"),
            &json!({"settings": settings, "overlays": overlays}),
        )
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let third: Value = app
        .request(Method::POST, &plan_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(apply(&third).await.unwrap().status(), StatusCode::ACCEPTED);
    let failed = plan_until(app, third["id"].as_i64().unwrap(), "failed").await;
    let error = failed["error"].as_str().unwrap();
    assert!(error.starts_with("proxy-b refused version 3"), "{error}");
    assert_eq!(engine_b.report().version, 2);
    let b = app.get_json(&format!("/api/v1/proxies/{side_b}")).await;
    let drift = b["drift"].as_str().unwrap_or_default();
    assert!(
        drift.contains("serves version 2 and refused version 3"),
        "{b}"
    );
    assert_eq!(edge.instance_view().await["drift"], Value::Null);
    let actions = app.audit_action_names().await;
    for action in ["proxy.pair.settings", "proxy.config.verify"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
    follow_b.abort();
    engine_b.shutdown();

    // The sweep keeps a pair's newest 50 finished plans and 20 versions besides those told to
    // an instance or named by a kept plan.
    sqlx::query(
        "insert into proxy_config (pair_id, version, document, overlays, made_by)
         select pair_id, v, document, overlays, 'test' from proxy_config, generate_series(10, 34) v
         where pair_id = $1 and version = 3",
    )
    .bind(pair)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into proxy_plan (pair_id, version, state, instances, created_by)
         select $1, 3, 'superseded', '[]', 'test' from generate_series(1, 60)",
    )
    .bind(pair)
    .execute(&app.pool)
    .await
    .unwrap();
    let (plans, versions) = domain::proxies::store::prune(&app.pool).await.unwrap();
    assert_eq!(
        plans, 14,
        "the four real plans and the ten oldest made here"
    );
    assert_eq!(versions, 7, "versions 1, 2 and 10 to 14");
    let told: Vec<i64> = sqlx::query_scalar(
        "select version from proxy_config where pair_id = $1 and version < 15 order by version",
    )
    .bind(pair)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, [3], "the version the instances are told stays");
}

#[tokio::test]
async fn an_instance_token_reads_its_configuration_and_nothing_else() {
    let app = spawn_admin().await;
    let (pair, instance) = solo_pair(&app, "Solo").await;
    let token = issue(&app, instance).await;
    let anonymous = client();
    let as_instance =
        |method: Method, path: &str| anonymous.request(method, app.url(path)).bearer_auth(&token);
    let pulled = as_instance(Method::GET, "/api/v1/proxy/config?wait=0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pulled.status(),
        StatusCode::NO_CONTENT,
        "nothing published yet"
    );
    for path in [
        "/api/v1/proxies",
        "/api/v1/clusters",
        "/api/v1/alerts",
        "/api/v1/proxy-pairs",
        "/api/v1/audit",
    ] {
        let refused = as_instance(Method::GET, path).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let ban = as_instance(Method::POST, &format!("/api/v1/proxies/{instance}/bans"))
        .json(&json!({"ip": "192.0.2.1", "minutes": 5, "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ban.status(), StatusCode::FORBIDDEN);
    // Publishing fails while the map has no published version, and says so.
    let refused = app
        .request(
            Method::POST,
            &format!("/api/v1/proxy-pairs/{}/publish", pair["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    // An admin's session cannot pull as an instance; a re-issued token retires the old one.
    assert_eq!(
        app.get("/api/v1/proxy/config?wait=0")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // One report a second is kept; another within it is declined, to be sent again.
    let report = || {
        as_instance(Method::POST, "/api/v1/proxy/report")
            .json(&json!({"instance": "proxy-a", "version": 0}))
            .send()
    };
    assert_eq!(report().await.unwrap().status(), StatusCode::NO_CONTENT);
    let again = report().await.unwrap();
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.headers()["retry-after"], "1");
    let newer = issue(&app, instance).await;
    let old = as_instance(Method::GET, "/api/v1/proxy/config?wait=0")
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "re-issuing retires the old token"
    );
    let revoked = app
        .request(Method::DELETE, &format!("/api/v1/proxies/{instance}/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = anonymous
        .get(app.url("/api/v1/proxy/config?wait=0"))
        .bearer_auth(&newer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "a revoked token works no more"
    );
}
