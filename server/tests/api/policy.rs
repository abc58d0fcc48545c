//! The access policy through the REST API: versions as ETags, stale saves refused with what
//! changed, the checks that need the world (names resolve, no load balancer), who may do what.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

pub(crate) async fn cluster_with_proxy(app: &TestApp) -> i64 {
    let response = app
        .send_json(Method::POST, "/api/v1/clusters", &json!({"name": "Site A"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cluster = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    for (kind, fqdn, address) in [
        ("reverse_proxy", "proxy-a.site-a.test", "127.0.0.1"),
        ("load_balancer", "lb.site-a.test", "192.0.2.80"),
    ] {
        let node = json!({"cluster_id": cluster, "kind": kind, "fqdn": fqdn, "address": address});
        let response = app.send_json(Method::POST, "/api/v1/nodes", &node).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    cluster
}

pub(crate) fn proxy_a() -> Value {
    json!({
        "proxies": [{"name": "A", "hosts": ["proxy-a.site-a.test", "203.0.113.10"],
                     "origins": ["https://finesse.site-a.example"]}],
        "client_auth": true,
        "cuic": {"cors": "enable"},
    })
}

async fn put(
    app: &TestApp,
    cluster: i64,
    if_match: Option<&str>,
    body: Value,
) -> (StatusCode, Option<String>, Value) {
    let mut request = app
        .request(
            Method::PUT,
            &format!("/api/v1/clusters/{cluster}/access-policy"),
        )
        .json(&body);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    let response = request.send().await.unwrap();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status(),
        etag,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn saves_name_their_version_and_a_stale_one_is_refused_with_the_changes_since() {
    let app = spawn_admin().await;
    let cluster = cluster_with_proxy(&app).await;
    let path = format!("/api/v1/clusters/{cluster}/access-policy");

    let response = app.get(&path).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "\"0\"");
    let empty: Value = response.json().await.unwrap();
    assert_eq!(
        (empty["version"].clone(), empty["policy"]["proxies"].clone()),
        (json!(0), json!([]))
    );

    let (status, _, error) = put(&app, cluster, None, json!({"policy": proxy_a()})).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{error}");
    assert_eq!(error["error"], "precondition_required");

    let body = json!({"policy": proxy_a(), "reason": "proxy A goes live"});
    let (status, etag, saved) = put(&app, cluster, Some("\"0\""), body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(etag.as_deref(), Some("\"1\""));
    assert_eq!(saved["author"], "admin");

    // A second admin edits from version 0 as well: refused, with what version 1 changed.
    let mut other = proxy_a();
    other["client_auth"] = json!(false);
    let (status, _, error) = put(&app, cluster, Some("\"0\""), json!({"policy": other})).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{error}");
    assert_eq!(error["error"], "stale");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("version 1 is the latest"),
        "{error}"
    );
    assert_eq!(
        error["changes"],
        json!(["~ client-auth: enabled → disabled"])
    );

    let (status, etag, _) = put(
        &app,
        cluster,
        None,
        json!({"policy": other, "base_version": 1, "reason": "LAN agents pick no certificate"}),
    )
    .await;
    assert_eq!((status, etag.as_deref()), (StatusCode::OK, Some("\"2\"")));

    let versions: Value = app.get_json(&format!("{path}/versions")).await;
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["reason"], "LAN agents pick no certificate");
    assert_eq!(versions[0]["changes"][0]["what"], "client-auth");
    assert_eq!(versions[1]["changes"][0]["value"], "A");
    let actions = app.audit_action_names().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "access_policy.save")
            .count(),
        2
    );
}

#[tokio::test]
async fn hosts_must_resolve_and_never_name_a_load_balancer_and_origins_are_never_a_star() {
    let app = spawn_admin().await;
    let cluster = cluster_with_proxy(&app).await;
    let mut policy = proxy_a();
    policy["proxies"][0]["hosts"] = json!([
        "proxy-a.site-a.test",
        "nowhere.gatehouse.invalid",
        "LB.site-a.test",
        "192.0.2.80"
    ]);
    policy["finesse"] = json!({"cors": "enable", "extra_origins": ["*"]});
    let (status, _, error) = put(&app, cluster, Some("\"0\""), json!({"policy": policy})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let message = |field: &str| TestApp::field_message(&error, field);
    assert!(
        message("proxies[0].hosts[1]").contains("does not resolve from Gatehouse"),
        "{error}"
    );
    assert!(
        message("proxies[0].hosts[2]").contains("load balancer lb.site-a.test"),
        "{error}"
    );
    assert!(
        message("proxies[0].hosts[3]").contains("load balancer"),
        "{error}"
    );
    assert!(
        message("finesse.extra_origins[0]").contains("'*' is not a valid origin"),
        "{error}"
    );
    assert!(
        error["fields"].get("proxies[0].hosts[0]").is_none(),
        "known to the inventory: {error}"
    );
    let now: Value = app
        .get_json(&format!("/api/v1/clusters/{cluster}/access-policy"))
        .await;
    assert_eq!(now["version"], 0, "nothing saved");
}

#[tokio::test]
async fn an_auditor_reads_the_policy_and_changes_nothing() {
    let app = spawn_admin().await;
    let cluster = cluster_with_proxy(&app).await;
    put(&app, cluster, Some("\"0\""), json!({"policy": proxy_a()})).await;
    let token = app.create_token("audit", "auditor").await;
    let path = format!("/api/v1/clusters/{cluster}/access-policy");
    let read = app.get_json_as(&token, &path).await;
    assert_eq!(read["version"], 1);
    let response = client()
        .put(app.url(&path))
        .bearer_auth(&token)
        .header("If-Match", "\"1\"")
        .json(&json!({"policy": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _, error) = put(&app, cluster, Some("three"), json!({"policy": {}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, _, _) = put(&app, 999_999, Some("\"0\""), json!({"policy": {}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn clusters_behind_one_proxy_pair_share_a_policy_and_leave_it_with_a_copy() {
    let app = spawn_admin().await;
    let a = cluster_with_proxy(&app).await;
    put(&app, a, Some("\"0\""), json!({"policy": proxy_a()})).await;
    let b = app.create_cluster("Site B").await;
    let node = json!({"cluster_id": b, "kind": "finesse", "fqdn": "finesse.site-b.test", "address": "127.0.0.1"});
    let response = app.send_json(Method::POST, "/api/v1/nodes", &node).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let own = json!({"policy": {"client_auth": false}, "reason": "B alone"});
    let (status, _, _) = put(&app, b, Some("\"0\""), own).await;
    assert_eq!(status, StatusCode::OK);
    // A plan of B's own policy, made before B joins A's: applying it later is refused.
    let before = crate::reconcile::plan(&app, b).await["id"]
        .as_i64()
        .unwrap();

    let follow = |cluster: i64, leader: i64| {
        let app = &app;
        async move {
            let path = format!("/api/v1/clusters/{cluster}/access-policy/follow");
            let response = app
                .send_json(Method::POST, &path, &json!({"cluster_id": leader}))
                .await;
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, shared) = follow(b, a).await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    assert_eq!(shared["clusters"], json!([a, b]));
    assert_eq!(shared["policy"]["proxies"][0]["name"], "A");
    assert_eq!(
        (shared["version"].clone(), shared["reason"].clone()),
        (json!(2), json!("Site B follows this policy"))
    );
    let (status, again) = follow(b, a).await;
    assert_eq!(
        (status, again["version"].clone()),
        (StatusCode::OK, json!(2)),
        "following twice changes nothing"
    );

    let response = app
        .request(Method::POST, &format!("/api/v1/plans/{before}/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("make a new plan"),
        "{error}"
    );

    // One plan covers the nodes of every cluster that follows the policy.
    let plan = crate::reconcile::plan(&app, a).await;
    // A newer plan supersedes one still waiting for its confirmation.
    let newer = crate::reconcile::plan(&app, a).await;
    let first = app.get_json(&format!("/api/v1/plans/{}", plan["id"])).await;
    assert_eq!(
        (first["state"].clone(), newer["state"].clone()),
        (json!("superseded"), json!("ready"))
    );
    let response = app
        .request(Method::POST, &format!("/api/v1/plans/{}/apply", plan["id"]))
        .send()
        .await
        .unwrap();
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("superseded"),
        "{error}"
    );
    let fqdns: Vec<&str> = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(fqdns, ["finesse.site-b.test"]);

    let (status, error) = follow(a, a).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let empty = app.create_cluster("Site C").await;
    let (status, error) = follow(b, empty).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("save one there first"),
        "{error}"
    );
    let token = app.create_token("audit", "auditor").await;
    let response = client()
        .post(app.url(&format!("/api/v1/clusters/{b}/access-policy/leave")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let left = app
        .post_ok(&format!("/api/v1/clusters/{b}/access-policy/leave"))
        .await;
    assert_eq!(left["clusters"], json!([b]));
    assert_eq!(
        (left["version"].clone(), left["policy"].clone()),
        (json!(1), shared["policy"].clone())
    );
    let kept: Value = app
        .get_json(&format!("/api/v1/clusters/{a}/access-policy"))
        .await;
    assert_eq!(kept["clusters"], json!([a]));
    assert_eq!(
        (kept["version"].clone(), kept["reason"].clone()),
        (json!(3), json!("Site B left with a copy"))
    );
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/clusters/{b}/access-policy/leave"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let actions = app.audit_action_names().await;
    for action in ["access_policy.follow", "access_policy.leave"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

/// Issue 24, item 8: a proxy's certificate read from its listener for the admin to compare:
/// the leaf it serves, its fingerprint as openssl prints it; an auditor may not make the
/// console reach out.
#[tokio::test]
async fn a_proxys_certificate_is_read_from_its_listener_for_admins_only() {
    let app = spawn_admin().await;
    let leaf = testkit::pki::Leaf::self_signed("proxy-a.example.com", &["proxy-a.example.com"], 30);
    let port = testkit::tls::serve(vec![leaf.der.clone()], leaf.key()).await;
    let read = |app: &TestApp, listener: String| {
        app.request(Method::POST, "/api/fn/access_policy_listener_certificate")
            .header("Accept", "application/json")
            .form(&[("listener", listener)])
            .send()
    };
    let response = read(&app, format!("127.0.0.1:{port}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let found: Value = response.json().await.unwrap();
    assert_eq!(found["subject"], "proxy-a.example.com", "{found}");
    let der = certs::analyze::pem_certificates(found["pem"].as_str().unwrap()).unwrap();
    assert_eq!(der, [leaf.der.to_vec()]);
    let fingerprint = found["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert!(fingerprint
        .chars()
        .all(|c| c == ':' || c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    let refused = read(&app, "127.0.0.1:x".into()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let auditor = app.signed_in_as("audrey", "auditor").await;
    let forbidden = read(&auditor, format!("127.0.0.1:{port}")).await.unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}
