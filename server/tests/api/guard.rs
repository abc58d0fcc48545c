//! Who may call what. Every REST route refuses what its declaration in the route list
//! (`server::api::router`) says it refuses: anonymous callers (401), monitor tokens where not
//! meant for them and auditors where only admins may (403); every state-changing endpoint, REST
//! and server function alike, also refuses other sites. REST routes are walked from the route
//! list; a server function that changes state is one line in `SERVER_FN_WRITES`.

use domain::auth::principal::Need;
use reqwest::{Method, StatusCode};
use testkit::app::*;

/// (method, path, body): every server function that changes state (they take form bodies).
/// The REST API's come from its route list ([`rest_writes`]).
const SERVER_FN_WRITES: &[(Method, &str, Body)] = &[
    (
        Method::POST,
        "/api/fn/user_create",
        Body::Form("username=x&password=correct+horse+battery&role=auditor"),
    ),
    (
        Method::POST,
        "/api/fn/user_update",
        Body::Form("id=1&update[role]=auditor"),
    ),
    (Method::POST, "/api/fn/user_delete", Body::Form("id=1")),
    (
        Method::POST,
        "/api/fn/token_create",
        Body::Form("name=x&role=monitor"),
    ),
    (Method::POST, "/api/fn/token_revoke", Body::Form("id=1")),
    (Method::POST, "/api/fn/cluster_create", Body::Form("name=x")),
    (Method::POST, "/api/fn/cluster_delete", Body::Form("id=1")),
    (
        Method::POST,
        "/api/fn/node_save",
        Body::Form("cluster_id=1&kind=finesse&role=none&fqdn=f.example.com"),
    ),
    (Method::POST, "/api/fn/node_delete", Body::Form("id=1")),
    (
        Method::POST,
        "/api/fn/node_save",
        Body::Form("id=1&cluster_id=1&kind=finesse&role=none&fqdn=f.example.com"),
    ),
    (
        Method::POST,
        "/api/fn/cluster_ca_add",
        Body::Form("cluster_id=1&pem=x"),
    ),
    (
        Method::POST,
        "/api/fn/cluster_ca_remove",
        Body::Form("cluster_id=1&fingerprint_sha256=x"),
    ),
    (
        Method::POST,
        "/api/fn/inventory_import",
        Body::Form("csv=x&dry_run=true"),
    ),
    (
        Method::POST,
        "/api/fn/webhook_create",
        Body::Form("name=x&url=http%3A%2F%2F127.0.0.1%3A9%2F"),
    ),
    (Method::POST, "/api/fn/webhook_delete", Body::Form("id=1")),
    (Method::POST, "/api/fn/webhook_test", Body::Form("id=1")),
    (Method::POST, "/api/fn/scan_start", Body::Form("")),
    (Method::POST, "/api/fn/scan_cancel", Body::Form("id=1")),
    (
        Method::POST,
        "/api/fn/alert_mute",
        Body::Form("node_id=1&port=443&fingerprint_sha256=x&owner=x&until=2999-01-01"),
    ),
    (
        Method::POST,
        "/api/fn/alert_unmute",
        Body::Form("node_id=1&port=443&fingerprint_sha256=x"),
    ),
    (
        Method::POST,
        "/api/fn/cluster_thresholds",
        Body::Form("id=1&warning_days=60"),
    ),
    (
        Method::POST,
        "/api/fn/node_thresholds",
        Body::Form("id=1&warning_days=60"),
    ),
    (
        Method::POST,
        "/api/fn/appliance_credentials",
        Body::Form("node_id=1&username=admin&password=x&port="),
    ),
    (
        Method::POST,
        "/api/fn/appliance_test",
        Body::Form("node_id=1"),
    ),
    (
        Method::POST,
        "/api/fn/appliance_accept_key",
        Body::Form("node_id=1&fingerprint=x"),
    ),
    (
        Method::POST,
        "/api/fn/appliance_stores",
        Body::Form("node_id=1&read=true"),
    ),
    (
        Method::POST,
        "/api/fn/appliance_import_trust",
        Body::Form("node_id=1&unit=tomcat-trust&pem=x"),
    ),
];

/// Every REST operation that changes state (not a GET, for admins), from the route list, with
/// its ids filled in.
fn rest_writes() -> Vec<(Method, String, Need)> {
    server::api::operations()
        .into_iter()
        .filter(|(method, _, need)| *method != Method::GET && *need == Need::Admin)
        .map(|(method, path, need)| (method, concrete(&path), need))
        .collect()
}

/// Every state-changing endpoint, REST and server functions alike.
fn mutating() -> Vec<(Method, String, &'static Body)> {
    rest_writes()
        .into_iter()
        .map(|(method, path, _)| (method, path, &Body::None))
        .chain(
            SERVER_FN_WRITES
                .iter()
                .map(|(method, path, body)| (method.clone(), (*path).to_owned(), body)),
        )
        .collect()
}

enum Body {
    None,
    Form(&'static str),
}

fn with_body(request: reqwest::RequestBuilder, body: &Body) -> reqwest::RequestBuilder {
    match body {
        Body::None => request,
        Body::Form(form) => request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(*form),
    }
}

#[tokio::test]
async fn every_mutating_endpoint_refuses_auditors_monitors_anonymous_and_other_sites() {
    let app = spawn_admin().await;
    app.create_user("audrey", "auditor").await;
    let monitor_token = app.create_token("prometheus", "monitor").await;
    let auditor = app.other_client();
    auditor.login("audrey", PASSWORD).await;
    let anonymous = app.other_client();
    let before = app.audit_actions().await.len();

    for (method, path, body) in mutating() {
        let as_auditor = with_body(auditor.request(method.clone(), &path), body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            as_auditor.status(),
            StatusCode::FORBIDDEN,
            "auditor {method} {path}"
        );

        let as_monitor = with_body(
            anonymous
                .client
                .request(method.clone(), anonymous.url(&path))
                .bearer_auth(&monitor_token),
            body,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            as_monitor.status(),
            StatusCode::FORBIDDEN,
            "monitor token {method} {path}"
        );

        let as_nobody = with_body(anonymous.request(method.clone(), &path), body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            as_nobody.status(),
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );

        let cross_site = with_body(
            app.client
                .request(method.clone(), app.url(&path))
                .header("Origin", "https://evil.example"),
            body,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            cross_site.status(),
            StatusCode::FORBIDDEN,
            "admin from another site {method} {path}"
        );

        let fetch_cross_site = with_body(
            app.client
                .request(method.clone(), app.url(&path))
                .header("Sec-Fetch-Site", "cross-site"),
            body,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            fetch_cross_site.status(),
            StatusCode::FORBIDDEN,
            "Sec-Fetch-Site cross-site {method} {path}"
        );

        let cookie_without_origin =
            with_body(app.client.request(method.clone(), app.url(&path)), body)
                .send()
                .await
                .unwrap();
        assert_eq!(
            cookie_without_origin.status(),
            StatusCode::FORBIDDEN,
            "cookie without Origin {method} {path}"
        );
    }
    // Nothing was changed: the only new audit entries are none at all.
    assert_eq!(app.audit_actions().await.len(), before);
}

#[tokio::test]
async fn the_admin_passes_the_guard_on_every_mutating_endpoint() {
    let app = spawn_admin().await;
    for (method, path, body) in mutating() {
        let response = with_body(app.request(method.clone(), &path), body)
            .send()
            .await
            .unwrap();
        assert!(
            ![StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED].contains(&response.status()),
            "admin {method} {path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn auditors_read_the_audit_log_but_not_user_management() {
    let app = spawn_admin().await;
    app.create_user("audrey", "auditor").await;
    let auditor = app.other_client();
    auditor.login("audrey", PASSWORD).await;
    assert_eq!(
        auditor.get("/api/v1/audit").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        auditor
            .get("/api/v1/audit/verify")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        auditor.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let page = auditor.get("/settings/users").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("Admins only"));
}

#[tokio::test]
async fn monitor_tokens_cannot_read_the_console() {
    let app = spawn_admin().await;
    let token = app.create_token("prometheus", "monitor").await;
    let monitor = app.other_client();
    let audit = monitor
        .client
        .get(monitor.url("/api/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_guard_alone_covers_endpoints_that_forget_their_own_check() {
    // No handler exists here, so only the guard stands between an auditor and a new endpoint.
    let app = spawn_admin().await;
    app.create_user("audrey", "auditor").await;
    let auditor = app.other_client();
    auditor.login("audrey", PASSWORD).await;
    let refused = auditor
        .request(Method::POST, "/api/v1/some-future-endpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = app
        .request(Method::POST, "/api/v1/some-future-endpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::NOT_FOUND);
}

/// Every REST operation from the route list, with its ids filled in.
fn rest_operations() -> Vec<(Method, String, Need)> {
    let operations: Vec<_> = server::api::operations()
        .into_iter()
        .map(|(method, path, need)| (method, concrete(&path), need))
        .collect();
    assert!(
        operations.len() > 40,
        "the route list is read: {operations:?}"
    );
    operations
}

#[tokio::test]
async fn every_rest_route_refuses_anonymous_callers_except_signing_in_and_out() {
    let app = spawn_app().await;
    let anonymous = app.other_client();
    let mut open = Vec::new();
    for (method, path, need) in rest_operations() {
        let status = anonymous
            .request(method.clone(), &path)
            .send()
            .await
            .unwrap()
            .status();
        if need == Need::Anyone {
            open.push(format!("{method} {path}"));
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "anonymous {method} {path}"
            );
        }
    }
    assert_eq!(open, ["DELETE /api/v1/session", "POST /api/v1/session"]);
}

#[tokio::test]
async fn a_monitor_token_is_refused_by_every_route_not_meant_for_monitors() {
    let app = spawn_admin().await;
    let token = app.create_token("prometheus", "monitor").await;
    let monitor = app.other_client();
    let mut allowed = Vec::new();
    for (method, path, need) in rest_operations() {
        if need == Need::Anyone {
            continue;
        }
        let status = monitor
            .client
            .request(method.clone(), monitor.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        if need == Need::Monitor {
            allowed.push(format!("{method} {path}"));
            assert_eq!(status, StatusCode::OK, "monitor {method} {path}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "monitor {method} {path}");
        }
    }
    assert_eq!(allowed, ["GET /api/v1/alerts", "GET /api/v1/drift"]);
}

/// The routes of a proxy instance's token refuse everyone else, an admin included; and a
/// proxy instance's token is refused on every other route.
#[tokio::test]
async fn proxy_instance_routes_are_theirs_alone() {
    let app = spawn_admin().await;
    let token = app.create_token("watcher", "monitor").await;
    let operations = server::api::operations();
    let theirs: Vec<_> = operations
        .iter()
        .filter(|(_, _, need)| *need == Need::Proxy)
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert_eq!(
        theirs,
        ["GET /api/v1/proxy/config", "POST /api/v1/proxy/report"]
    );
    for (method, path, need) in &operations {
        if *need != Need::Proxy {
            continue;
        }
        let path = concrete(path);
        let as_admin = app.request(method.clone(), &path).send().await.unwrap();
        assert_eq!(
            as_admin.status(),
            StatusCode::FORBIDDEN,
            "admin {method} {path}"
        );
        let as_monitor = client()
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            as_monitor.status(),
            StatusCode::FORBIDDEN,
            "monitor {method} {path}"
        );
    }
    // And an instance's token everywhere else: refused; its sign-out leaves no audit entry.
    let (_, instance) = crate::proxies::solo_pair(&app, "Guard").await;
    let proxy_token = crate::proxies::issue(&app, instance).await;
    for (method, path, need) in &operations {
        if matches!(need, Need::Proxy | Need::Anyone) {
            continue;
        }
        let path = concrete(path);
        let status = client()
            .request(method.clone(), app.url(&path))
            .bearer_auth(&proxy_token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "proxy instance {method} {path}"
        );
    }
    let logouts = |names: Vec<String>| names.iter().filter(|a| *a == "auth.logout").count();
    let before = logouts(app.audit_action_names().await);
    client()
        .delete(app.url("/api/v1/session"))
        .bearer_auth(&proxy_token)
        .send()
        .await
        .unwrap();
    assert_eq!(logouts(app.audit_action_names().await), before);
}

/// A POST that only reads (a text checked) declares `reader` in the route list; the write guard
/// must let readers through too.
#[tokio::test]
async fn auditors_may_send_the_posts_that_only_read() {
    let app = spawn_admin().await;
    let auditor = app.signed_in_as("audrey", "auditor").await;
    let reading: Vec<(Method, String)> = server::api::operations()
        .into_iter()
        .filter(|(method, _, need)| *method != Method::GET && *need == Need::Reader)
        .map(|(method, path, _)| (method, concrete(&path)))
        .collect();
    assert!(!reading.is_empty());
    for (method, path) in reading {
        let status = auditor
            .request(method.clone(), &path)
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            !matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
            "auditor {method} {path}: {status}"
        );
    }
}

#[tokio::test]
async fn auditors_read_what_the_route_list_lets_readers_read_and_nothing_else() {
    let app = spawn_admin().await;
    app.create_user("audrey", "auditor").await;
    let auditor = app.other_client();
    auditor.login("audrey", PASSWORD).await;
    for (method, path, need) in rest_operations() {
        if method != Method::GET {
            continue; // writes: `every_mutating_endpoint_refuses_...`
        }
        let status = auditor
            .request(method.clone(), &path)
            .send()
            .await
            .unwrap()
            .status();
        match need {
            Need::Admin | Need::Proxy => {
                assert_eq!(status, StatusCode::FORBIDDEN, "auditor {path}")
            }
            // Readable: answered, or "no such node" for the made-up id; never refused.
            _ => assert!(
                !matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
                "auditor {path}: {status}"
            ),
        }
    }
}
