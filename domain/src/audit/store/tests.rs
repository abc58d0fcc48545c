//! The audit entry's redaction and canonical form, and the chain's hashing.

use super::*;
use serde_json::json;

#[test]
fn secrets_are_redacted_at_any_depth() {
    let value = redact(json!({
        "username": "alice",
        "password": "hunter2hunter2",
        "nested": {"Token": "gh_abc", "list": [{"secret": 1}]},
        "after": {"password": "changed"}
    }));
    assert_eq!(
        value,
        json!({
            "username": "alice",
            "password": "[redacted]",
            "nested": {"Token": "[redacted]", "list": [{"secret": "[redacted]"}]},
            "after": {"password": "changed"}
        })
    );
}

#[test]
fn canonical_json_sorts_keys_whatever_the_insertion_order() {
    let mut a = String::new();
    write_canonical(
        &json!({"b": 1, "a": {"d": [1, {"f": 2, "e": 3}], "c": null}}),
        &mut a,
    );
    assert_eq!(a, r#"{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}"#);
}

#[test]
fn the_hash_changes_with_any_field_and_with_the_previous_hash() {
    let at = time::macros::datetime!(2026-11-22 10:00:00.123456 UTC);
    let entry = |actor: &'static str| Canonical {
        id: 1,
        at,
        actor,
        actor_role: Some("admin"),
        source: None,
        action: "auth.login",
        target: None,
        outcome: "success",
        detail: None,
        before: None,
        after: None,
    };
    let zero = [0u8; 32];
    let base = entry("alice").hash(&zero).unwrap();
    assert_eq!(base, entry("alice").hash(&zero).unwrap());
    assert_ne!(base, entry("mallory").hash(&zero).unwrap());
    assert_ne!(base, entry("alice").hash(&[1u8; 32]).unwrap());
}

#[test]
fn dates_alone_cover_whole_days_and_bad_dates_name_the_field() {
    let filter = AuditFilter {
        from: Some("2026-11-01".into()),
        to: Some("2026-11-02".into()),
        ..Default::default()
    };
    let b = filter.bounds().unwrap();
    assert_eq!(b.from, Some(time::macros::datetime!(2026-11-01 00:00 UTC)));
    assert_eq!(
        b.to,
        Some(time::macros::datetime!(2026-11-02 23:59:59.999999 UTC))
    );

    let bad = AuditFilter {
        from: Some("yesterday".into()),
        outcome: Some("ok".into()),
        ..Default::default()
    };
    let error = bad.bounds().unwrap_err();
    assert_eq!(error.field_messages("from").len(), 1);
    assert_eq!(error.field_messages("outcome").len(), 1);
}

#[test]
fn an_action_ending_in_a_dot_is_a_prefix() {
    let b = AuditFilter {
        action: Some("auth.".into()),
        ..Default::default()
    }
    .bounds()
    .unwrap();
    assert_eq!(
        (b.action, b.action_prefix.as_deref()),
        (None, Some("auth."))
    );
}

#[test]
fn a_webhook_url_stored_whole_by_an_older_version_is_shown_redacted() {
    let secret = "https://user:pass@hooks.example.com:8443/services/T/B/X?token=abc";
    let row = |action: &str| Row {
        id: 7,
        at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
        actor: "admin".into(),
        actor_role: Some("admin".into()),
        source: None,
        action: action.into(),
        target: Some("webhook 3".into()),
        outcome: "ok".into(),
        detail: None,
        before: Some(json!({"url": secret, "name": "chat"})),
        after: Some(json!({"url": secret, "name": "chat"})),
        prev_hash: vec![0; 32],
        hash: vec![1; 32],
    };
    let stored = row("webhook.update");
    let hash = stored.canonical().hash(&stored.prev_hash).unwrap();
    let entry = stored.into_entry();
    for document in [entry.before.as_ref(), entry.after.as_ref()] {
        let document = document.expect("kept");
        assert_eq!(document["url"], json!("https://hooks.example.com:8443/…"));
        assert_eq!(document["name"], json!("chat"));
        assert!(!document.to_string().contains("pass") && !document.to_string().contains("token"));
    }
    // What the chain's hash covers is the stored row, which reading does not change.
    let again = row("webhook.update");
    assert_eq!(again.canonical().hash(&again.prev_hash).unwrap(), hash);
    assert_eq!(entry.hash, hex::encode([1u8; 32]));
    // Other actions keep their documents as they are.
    let other = row("node.update").into_entry();
    assert_eq!(other.after.expect("kept")["url"], json!(secret));
}
