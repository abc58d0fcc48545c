//! User management through the REST API.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::app::*;

#[tokio::test]
async fn an_admin_creates_lists_changes_and_deletes_users() {
    let app = spawn_admin().await;
    let id = app.create_user("bob", "auditor").await;
    let users: Value = app.get_json("/api/v1/users").await;
    let bob = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob")
        .unwrap();
    assert_eq!(bob["role"], "auditor");
    assert!(bob.get("password_hash").is_none());

    let promote = app
        .request(Method::PUT, &format!("/api/v1/users/{id}"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(promote.status(), StatusCode::NO_CONTENT);
    let delete = app
        .request(Method::DELETE, &format!("/api/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    let actions = app.audit_action_names().await;
    for expected in ["user.create", "user.update", "user.delete"] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_taken_username_is_a_field_error_whatever_its_case() {
    let app = spawn_admin().await;
    let response = app
        .request(Method::POST, "/api/v1/users")
        .json(&json!({"username": "ADMIN", "password": PASSWORD, "role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["fields"]["username"][0], "this username is taken");
}

#[tokio::test]
async fn weak_passwords_bad_names_and_the_monitor_role_are_refused_with_reasons() {
    let app = spawn_admin().await;
    let cases = [
        (
            json!({"username": "carol", "password": "short", "role": "auditor"}),
            "password",
        ),
        (
            json!({"username": "car ol", "password": PASSWORD, "role": "auditor"}),
            "username",
        ),
        (
            json!({"username": "carol", "password": PASSWORD, "role": "monitor"}),
            "role",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .request(Method::POST, "/api/v1/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let answer: Value = response.json().await.unwrap();
        assert!(answer["fields"][field].is_array(), "{field}: {answer}");
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_disabled_or_deleted() {
    let app = spawn_admin().await;
    let other = app.create_user("bob", "auditor").await;
    let me: i64 = sqlx::query_scalar("select id from app_user where username = 'admin'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for body in [json!({"role": "auditor"}), json!({"disabled": true})] {
        let response = app
            .request(Method::PUT, &format!("/api/v1/users/{me}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "{body}");
    }
    // With a second admin, the first may step down.
    app.request(Method::PUT, &format!("/api/v1/users/{other}"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    let response = app
        .request(Method::PUT, &format!("/api/v1/users/{me}"))
        .json(&json!({"role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn changing_an_unknown_user_is_404() {
    let app = spawn_admin().await;
    let response = app
        .request(Method::DELETE, "/api/v1/users/999999")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
