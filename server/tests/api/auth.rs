//! Signing in and out, sessions, throttling, tokens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_opens_the_api() {
    let app = spawn_app().await;
    let response = app.login_response(ADMIN, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not set Secure: {cookie}"
    );
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["role"], "admin");
    assert_eq!(
        app.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_password_is_401_with_a_json_error_and_is_audited() {
    let app = spawn_app().await;
    let response = app.login_response(ADMIN, "wrong password here").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&response).is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(body["message"], "wrong username or password");
    assert!(body["request_id"].as_str().is_some_and(|id| id.len() == 16));
    assert!(app.audit_actions().await.contains(&(
        "-".into(),
        "auth.login".into(),
        "failure".into()
    )));
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let unknown: Value = app
        .login_response("nobody", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let wrong: Value = app
        .login_response(ADMIN, "wrong password here")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["message"], wrong["message"]);
}

#[tokio::test]
async fn repeated_failures_for_one_account_are_throttled_with_retry_after() {
    let app = spawn_app_with(|serve| serve.login_account_limit = 3).await;
    for _ in 0..3 {
        assert_eq!(
            app.login_response(ADMIN, "wrong password here")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused while throttled.
    let response = app.login_response(ADMIN, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(app.audit_actions().await.contains(&(
        "-".into(),
        "auth.login".into(),
        "denied".into()
    )));
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled_across_accounts() {
    let app = spawn_app_with(|serve| serve.login_address_limit = 2).await;
    app.login_response("alice", "wrong password here").await;
    app.login_response("bob", "wrong password here").await;
    assert_eq!(
        app.login_response(ADMIN, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_session_id_changes_at_every_sign_in() {
    let app = spawn_app().await;
    let first = session_cookie(&app.login_response(ADMIN, PASSWORD).await).unwrap();
    let second = session_cookie(&app.login_response(ADMIN, PASSWORD).await).unwrap();
    let id = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
    // The old id is worthless now.
    let replay = testkit::app::client()
        .get(app.url("/api/v1/users"))
        .header("Cookie", id(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_destroys_the_session_on_the_server() {
    let app = spawn_app().await;
    let response = app.login_response(ADMIN, PASSWORD).await;
    let cookie = session_cookie(&response).unwrap();
    let value = cookie.split(';').next().unwrap().to_owned();
    let out = app
        .request(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    // Replaying the old cookie from another client does not work.
    let replay = testkit::app::client()
        .get(app.url("/api/v1/users"))
        .header("Cookie", value)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let count: i64 = sqlx::query_scalar("select count(*) from session")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_forged_session_cookie_is_just_not_signed_in() {
    let app = spawn_app().await;
    for forged in [
        "gatehouse_session=not-a-session",
        "gatehouse_session=",
        "gatehouse_session=%%%%",
    ] {
        let response = testkit::app::client()
            .get(app.url("/api/v1/users"))
            .header("Cookie", forged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{forged}");
    }
}

#[tokio::test]
async fn pages_send_the_signed_out_to_the_sign_in_page_and_back() {
    let app = spawn_app().await;
    let response = app.get("/audit?actor=admin").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Faudit%3Factor%3Dadmin"
    );
}

#[tokio::test]
async fn the_signed_out_load_the_public_pages_the_icon_and_no_other_page() {
    let app = spawn_app().await;
    for public in ["/login", "/favicon.svg", "/healthz"] {
        let response = app.get(public).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{public}");
    }
    // An unknown page is a page like any other: sign in first.
    let response = app.get("/no-such-page").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fno-such-page"
    );
    // A server function that reads is left to its service, which asks for a principal.
    let response = app.get("/api/fn/inventory").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_disabled_user_loses_the_session_and_cannot_sign_in() {
    let app = spawn_admin().await;
    let id = app.create_user("olivia", "auditor").await;
    let olivia = app.other_client();
    olivia.login("olivia", PASSWORD).await;
    assert_eq!(
        olivia.get("/api/v1/audit").send().await.unwrap().status(),
        StatusCode::OK
    );
    let disable = app
        .request(Method::PUT, &format!("/api/v1/users/{id}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        olivia.get("/api/v1/audit").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        olivia.login_response("olivia", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_password_reset_ends_the_users_sessions() {
    let app = spawn_admin().await;
    let id = app.create_user("olivia", "auditor").await;
    let olivia = app.other_client();
    olivia.login("olivia", PASSWORD).await;
    app.request(Method::PUT, &format!("/api/v1/users/{id}"))
        .json(&json!({"password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        olivia.get("/api/v1/audit").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    olivia.login("olivia", "a brand new passphrase").await;
}

#[tokio::test]
async fn tokens_authenticate_until_revoked_and_are_shown_only_once() {
    let app = spawn_admin().await;
    let token = app.create_token("automation", "auditor").await;
    assert!(token.starts_with("gh_"));
    let list = app
        .get("/api/v1/tokens")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !list.contains(&token),
        "a token list never holds the secret"
    );
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from api_token")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(stored, token.as_bytes());

    let bot = testkit::app::client();
    let ok = bot
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    let list: Value = app.get_json("/api/v1/tokens").await;
    let id = list[0]["id"].as_i64().unwrap();
    assert!(list[0]["last_used_at"].is_string());
    let revoke = app
        .request(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let refused = bot
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_admin().await;
    let token = app.create_token("short", "monitor").await;
    sqlx::query("update api_token set expires_at = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    let response = testkit::app::client()
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_user_can_change_their_own_password() {
    let app = spawn_admin().await;
    app.create_user("audrey", "auditor").await;
    let audrey = app.other_client();
    audrey.login("audrey", PASSWORD).await;
    let form = [
        ("current", PASSWORD),
        ("new_password", "another long passphrase"),
        ("confirm", "another long passphrase"),
    ];
    let response = audrey
        .request(Method::POST, "/api/fn/change_password")
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    // Still signed in here; the new password works for a new sign-in.
    assert_eq!(
        audrey.get("/api/v1/audit").send().await.unwrap().status(),
        StatusCode::OK
    );
    app.other_client()
        .login("audrey", "another long passphrase")
        .await;
}

#[tokio::test]
async fn pages_and_answers_travel_gzip_compressed_to_clients_that_take_it() {
    let app = spawn_admin().await;
    for path in ["/", "/api/v1/users"] {
        let compressed = app
            .get(path)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.status(), StatusCode::OK, "{path}");
        assert_eq!(
            compressed
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip"),
            "{path}"
        );
        let plain = app.get(path).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
    }
}

#[tokio::test]
async fn the_security_headers_are_on_pages_and_the_api() {
    let app = spawn_app().await;
    let page = app.get("/login").send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    let api = app.get("/api/v1/audit").send().await.unwrap();
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(api.headers().contains_key(header), "{header}");
    }
    assert!(
        !api.headers().contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn a_session_ends_at_the_absolute_timeout_however_active() {
    let app = spawn_admin().await;
    assert_eq!(
        app.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::OK
    );
    // Signed in 13 hours ago (the default absolute timeout is 12 hours).
    sqlx::query("update session set data = jsonb_set(data, '{signed_in_at}', to_jsonb(extract(epoch from now())::bigint - 13 * 3600))")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let left: i64 = sqlx::query_scalar("select count(*) from session")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the expired session is destroyed");
}

#[tokio::test]
async fn a_session_ends_after_the_idle_timeout_and_activity_extends_it() {
    let app = spawn_admin().await;
    let expiry = || async {
        sqlx::query_scalar::<_, f64>(
            "select extract(epoch from expiry_date - now())::float8 from session",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let left = expiry().await;
    assert!(
        left > 29.0 * 60.0 && left <= 30.0 * 60.0,
        "idle timeout 30 minutes: {left}"
    );
    // Idle for 25 minutes, then one request: the session has 30 minutes again.
    sqlx::query("update session set expiry_date = now() + interval '5 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::OK
    );
    let extended = expiry().await;
    assert!(
        extended > 29.0 * 60.0,
        "activity extends the session: {extended}"
    );
    sqlx::query("update session set expiry_date = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/users").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Issue 24, item 5: the sign-in form's `next`, as a browser would send it, never leads off
/// the console, and a line break in it is no server error.
#[tokio::test]
async fn the_sign_in_form_redirects_only_to_a_path_of_the_console() {
    let app = spawn_app().await;
    for (next, expected) in [
        ("/audit?page=2", "/audit?page=2"),
        ("/\t/evil.example", "/"),
        ("/\n", "/"),
        ("/\\evil.example", "/"),
        ("/.//evil.example", "/"),
    ] {
        let response = app
            .request(Method::POST, "/api/fn/login")
            .form(&[("username", ADMIN), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        // The page's script follows `Location` (200 with `serverfnredirect`); a form
        // without script gets a redirect status.
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{next:?}: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, expected, "{next:?}");
    }
}
