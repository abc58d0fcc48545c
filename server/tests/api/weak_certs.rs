//! The probe reads the weak and old certificates it exists to report: made by the openssl CLI
//! and served by `openssl s_server` (at security level 0, as an old appliance would), each is
//! recorded with its chain and judged, rather than failing the handshake.

use crate::scans::scan_and_wait;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use testkit::app::*;

use testkit::openssl::openssl;

/// Serves `cert.pem` with `key.pem` from `dir` at security level 0, as an old appliance would.
fn s_server(dir: &Path) -> testkit::openssl::SServer {
    testkit::openssl::s_server(dir, &["-cipher", "DEFAULT@SECLEVEL=0"])
}

fn scratch(name: &str) -> std::path::PathBuf {
    testkit::openssl::scratch(env!("CARGO_TARGET_TMPDIR"), &format!("weak-{name}"))
}

/// A node of `kind` for `fqdn` whose one endpoint is `port`, scanned; its leaf as reported.
async fn scanned_leaf(app: &TestApp, kind: &str, fqdn: &str, port: u16) -> (Value, Value) {
    let cluster: Value = app
        .send_json(
            Method::POST,
            "/api/v1/clusters",
            &json!({"name": format!("c-{fqdn}")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let node = app
        .send_json(
            Method::POST,
            "/api/v1/nodes",
            &json!({"cluster_id": cluster["id"], "kind": kind, "fqdn": fqdn,
                    "address": "127.0.0.1", "endpoints": [{"port": port}]}),
        )
        .await;
    assert_eq!(node.status(), StatusCode::CREATED);
    let node = node.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    scan_and_wait(app, json!({"node_ids": [node]})).await;
    let report = app
        .get_json(&format!("/api/v1/nodes/{node}/certificates"))
        .await;
    let endpoint = report["endpoints"][0].clone();
    (endpoint["probe"].clone(), endpoint["chain"][0].clone())
}

fn ids(leaf: &Value) -> Vec<String> {
    leaf["findings"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The message of the leaf's finding `id`.
fn message(leaf: &Value, id: &str) -> String {
    leaf["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["id"] == id))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts the probe succeeded, its handshake signature verified, and `expected` is found.
fn assert_recorded_with(probe: &Value, leaf: &Value, expected: &str) {
    assert_eq!(probe["ok"], true, "{probe}");
    let found = ids(leaf);
    assert!(found.contains(&expected.to_owned()), "{found:?} in {leaf}");
    assert!(
        !found.contains(&"handshake_signature_unverified".to_owned()),
        "the server holds its key: {leaf}"
    );
}

const FQDN: &str = "uccx1.example.com";
const SUBJECT: &str = "/CN=uccx1.example.com";
const SAN: &str = "subjectAltName=DNS:uccx1.example.com";

/// A self-signed `cert.pem` and `key.pem` in a fresh directory, made by `openssl req -x509`
/// with `extra` arguments.
fn self_signed(name: &str, extra: &[&str]) -> std::path::PathBuf {
    let dir = scratch(name);
    let mut args = vec![
        "req", "-x509", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
    ];
    args.extend(["-days", "200", "-subj", SUBJECT]);
    args.extend(extra);
    openssl(&dir, &args);
    dir
}

async fn served_and_scanned(dir: &Path, kind: &str) -> (Value, Value) {
    let server = s_server(dir);
    let app = spawn_admin().await;
    let scanned = scanned_leaf(&app, kind, FQDN, server.port).await;
    let _ = std::fs::remove_dir_all(dir);
    scanned
}

/// Seed 000: UCCX accepts 1024-bit keys, so real fleets serve them; rustls's own signature
/// check refuses keys under 2048 bits.
#[tokio::test]
async fn an_rsa_1024_certificate_is_recorded_as_a_weak_key() {
    let dir = self_signed("rsa1024", &["-newkey", "rsa:1024", "-addext", SAN]);
    let (probe, leaf) = served_and_scanned(&dir, "uccx").await;
    assert_recorded_with(&probe, &leaf, "weak_key");
    assert!(message(&leaf, "weak_key").contains("1024-bit"), "{leaf}");
}

/// An X.509 version 1 certificate (what `openssl x509 -req` makes without extensions), with an
/// EC key: rustls cannot read a v1 certificate at all.
#[tokio::test]
async fn an_x509_v1_certificate_is_recorded_as_not_v3() {
    let dir = scratch("v1");
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        &dir,
        &[
            "req", "-new", "-key", "key.pem", "-subj", SUBJECT, "-out", "req.csr",
        ],
    );
    openssl(
        &dir,
        &[
            "x509", "-req", "-in", "req.csr", "-key", "key.pem", "-days", "200", "-out", "cert.pem",
        ],
    );
    let (probe, leaf) = served_and_scanned(&dir, "finesse").await;
    assert_recorded_with(&probe, &leaf, "not_v3");
    assert!(message(&leaf, "not_v3").contains("v1"), "{leaf}");
}

#[tokio::test]
async fn an_md5_signed_certificate_is_recorded_as_a_weak_signature() {
    let dir = self_signed("md5", &["-newkey", "rsa:2048", "-md5", "-addext", SAN]);
    let (probe, leaf) = served_and_scanned(&dir, "finesse").await;
    assert_recorded_with(&probe, &leaf, "weak_signature");
}

/// CSCvd56174: critical extensions other than Key Usage and Basic Constraints on a CUCM
/// certificate; rustls refuses a certificate with a critical extension it does not know.
#[tokio::test]
async fn an_unknown_critical_extension_is_recorded_and_named() {
    let dir = self_signed(
        "critical",
        &[
            "-newkey",
            "rsa:2048",
            "-addext",
            SAN,
            "-addext",
            "1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:gatehouse",
        ],
    );
    let (probe, leaf) = served_and_scanned(&dir, "cucm").await;
    assert_recorded_with(&probe, &leaf, "critical_extension_not_allowed");
    assert!(
        message(&leaf, "critical_extension_not_allowed").contains("1.3.6.1.4.1.55555.1"),
        "{leaf}"
    );
}

/// Seed 004: a self-signed certificate on any public listener of a reverse proxy (the external
/// ports of its proxy map), not only on 443.
#[tokio::test]
async fn a_self_signed_certificate_on_any_public_listener_of_a_proxy_is_reported() {
    let app = spawn_admin().await;
    let port = crate::scans::tls_endpoint("proxy.example.com", &["proxy.example.com"], 200).await;
    assert_ne!(port, 443);
    let (probe, leaf) = scanned_leaf(&app, "reverse_proxy", "proxy.example.com", port).await;
    assert_recorded_with(&probe, &leaf, "self_signed_public");
}
