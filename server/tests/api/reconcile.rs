//! The reconciliation engine through the access policy, against simulated Finesse, CUIC,
//! LiveData and IdS nodes over real SSH: plan, apply, verify; a removed proxy's origins and
//! frame-ancestors gone everywhere; a refusal, a dropped connection and a hand edit.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sim::fleet::Faults;
use std::time::Duration;
use testkit::app::*;

const PASSWORD: &str = "Plat-form!9";

fn fleet_toml() -> String {
    // A proxy map's "minute" (its update frequency) lasts 300 ms here.
    let mut toml = String::from(
        "minute_ms = 300\n[hosts]\n\"proxy-a.vpnless.test\" = \"127.0.0.10\"\n\"proxy-b.vpnless.test\" = \"127.0.0.11\"\n\n[[cluster]]\nname = \"VPN-less\"\n",
    );
    for (kind, role) in [
        ("finesse", "primary"),
        ("finesse", "secondary"),
        ("cuic", "primary"),
        ("cuic", "secondary"),
        ("livedata", "primary"),
        ("livedata", "secondary"),
        ("ids", "primary"),
        ("ids", "secondary"),
    ] {
        let n = if role == "primary" { 1 } else { 2 };
        toml.push_str(&format!(
            "\n[[cluster.node]]\nfqdn = \"{kind}{n}.vpnless.test\"\nkind = \"{kind}\"\nrole = \"{role}\"\npassword = \"{PASSWORD}\"\nrestart_ms = 30\n"
        ));
    }
    toml
}

pub(crate) struct Site {
    pub running: sim::Running,
    pub cluster: i64,
}

/// The simulated cluster in Gatehouse's inventory with credentials, and the proxies (with
/// their addresses) as reverse-proxy nodes, so their names resolve for Gatehouse.
pub(crate) async fn site(app: &TestApp) -> Site {
    let running = sim::start_toml(&fleet_toml(), None).await.unwrap();
    let created: Value = app
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": "VPN-less"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cluster = created["id"].as_i64().unwrap();
    for (node, spec) in running
        .nodes
        .iter()
        .zip(&running.fleet.spec.clusters[0].nodes)
    {
        let body = json!({"cluster_id": cluster, "kind": spec.kind, "role": spec.role, "fqdn": node.fqdn,
                          "address": "127.0.0.1", "endpoints": []});
        let response = app.send_json(Method::POST, "/api/v1/nodes", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{body}");
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let credentials =
            json!({"username": "admin", "password": PASSWORD, "port": node.ssh.port()});
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/nodes/{id}/credentials"),
                &credentials,
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    for (fqdn, address) in [
        ("proxy-a.vpnless.test", "127.0.0.10"),
        ("proxy-b.vpnless.test", "127.0.0.11"),
        ("proxy-lan.vpnless.test", "127.0.0.12"),
    ] {
        let body = json!({"cluster_id": cluster, "kind": "reverse_proxy", "fqdn": fqdn, "address": address});
        let response = app.send_json(Method::POST, "/api/v1/nodes", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
    }
    Site { running, cluster }
}

pub(crate) fn pair_policy() -> Value {
    json!({
        "proxies": [
            {"name": "A", "hosts": ["proxy-a.vpnless.test", "192.0.2.10"], "origins": ["https://desk-a.example.com"]},
            {"name": "B", "hosts": ["proxy-b.vpnless.test"], "origins": ["https://desk-b.example.com"]},
        ],
        "client_auth": true,
        "finesse": {"cors": "enable"},
        "cuic": {"cors": "enable"},
        "livedata": {"cors": "enable"},
    })
}

pub(crate) async fn save(app: &TestApp, cluster: i64, policy: Value) -> i64 {
    let path = format!("/api/v1/clusters/{cluster}/access-policy");
    let current: Value = app.get_json(&path).await;
    let body = json!({"policy": policy, "base_version": current["version"]});
    let response = app.send_json(Method::PUT, &path, &body).await;
    let status = response.status();
    let saved: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{saved}");
    saved["version"].as_i64().unwrap()
}

/// Makes a plan and waits until the nodes are read.
pub(crate) async fn plan(app: &TestApp, cluster: i64) -> Value {
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/clusters/{cluster}/access-policy/plan"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    wait_plan(app, id, &["ready", "failed", "cancelled"]).await
}

pub(crate) async fn wait_plan(app: &TestApp, id: i64, states: &[&str]) -> Value {
    for _ in 0..300 {
        let plan: Value = app.get_json(&format!("/api/v1/plans/{id}")).await;
        if states.contains(&plan["state"].as_str().unwrap()) {
            return plan;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("plan {id} never reached {states:?}");
}

pub(crate) async fn apply(app: &TestApp, plan: &Value) -> Value {
    let id = plan["id"].as_i64().unwrap();
    let response = app
        .request(Method::POST, &format!("/api/v1/plans/{id}/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{}",
        response.text().await.unwrap()
    );
    wait_plan(app, id, &["applied", "failed", "cancelled"]).await
}

pub(crate) fn node<'a>(plan: &'a Value, fqdn: &str) -> &'a Value {
    plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["fqdn"] == fqdn)
        .unwrap()
}

pub(crate) fn commands(node: &Value) -> Vec<&str> {
    node["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_proxy_pair_is_planned_applied_and_verified_on_every_node_and_a_removed_one_leaves_nothing_behind(
) {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;

    let planned = plan(&app, site.cluster).await;
    assert_eq!(planned["state"], "ready", "{planned}");
    assert_eq!(planned["nodes"].as_array().unwrap().len(), 8);
    let finesse = node(&planned, "finesse1.vpnless.test");
    assert_eq!(
        commands(finesse),
        [
            "utils system reverse-proxy allowed-hosts add proxy-a.vpnless.test",
            "utils system reverse-proxy allowed-hosts add 192.0.2.10",
            "utils system reverse-proxy allowed-hosts add proxy-b.vpnless.test",
            "utils finesse cors allowed_origin add https://desk-a.example.com",
            "utils finesse cors allowed_origin add https://desk-b.example.com",
            "utils finesse frame_access_allowed_list add https://desk-a.example.com",
            "utils finesse frame_access_allowed_list add https://desk-b.example.com",
            "utils finesse cors enable",
        ],
        "client-auth is already on (a fresh node); Finesse adds the hosts' frame entries itself"
    );
    let ids = node(&planned, "ids1.vpnless.test");
    assert_eq!(commands(ids).len(), 3);
    assert!(ids["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("IdS takes neither"));
    assert_eq!(
        node(&planned, "livedata2.vpnless.test")["skipped"][0]["reason"],
        "LiveData has no frame-ancestors list"
    );

    let applied = apply(&app, &planned).await;
    assert_eq!(applied["state"], "applied", "{applied:#}");
    for n in applied["nodes"].as_array().unwrap() {
        assert_eq!(n["state"], "verified", "{n:#}");
        assert!(n["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "done" && s["output"].is_string()));
    }
    for (i, fqdn) in ["finesse1", "cuic2", "livedata1", "ids2"]
        .iter()
        .enumerate()
    {
        let index = site
            .running
            .fleet
            .index(&format!("{fqdn}.vpnless.test"))
            .unwrap();
        let state = site.running.fleet.state(index);
        assert_eq!(
            state.allowed_hosts,
            ["proxy-a.vpnless.test", "192.0.2.10", "proxy-b.vpnless.test"],
            "{fqdn}"
        );
        if i < 3 {
            let product = ["finesse", "cuic", "live-data"][i];
            assert_eq!(
                state.cors[product].origins,
                ["https://desk-a.example.com", "https://desk-b.example.com"]
            );
            assert_eq!(state.cors[product].mode, sim::CorsMode::Enable);
        }
    }
    let again = plan(&app, site.cluster).await;
    assert!(
        again["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["state"] == "in_sync"),
        "{again:#}"
    );

    // Proxy B goes: its host, origins and frame-ancestors entries leave every node.
    let mut without_b = pair_policy();
    without_b["proxies"].as_array_mut().unwrap().pop();
    save(&app, site.cluster, without_b).await;
    let planned = plan(&app, site.cluster).await;
    assert_eq!(
        commands(node(&planned, "finesse2.vpnless.test")),
        [
            "utils finesse frame_access_allowed_list delete → 3",
            "utils finesse frame_access_allowed_list delete → 4",
            "utils finesse cors allowed_origin delete → 2",
            "utils system reverse-proxy allowed-hosts delete → 3",
        ]
    );
    assert_eq!(apply(&app, &planned).await["state"], "applied");
    for index in 0..8 {
        let state = site.running.fleet.state(index);
        let everything = format!(
            "{:?} {:?} {:?}",
            state.allowed_hosts, state.cors, state.frame_access
        );
        assert!(
            !everything.contains("proxy-b") && !everything.contains("desk-b"),
            "{everything}"
        );
    }
    let actions = app.audit_action_names().await;
    assert!(
        actions.contains(&"plan.apply".to_string()) && actions.contains(&"plan.node".to_string())
    );
}

#[tokio::test]
async fn a_refused_name_a_dropped_connection_and_a_hand_edit_each_stop_their_node_and_a_new_plan_finishes(
) {
    let app = spawn_admin().await;
    let site = site(&app).await;
    let mut policy = pair_policy();
    // Gatehouse knows this name (the inventory has its address); the nodes do not.
    policy["proxies"][1]["hosts"] = json!(["proxy-b.vpnless.test", "proxy-lan.vpnless.test"]);
    save(&app, site.cluster, policy).await;
    let planned = plan(&app, site.cluster).await;

    let cuic1 = site.running.fleet.index("cuic1.vpnless.test").unwrap();
    let drop = Faults {
        drop_on_command: "utils system reverse-proxy allowed-hosts add 192.0.2.10".into(),
        ..Faults::default()
    };
    site.running.fleet.set_faults(cuic1, drop).unwrap();
    let ids2 = site.running.fleet.index("ids2.vpnless.test").unwrap();
    site.running
        .fleet
        .change_by_hand(ids2, |s| s.allowed_hosts.push("10.9.9.9".into()));

    let applied = apply(&app, &planned).await;
    assert_eq!(applied["state"], "failed");
    let finesse = node(&applied, "finesse1.vpnless.test");
    assert_eq!(finesse["state"], "failed");
    let refused = &finesse["steps"][3];
    assert_eq!(
        refused["command"],
        "utils system reverse-proxy allowed-hosts add proxy-lan.vpnless.test"
    );
    assert_eq!(refused["state"], "failed");
    assert!(
        refused["output"]
            .as_str()
            .unwrap()
            .contains("Source proxy-lan.vpnless.test is invalid"),
        "{refused}"
    );
    assert!(finesse["remaining"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["item"] == "allowed-hosts"));

    let cuic = node(&applied, "cuic1.vpnless.test");
    assert_eq!(cuic["state"], "failed", "{cuic:#}");
    assert!(
        cuic["error"]
            .as_str()
            .unwrap()
            .contains("connection dropped"),
        "{cuic}"
    );
    assert!(!cuic["remaining"].as_array().unwrap().is_empty());

    let ids = node(&applied, "ids2.vpnless.test");
    assert_eq!(ids["state"], "changed", "{ids:#}");
    assert!(ids["remaining"][0]["actual"]
        .as_str()
        .unwrap()
        .contains("10.9.9.9"));
    let other = node(&applied, "ids1.vpnless.test");
    assert_eq!(
        (
            other["steps"][0]["state"].as_str(),
            other["steps"][3]["state"].as_str()
        ),
        (Some("done"), Some("failed")),
        "one node's failure does not stop the others: {other:#}"
    );

    // The proxy's LAN name is dropped from the policy; the connection is back: a new plan
    // (the policy changed), and everything ends verified, the hand edit undone.
    site.running
        .fleet
        .set_faults(cuic1, Faults::default())
        .unwrap();
    save(&app, site.cluster, pair_policy()).await;
    let refused = app
        .request(
            Method::POST,
            &format!("/api/v1/plans/{}/apply", planned["id"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::CONFLICT,
        "the policy changed since that plan"
    );
    let applied = apply(&app, &plan(&app, site.cluster).await).await;
    assert_eq!(applied["state"], "applied", "{applied:#}");
    assert!(!site
        .running
        .fleet
        .state(ids2)
        .allowed_hosts
        .contains(&"10.9.9.9".to_string()));
}

#[tokio::test]
async fn a_connection_dropped_mid_apply_fails_its_node_with_the_remaining_diff_and_resume_completes_the_same_plan(
) {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    let planned = plan(&app, site.cluster).await;
    let cuic2 = site.running.fleet.index("cuic2.vpnless.test").unwrap();
    let drop = Faults {
        drop_on_command: "utils cuic cors allowed_origin add https://desk-b.example.com".into(),
        ..Faults::default()
    };
    site.running.fleet.set_faults(cuic2, drop).unwrap();

    let failed = apply(&app, &planned).await;
    assert_eq!(failed["state"], "failed");
    let cuic = node(&failed, "cuic2.vpnless.test");
    assert_eq!(cuic["state"], "failed");
    let states: Vec<&str> = cuic["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["done", "done", "done", "done", "failed", "pending", "pending", "pending"]
    );
    let remaining: Vec<&str> = cuic["remaining"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item"].as_str().unwrap())
        .collect();
    assert_eq!(remaining, ["cors-origins", "frame-ancestors", "cors-mode"]);
    assert_eq!(node(&failed, "cuic1.vpnless.test")["state"], "verified");

    site.running
        .fleet
        .set_faults(cuic2, Faults::default())
        .unwrap();
    let resumed = apply(&app, &failed).await;
    assert_eq!(resumed["state"], "applied", "{resumed:#}");
    let cuic = node(&resumed, "cuic2.vpnless.test");
    assert_eq!(cuic["state"], "verified");
    assert!(cuic["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["state"] == "done"));
    let state = site.running.fleet.state(cuic2);
    assert_eq!(
        state.cors["cuic"].origins,
        ["https://desk-a.example.com", "https://desk-b.example.com"],
        "each origin once: the done steps did not run again"
    );
}

#[tokio::test]
async fn a_command_whose_answer_was_lost_with_the_connection_but_took_effect_counts_as_done_on_resume(
) {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    let planned = plan(&app, site.cluster).await;
    let ids1 = site.running.fleet.index("ids1.vpnless.test").unwrap();
    let cut = Faults {
        drop_after_command: "utils system reverse-proxy allowed-hosts add 192.0.2.10".into(),
        ..Faults::default()
    };
    site.running.fleet.set_faults(ids1, cut).unwrap();
    let failed = apply(&app, &planned).await;
    assert_eq!(
        node(&failed, "ids1.vpnless.test")["steps"][1]["state"],
        "failed"
    );
    assert!(
        site.running
            .fleet
            .state(ids1)
            .allowed_hosts
            .contains(&"192.0.2.10".to_string()),
        "the node made the change before the connection dropped"
    );

    site.running
        .fleet
        .set_faults(ids1, Faults::default())
        .unwrap();
    let resumed = apply(&app, &failed).await;
    let ids = node(&resumed, "ids1.vpnless.test");
    assert_eq!(ids["state"], "verified", "{ids:#}");
    assert_eq!(ids["steps"][1]["state"], "done");
    assert_eq!(ids["steps"][1]["error"], Value::Null);
    let output = ids["steps"][1]["output"].as_str().unwrap();
    assert!(output.contains("so it took effect"), "{output}");
    assert_eq!(
        site.running.fleet.state(ids1).allowed_hosts,
        ["proxy-a.vpnless.test", "192.0.2.10", "proxy-b.vpnless.test"],
        "not added twice"
    );
}

#[tokio::test]
async fn cancel_stops_an_apply_after_the_running_command_and_the_rest_is_never_run() {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    let planned = plan(&app, site.cluster).await;
    for index in 0..8 {
        let slow = Faults {
            latency_ms: 150,
            ..Faults::default()
        };
        site.running.fleet.set_faults(index, slow).unwrap();
    }
    let id = planned["id"].as_i64().unwrap();
    let response = app
        .request(Method::POST, &format!("/api/v1/plans/{id}/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // Cancel as soon as the first command is done: the primaries' commands and verify take
    // seconds at 150 ms an answer, and the secondaries wait for them.
    for _ in 0..200 {
        let plan: Value = app.get_json(&format!("/api/v1/plans/{id}")).await;
        let begun = plan["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n["steps"].as_array().unwrap())
            .any(|s| s["state"] == "done");
        if begun {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let response = app
        .request(Method::POST, &format!("/api/v1/plans/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let cancelled = wait_plan(&app, id, &["applied", "failed", "cancelled"]).await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled:#}");
    let states: Vec<&str> = cancelled["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["steps"].as_array().unwrap())
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"cancelled"), "{states:?}");
    assert!(
        !states.contains(&"running"),
        "the running command finished: {states:?}"
    );
    // A node none of whose commands ran (cancelled, or never begun: pending) was left as it was.
    let untouched: Vec<&Value> = cancelled["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["steps"][0]["state"] != "done")
        .collect();
    assert!(!untouched.is_empty(), "stopped before the end: {states:?}");
    for n in untouched {
        let index = site
            .running
            .fleet
            .index(n["fqdn"].as_str().unwrap())
            .unwrap();
        assert!(
            site.running.fleet.state(index).allowed_hosts.is_empty(),
            "{n:#}"
        );
    }
}

/// Issue 24, item 8: with client-auth on, a trusted proxy's certificate goes into the
/// tomcat-trust of every component it forwards to (seed 004: "Otherwise, the traffic from proxy
/// will be rejected"), planned, applied and read back; a proxy with none is warned of.
#[tokio::test]
async fn a_proxys_certificate_is_imported_into_every_proxied_components_tomcat_trust() {
    let app = spawn_admin().await;
    let site = site(&app).await;
    let proxy =
        testkit::pki::Leaf::self_signed("proxy-a.vpnless.test", &["proxy-a.vpnless.test"], 365);
    let mut policy = pair_policy();
    policy["proxies"][0]["client_certificate"] = json!(proxy.pem);
    save(&app, site.cluster, policy).await;
    let view = app
        .get_json(&format!("/api/v1/clusters/{}/access-policy", site.cluster))
        .await;
    let stored = view["policy"]["proxies"][0]["client_certificate"]
        .as_str()
        .unwrap();
    assert!(
        stored.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{stored}"
    );
    assert!(
        view["warnings"]["proxies[1].client_certificate"][0]
            .as_str()
            .unwrap()
            .contains("client-auth is on"),
        "{view}"
    );
    let planned = plan(&app, site.cluster).await;
    assert_eq!(planned["state"], "ready", "{planned}");
    for node in &site.running.nodes {
        let steps = commands(super::reconcile::node(&planned, &node.fqdn));
        // Named with the start of its fingerprint: what is confirmed says which is pasted.
        assert!(
            steps.iter().any(|s| s.starts_with(
                "set cert import trust tomcat → paste A's client certificate (SHA-256 "
            )),
            "{}: {steps:?}",
            node.fqdn
        );
    }
    let applied = apply(&app, &planned).await;
    assert_eq!(applied["state"], "applied", "{applied}");
    for (index, node) in site.running.nodes.iter().enumerate() {
        let trust = site.running.fleet.state(index).trust;
        assert!(
            trust
                .iter()
                .any(|c| c.unit == "tomcat-trust" && c.file == "proxy-a.vpnless.test.pem"),
            "{} does not trust proxy A",
            node.fqdn
        );
    }
    // Applied and verified: a new plan has nothing to import.
    let again = plan(&app, site.cluster).await;
    for node in &site.running.nodes {
        let steps = commands(super::reconcile::node(&again, &node.fqdn));
        assert!(
            !steps.iter().any(|s| s.contains("client certificate")),
            "{steps:?}"
        );
    }
}

/// Issue 25: a plan an earlier Gatehouse stored (its commands as text) is still shown as it was
/// planned, but applying it is refused: what runs must be the typed change an admin saw.
#[tokio::test]
async fn a_plan_stored_by_an_earlier_version_is_shown_and_refused() {
    let app = spawn_admin().await;
    let site = site(&app).await;
    save(&app, site.cluster, pair_policy()).await;
    let planned = plan(&app, site.cluster).await;
    let id = planned["id"].as_i64().unwrap();
    sqlx::query(
        "update plan_node set node_plan = jsonb_set(node_plan, '{steps}',
            (select coalesce(jsonb_agg(jsonb_set(s, '{command}', to_jsonb('utils system reverse-proxy allowed-hosts add ' || coalesce(s->'op'->>'value', '')))), '[]')
             from jsonb_array_elements(node_plan->'steps') s))
         where plan_id = $1 and node_plan is not null",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .unwrap();
    let shown: Value = app.get_json(&format!("/api/v1/plans/{id}")).await;
    assert!(
        shown
            .to_string()
            .contains("allowed-hosts add proxy-a.vpnless.test"),
        "{shown}"
    );
    let refused = app
        .request(Method::POST, &format!("/api/v1/plans/{id}/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("earlier version"),
        "{body}"
    );
}
