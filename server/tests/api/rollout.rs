//! A proxy map's hosting and rollout against simulated Finesse, CUIC, LiveData and IdS nodes
//! over real SSH: the file served without a session (conditional GETs, the inventory
//! restriction), the HTTPS map host's certificate imported before its URI, every node fetching
//! the published version, a node that cannot fetch shown stale, the fallback URI taking over.

use crate::reconcile::{apply, commands, node, site, wait_plan};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use testkit::app::*;

const KINDS: [(&str, u16); 4] = [
    ("finesse", 8445),
    ("cuic", 8444),
    ("livedata", 12005),
    ("ids", 8553),
];

/// A map with a line for each simulated node's main port; `extra` added at the end.
fn map_text(extra: &str) -> String {
    let mut text = String::from("# the VPN-less site\n");
    for (kind, port) in KINDS {
        for n in 1..=2 {
            text.push_str(&format!(
                "{kind}{n}.vpnless.test:{port}={kind}{n}.xyz.com:443\n"
            ));
        }
    }
    text + extra
}

/// Creates a map of `cluster` (no cluster: `None`), saves `text` and publishes it.
async fn published_map(app: &TestApp, name: &str, cluster: Option<i64>, text: &str) -> i64 {
    let id = app
        .create(
            "/api/v1/proxymaps",
            &json!({"name": name, "cluster_id": cluster}),
        )
        .await;
    publish(app, id, text).await;
    id
}

/// Saves `text` as the map's next version and publishes it; returns the version.
async fn publish(app: &TestApp, id: i64, text: &str) -> i64 {
    let version = save(app, id, text).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/proxymaps/{id}/publish"),
            &json!({"version": version}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    version
}

/// Saves `text` as the map's next version; returns the version.
async fn save(app: &TestApp, id: i64, text: &str) -> i64 {
    let map = app.get_json(&format!("/api/v1/proxymaps/{id}")).await;
    let body = json!({"text": text, "base_version": map["latest_version"], "comment": "test"});
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/proxymaps/{id}/versions"),
            &body,
        )
        .await;
    let status = response.status();
    let saved: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    saved["latest_version"].as_i64().unwrap()
}

#[tokio::test]
async fn the_published_map_is_served_without_a_session_conditionally_and_only_to_the_inventory_when_asked(
) {
    let app = spawn_admin().await;
    let anonymous = client();
    let draft = app
        .create("/api/v1/proxymaps", &json!({"name": "Draft only"}))
        .await;
    let body = json!({"text": "a.lan:8445=a.xyz.com\n", "base_version": 0});
    app.send_json(
        Method::POST,
        &format!("/api/v1/proxymaps/{draft}/versions"),
        &body,
    )
    .await;
    let response = anonymous
        .get(app.url("/maps/draft-only/proxymap.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "drafts are never served"
    );

    let id = published_map(&app, "East", None, "# comment\nF1.lan:8445=f1.xyz.com\n").await;
    let url = app.url("/maps/east/proxymap.txt");
    let response = anonymous.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let modified = response.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert_eq!(etag, format!("\"{id}-1\""));
    assert!(modified.ends_with(" GMT"), "{modified}");
    assert_eq!(
        response.text().await.unwrap(),
        "F1.lan:8445=f1.xyz.com:443\n",
        "comments are left out, ports written out"
    );

    for (name, value) in [
        (header::IF_NONE_MATCH, etag.as_str()),
        (header::IF_MODIFIED_SINCE, modified.as_str()),
    ] {
        let response = anonymous
            .get(&url)
            .header(name.clone(), value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{name}");
        assert_eq!(response.headers()[header::ETAG], etag.as_str());
        assert!(response.text().await.unwrap().is_empty());
    }
    let response = anonymous
        .get(&url)
        .header(header::IF_NONE_MATCH, "\"0-0\"")
        .header(header::IF_MODIFIED_SINCE, modified.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a tag that differs wins");
    let response = anonymous.head(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = anonymous.post(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    let fetches: (i64, i16) = sqlx::query_as(
        "select fetches, status from proxy_map_fetch where map_id = $1 and source = '127.0.0.1'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        fetches,
        (2, 200),
        "the two GETs answered with the map count; 304s and the HEAD sent no content"
    );

    let rollout = json!({"config_uris": [], "update_frequency": 1, "restrict_to_inventory": true});
    put_rollout(&app, id, &rollout).await;
    let response = anonymous.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("127.0.0.1 is no node of the inventory"));
    let cluster = app.create_cluster("Loopback").await;
    let body =
        json!({"cluster_id": cluster, "kind": "finesse", "fqdn": "f1.lan", "address": "127.0.0.1"});
    app.create("/api/v1/nodes", &body).await;
    let response = anonymous.get(&url).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a node's address may fetch"
    );
}

#[tokio::test]
async fn a_restricted_map_admits_a_node_of_its_cluster_whose_fqdn_resolves_to_the_fetcher() {
    let app = spawn_app().await;
    app.login(ADMIN, PASSWORD).await;
    let cluster = app.create_cluster("By name").await;
    let node = |fqdn: &str| json!({"cluster_id": cluster, "kind": "finesse", "fqdn": fqdn});
    // One node's name does not resolve (its lookup must not hold the answer up), the other's
    // is the loopback name the test fetches from (set in the table: the form asks for an FQDN).
    app.create("/api/v1/nodes", &node("nowhere.invalid")).await;
    let local = app.create("/api/v1/nodes", &node("f2.lan")).await;
    sqlx::query("update node set fqdn = 'localhost' where id = $1")
        .bind(local)
        .execute(&app.pool)
        .await
        .unwrap();
    let restricted =
        json!({"config_uris": [], "update_frequency": 1, "restrict_to_inventory": true});
    let of_cluster = published_map(&app, "Named", Some(cluster), "f2.lan:8445=f2.xyz.com\n").await;
    put_rollout(&app, of_cluster, &restricted).await;
    let of_none = published_map(&app, "Loose", None, "f2.lan:8445=f2.xyz.com\n").await;
    put_rollout(&app, of_none, &restricted).await;

    let fetch = |slug: &str| {
        client()
            .get(app.url(&format!("/maps/{slug}/proxymap.txt")))
            .send()
    };
    assert_eq!(fetch("named").await.unwrap().status(), StatusCode::OK);
    let fetched: Option<i64> =
        sqlx::query_scalar("select node_id from proxy_map_fetch where map_id = $1")
            .bind(of_cluster)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(fetched, Some(local), "the fetch is the node's");
    assert_eq!(
        fetch("loose").await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "names are resolved only among the map's own cluster's nodes"
    );
}

/// Issue 24, item 6: a restricted map is served to its own cluster's nodes only (a node of
/// another cluster at the fetching address does not count), and an open map resolves no
/// names for a stranger's fetch.
#[tokio::test]
async fn a_restricted_map_is_its_clusters_alone_and_an_open_map_resolves_no_names() {
    let app = spawn_admin().await;
    let ours = app.create_cluster("Ours").await;
    let theirs = app.create_cluster("Theirs").await;
    let node =
        |cluster: i64, fqdn: &str| json!({"cluster_id": cluster, "kind": "finesse", "fqdn": fqdn});
    let mut other = node(theirs, "t1.lan");
    other["address"] = json!("127.0.0.1");
    app.create("/api/v1/nodes", &other).await;
    let local = app.create("/api/v1/nodes", &node(ours, "o1.lan")).await;
    let rename = |fqdn: &'static str| {
        sqlx::query("update node set fqdn = $2 where id = $1")
            .bind(local)
            .bind(fqdn)
            .execute(&app.pool)
    };
    rename("localhost").await.unwrap();
    let id = published_map(&app, "Ours", Some(ours), "o1.lan:8445=o1.xyz.com\n").await;
    let fetch = || client().get(app.url("/maps/ours/proxymap.txt")).send();
    let fetched_by = || {
        sqlx::query_scalar::<_, Option<i64>>(
            "select node_id from proxy_map_fetch where map_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
    };
    assert_eq!(fetch().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        fetched_by().await.unwrap(),
        None,
        "an open map resolves no name, and another cluster's node is not this map's"
    );
    let restricted =
        json!({"config_uris": [], "update_frequency": 1, "restrict_to_inventory": true});
    put_rollout(&app, id, &restricted).await;
    assert_eq!(fetch().await.unwrap().status(), StatusCode::OK);
    assert_eq!(fetched_by().await.unwrap(), Some(local));
    rename("nowhere.invalid").await.unwrap();
    let refused = fetch().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("no node of this map's cluster"));
}

#[tokio::test]
async fn a_fetch_flood_from_one_address_is_answered_429_with_a_retry_after() {
    let app = spawn_app_with(|serve| serve.map_fetch_limit = 3).await;
    app.login(ADMIN, PASSWORD).await;
    published_map(&app, "West", None, "w.lan:8445=w.xyz.com\n").await;
    let url = app.url("/maps/west/proxymap.txt");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(client().get(&url).send().await.unwrap());
    }
    let last = statuses.pop().unwrap();
    assert!(statuses.iter().all(|r| r.status() == StatusCode::OK));
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(last.headers().contains_key(header::RETRY_AFTER));
}

async fn put_rollout(app: &TestApp, id: i64, body: &Value) {
    let path = format!("/api/v1/proxymaps/{id}/rollout");
    let response = app.send_json(Method::PUT, &path, body).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
}

/// Sets the rollout to `uris` and asks for a plan: its answer's status and JSON.
async fn ask_plan(app: &TestApp, id: i64, uris: &[&str]) -> (StatusCode, Value) {
    put_rollout(
        app,
        id,
        &json!({"config_uris": uris, "update_frequency": 1}),
    )
    .await;
    let response = app
        .request(Method::POST, &format!("/api/v1/proxymaps/{id}/plan"))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A plan of the rollout to `uris`, once its nodes are read.
async fn rollout_plan(app: &TestApp, id: i64, uris: &[&str]) -> Value {
    let (status, made) = ask_plan(app, id, uris).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    wait_plan(app, made["id"].as_i64().unwrap(), &["ready", "failed"]).await
}

/// The propagation view once every node but those in `except` holds `version`.
async fn propagated(app: &TestApp, id: i64, version: i64, except: &[&str]) -> Value {
    for _ in 0..100 {
        let view = app
            .get_json(&format!("/api/v1/proxymaps/{id}/propagation"))
            .await;
        let done = view["nodes"].as_array().unwrap().iter().all(|n| {
            except.contains(&n["fqdn"].as_str().unwrap()) || n["holds_version"] == version
        });
        if done {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the nodes never all held version {version}");
}

fn state_of<'a>(view: &'a Value, fqdn: &str) -> &'a Value {
    view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["fqdn"] == fqdn)
        .unwrap()
}

#[tokio::test]
async fn a_map_is_rolled_out_over_https_fetched_by_every_node_and_a_node_that_cannot_fetch_is_stale(
) {
    // Eight nodes fetch from one address every 300 ms here: no fetch limit.
    let app = spawn_app_with(|serve| serve.map_fetch_limit = 100_000).await;
    app.login(ADMIN, PASSWORD).await;
    let site = site(&app).await;
    let id = published_map(&app, "VPN-less", Some(site.cluster), &map_text("")).await;

    // HTTPS in front of the console, with a certificate the nodes do not trust yet.
    let ca = testkit::pki::Ca::new("Map host CA");
    let leaf = ca.leaf(&["127.0.0.1"]);
    let config = testkit::tls::server_config(vec![leaf.der.clone(), ca.der()], leaf.key());
    let port = testkit::tls::terminate(config, app.addr).await;
    let https = format!("https://127.0.0.1:{port}/maps/vpn-less/proxymap.txt");

    let (status, refused) = ask_plan(&app, id, &["https://127.0.0.1:1/proxymap.txt"]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("the nodes must trust 127.0.0.1:1"),
        "{message}"
    );

    let planned = rollout_plan(&app, id, &[&https]).await;
    assert_eq!(planned["state"], "ready", "{planned}");
    // Finesse, CUIC and IdS fetch the map (seed 004); LiveData is in it but reads none.
    let planned_nodes: Vec<&str> = planned["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(planned_nodes.len(), 6, "{planned_nodes:?}");
    assert!(!planned_nodes.iter().any(|n| n.starts_with("livedata")));
    let steps = commands(node(&planned, "ids2.vpnless.test"));
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps[0].starts_with("set cert import trust tomcat → paste 127.0.0.1 (SHA-256 "));
    assert!(steps[1].starts_with("set cert import trust tomcat → paste Map host CA (SHA-256 "));
    assert_eq!(
        steps[2],
        format!("utils system reverse-proxy config-uri add {https}")
    );
    assert_eq!(
        steps[3],
        "utils system reverse-proxy set-config-update-frequency 1"
    );
    let applied = apply(&app, &planned).await;
    assert_eq!(applied["state"], "applied", "{applied}");

    let view = propagated(&app, id, 1, &[]).await;
    for n in view["nodes"].as_array().unwrap() {
        assert_eq!(n["state"], "propagated", "{n}");
        assert_eq!(n["config_uris"], json!([https]));
        assert_eq!(n["update_frequency"], 1);
        assert_eq!(n["fetched_version"], 1);
    }

    // cuic2 loses the map host's certificate: its fetches fail and it keeps version 1.
    let cuic2 = site.running.fleet.index("cuic2.vpnless.test").unwrap();
    let untrust = |fleet: &sim::Fleet| {
        fleet.change_by_hand(cuic2, |s| {
            s.trust
                .retain(|c| !c.file.starts_with("127.0.0.1") && !c.file.starts_with("Map_host_CA"))
        });
    };
    untrust(&site.running.fleet);
    publish(
        &app,
        id,
        &map_text("idp.vpnless.test:443=idp.xyz.com:443\n"),
    )
    .await;
    propagated(&app, id, 2, &["cuic2.vpnless.test"]).await;
    sqlx::query("update proxy_map set published_at = now() - interval '10 minutes' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let view = app
        .get_json(&format!("/api/v1/proxymaps/{id}/propagation"))
        .await;
    let stale = state_of(&view, "cuic2.vpnless.test");
    assert_eq!(stale["state"], "stale", "{stale}");
    assert_eq!(stale["holds_version"], 1);
    assert!(
        stale["detail"]
            .as_str()
            .unwrap()
            .starts_with("holds version 1; version 2 was published 10 minutes ago"),
        "{stale}"
    );
    assert_eq!(state_of(&view, "cuic1.vpnless.test")["state"], "propagated");

    // A fallback URI (plain HTTP to the console): the plan adds it after the first, and
    // re-imports what cuic2 lost.
    let fallback = app.url("/maps/vpn-less/proxymap.txt");
    let planned = rollout_plan(&app, id, &[&https, &fallback]).await;
    let add = format!("utils system reverse-proxy config-uri add {fallback}");
    assert_eq!(
        commands(node(&planned, "cuic1.vpnless.test")),
        [add.as_str()]
    );
    assert_eq!(commands(node(&planned, "cuic2.vpnless.test")).len(), 3);
    assert_eq!(apply(&app, &planned).await["state"], "applied");
    // cuic2 loses the certificate again: the first URI fails, the fallback serves version 3.
    untrust(&site.running.fleet);
    publish(&app, id, &map_text("")).await;
    let view = propagated(&app, id, 3, &[]).await;
    assert_eq!(state_of(&view, "cuic2.vpnless.test")["state"], "propagated");
    assert_eq!(
        site.running.fleet.state(cuic2).config_uris,
        [https, fallback]
    );

    // Fifty drafts saved since: the nodes still hold the published version, and are seen to.
    for n in 1..=50 {
        save(&app, id, &map_text(&format!("# draft {n}\n"))).await;
    }
    let view = app
        .get_json(&format!("/api/v1/proxymaps/{id}/propagation"))
        .await;
    for n in view["nodes"].as_array().unwrap() {
        assert_eq!(
            (&n["state"], &n["holds_version"]),
            (&json!("propagated"), &json!(3)),
            "{n}"
        );
    }
}

#[tokio::test]
async fn a_rollout_changed_by_hand_on_a_node_is_drift_of_the_map_until_applied_again() {
    let app = spawn_app_with(|serve| serve.map_fetch_limit = 100_000).await;
    app.login(ADMIN, PASSWORD).await;
    let site = site(&app).await;
    let id = published_map(&app, "VPN-less", Some(site.cluster), &map_text("")).await;
    let uri = app.url("/maps/vpn-less/proxymap.txt");
    let planned = rollout_plan(&app, id, &[&uri]).await;
    assert_eq!(apply(&app, &planned).await["state"], "applied");
    let checked = app.post_ok("/api/v1/drift/check").await;
    assert_eq!(checked, json!([]), "applied and untouched: no drift");

    // Someone deletes ids1's config URI at its CLI.
    let ids1 = site.running.fleet.index("ids1.vpnless.test").unwrap();
    site.running
        .fleet
        .change_by_hand(ids1, |s| s.config_uris.clear());
    let checked = app.post_ok("/api/v1/drift/check").await;
    let drift = checked.as_array().unwrap();
    assert_eq!(drift.len(), 1, "{checked}");
    assert_eq!(
        (
            drift[0]["subject"].as_str(),
            drift[0]["fqdn"].as_str(),
            drift[0]["item"].as_str(),
            drift[0]["expected"].as_str(),
            drift[0]["actual"].as_str()
        ),
        (
            Some("proxy_map"),
            Some("ids1.vpnless.test"),
            Some("config-uris"),
            Some(uri.as_str()),
            Some("none")
        ),
        "{checked}"
    );
    // Applying the rollout again puts it back, and the drift is resolved.
    let planned = rollout_plan(&app, id, &[&uri]).await;
    assert_eq!(commands(node(&planned, "ids1.vpnless.test")).len(), 1);
    assert_eq!(apply(&app, &planned).await["state"], "applied");
    assert_eq!(app.get_json("/api/v1/drift").await, json!([]));
}
