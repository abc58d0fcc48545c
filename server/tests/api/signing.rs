//! A node's CA-signed certificate through the REST API, against simulated Finesse nodes over
//! real SSH: the CSR generated on the node, signed by a CA the openssl CLI made; a certificate
//! whose SANs differ from the CSR's refused before anything reaches the node; the right one
//! uploaded in order as a plan (the CAs on the publisher, which replicates them; the certificate
//! on the subscriber), and served once the web service restarted.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use testkit::app::*;

const PASSWORD: &str = "Plat-form!9";
const PUBLISHER: &str = "finesse1.signing.test";
const SUBSCRIBER: &str = "finesse2.signing.test";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root and an intermediate CA made by openssl in a folder of their own; `sign` issues a
/// certificate for a CSR.
struct Pki(std::path::PathBuf);

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Pki {
    fn new() -> Pki {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("gatehouse-signing-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.as_path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=Signing Root CA",
                "-keyout",
                "root.key",
                "-out",
                "root.pem",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=Signing Issuing CA",
                "-keyout",
                "int.key",
                "-out",
                "int.csr",
            ],
        );
        std::fs::write(
            d.join("ca.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "int.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ca.ext",
                "-out",
                "int.pem",
            ],
        );
        Pki(dir)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.0.join(file)).unwrap()
    }

    /// The CSR signed by the intermediate for `sans`, then the bundle a CA sends back: the
    /// certificate, the intermediate, the root.
    fn sign(&self, name: &str, csr: &str, sans: &str) -> String {
        let d = self.0.as_path();
        std::fs::write(d.join(format!("{name}.csr")), csr).unwrap();
        std::fs::write(
            d.join(format!("{name}.ext")),
            format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={sans}\n"),
        )
        .unwrap();
        let (csr, ext, pem) = (
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "int.pem",
                "-CAkey",
                "int.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
        );
        format!(
            "{}{}{}",
            self.read(&pem),
            self.read("int.pem"),
            self.read("root.pem")
        )
    }
}

/// The pair in the inventory with credentials and their HTTPS endpoints: (publisher, subscriber).
async fn pair(app: &TestApp, running: &sim::Running) -> (i64, i64) {
    let cluster = app.create_cluster("Signing").await;
    let mut ids = Vec::new();
    for (fqdn, role) in [(PUBLISHER, "primary"), (SUBSCRIBER, "secondary")] {
        let node = running.node(fqdn).unwrap();
        let body = json!({"cluster_id": cluster, "kind": "finesse", "role": role, "fqdn": fqdn,
                          "address": "127.0.0.1", "endpoints": [{"port": node.https[0].port()}]});
        let id = app.create("/api/v1/nodes", &body).await;
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
        ids.push(id);
    }
    (ids[0], ids[1])
}

#[tokio::test]
async fn a_csr_round_trip_refuses_a_san_mismatch_before_upload_and_installs_the_right_one_in_order()
{
    let app = spawn_admin().await;
    let toml = format!(
        "[[cluster]]\nname = \"Signing\"\n\n[[cluster.node]]\nfqdn = \"{PUBLISHER}\"\nkind = \"finesse\"\nrole = \"primary\"\npassword = \"{PASSWORD}\"\nhttps_ports = [0]\nrestart_ms = 30\n\n[[cluster.node]]\nfqdn = \"{SUBSCRIBER}\"\nkind = \"finesse\"\nrole = \"secondary\"\npassword = \"{PASSWORD}\"\nhttps_ports = [0]\nrestart_ms = 30\n"
    );
    let running = sim::start_toml(&toml, None).await.unwrap();
    let (_, subscriber) = pair(&app, &running).await;
    let csr_path = format!("/api/v1/nodes/{subscriber}/csr");
    let none = app.get(&csr_path).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);

    // Generated on the node; an auditor reads it and cannot make another.
    let csr: Value = app.post_ok(&csr_path).await;
    let pem = csr["pem"].as_str().unwrap();
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{csr}"
    );
    assert_eq!(csr["san_dns"], json!([SUBSCRIBER]));
    assert_eq!(csr["key"], "RSA 2048");
    let auditor = app.signed_in_as("auditor1", "auditor").await;
    assert_eq!(auditor.get_json(&csr_path).await["pem"], pem);
    let refused = auditor
        .request(Method::POST, &csr_path)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let pki = Pki::new();
    let check = format!("/api/v1/nodes/{subscriber}/certificate/check");
    let plan = format!("/api/v1/nodes/{subscriber}/certificate/plan");
    // The CA added a name the CSR did not ask for: refused before the node is touched.
    let wrong = pki.sign(
        "wrong",
        pem,
        &format!("DNS:{SUBSCRIBER},DNS:extra.signing.test"),
    );
    let findings: Value = auditor
        .send_json(Method::POST, &check, &json!({"certificate": wrong}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(findings["ready"], false, "{findings}");
    let san = findings["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "san_matches")
        .unwrap();
    assert_eq!(san["passed"], false);
    assert!(
        san["message"]
            .as_str()
            .unwrap()
            .contains("CSR SAN and Certificate SAN does not match"),
        "{san}"
    );
    assert!(
        san["message"]
            .as_str()
            .unwrap()
            .contains("extra.signing.test"),
        "{san}"
    );
    let response = app
        .send_json(Method::POST, &plan, &json!({"certificate": wrong}))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = response.text().await.unwrap();
    assert!(
        message.contains("CSR SAN and Certificate SAN does not match"),
        "{message}"
    );
    // An auditor checks but plans nothing.
    let refused = auditor
        .send_json(Method::POST, &plan, &json!({"certificate": wrong}))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A bundle with another CA than the one that signed: only the signer's chain is uploaded.
    let stranger = testkit::pki::Ca::new("Stranger Root CA").pem();

    // The right one: every check passes; the plan imports the CAs on the publisher, root
    // first, then the certificate on the subscriber.
    let right = pki.sign("right", pem, &format!("DNS:{SUBSCRIBER}")) + &stranger;
    let findings: Value = app
        .send_json(Method::POST, &check, &json!({"certificate": right}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(findings["ready"], true, "{findings}");
    let made = app
        .send_json(Method::POST, &plan, &json!({"certificate": right}))
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let planned = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    assert_eq!(planned["state"], "ready", "{planned}");
    let on_publisher = super::reconcile::commands(super::reconcile::node(&planned, PUBLISHER));
    assert_eq!(on_publisher.len(), 2, "{on_publisher:?}");
    assert!(
        on_publisher[0].starts_with("set cert import trust tomcat → paste Signing Root CA"),
        "{on_publisher:?}"
    );
    assert!(
        on_publisher[1].starts_with("set cert import trust tomcat → paste Signing Issuing CA"),
        "{on_publisher:?}"
    );
    let on_subscriber = super::reconcile::commands(super::reconcile::node(&planned, SUBSCRIBER));
    assert_eq!(on_subscriber.len(), 1, "{on_subscriber:?}");
    assert!(
        on_subscriber[0].starts_with(&format!("set cert import own tomcat → paste {SUBSCRIBER}")),
        "{on_subscriber:?}"
    );
    // A CSR generated again since makes the plan stale: refused when confirmed.
    app.post_ok(&csr_path).await;
    let stale = app
        .request(Method::POST, &format!("/api/v1/plans/{id}/apply"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        StatusCode::CONFLICT,
        "{}",
        stale.text().await.unwrap()
    );
    // Planned again from the new request (the simulator keeps the node's key, as VOS does
    // unless asked): applied.
    let made = app
        .send_json(Method::POST, &plan, &json!({"certificate": right}))
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let id = made.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let planned = super::reconcile::wait_plan(&app, id, &["ready", "failed"]).await;
    let applied = super::reconcile::apply(&app, &planned).await;
    assert_eq!(applied["state"], "applied", "{applied}");
    let trusted = running.fleet.state(0).trust;
    assert!(
        !trusted.iter().any(|c| c.file.contains("Stranger")),
        "a CA that did not sign it is never trusted: {trusted:?}"
    );
    let own = running.fleet.state(1).own;
    assert!(own[0].description.contains("Signing Issuing CA"), "{own:?}");

    // Served once the web service restarted, as the probe sees it.
    let restarted = app
        .send_json(
            Method::POST,
            &format!("/api/v1/nodes/{subscriber}/restart"),
            &json!({"service": "Cisco Finesse Tomcat"}),
        )
        .await;
    assert_eq!(restarted.status(), StatusCode::OK);
    super::scans::scan_and_wait(&app, json!({"node_ids": [subscriber]})).await;
    let served = app.get_json("/api/v1/certificates").await;
    let leaf = served
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["node_id"] == subscriber && c["chain_position"] == 0)
        .unwrap_or_else(|| panic!("nothing served by the subscriber: {served}"));
    assert_eq!(leaf["issuer_cn"], "Signing Issuing CA", "{leaf}");

    // Regenerated (admins only): self-signed again, and the publisher must trust it again.
    let regenerate = format!("/api/v1/nodes/{subscriber}/certificate/regenerate");
    let refused = auditor
        .request(Method::POST, &regenerate)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let done: Value = app.post_ok(&regenerate).await;
    assert_eq!(done["operation"]["ok"], true, "{done}");
    assert_eq!(done["operation"]["command"], "set cert regen tomcat");
    assert_eq!(
        done["operation"]["restart"],
        json!(["Cisco Finesse Notification Service", "Cisco Finesse Tomcat"])
    );
    let again: Vec<&str> = done["trusted_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(again, [PUBLISHER], "{done}");
    let own = running.fleet.state(1).own;
    assert!(own[0].description.contains("Self-signed"), "{own:?}");
}
