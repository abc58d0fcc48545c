//! Every pre-upload check against CSRs and certificates made by the openssl CLI.

use super::*;
use crate::certificates::chain::tests::openssl;
use std::path::PathBuf;

/// A root CA made by openssl in a temporary folder; CSRs and certificates signed by it.
struct Pki(PathBuf);

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("gatehouse-upload-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=Upload Root CA",
                "-keyout",
                "root.key",
                "-out",
                "root.pem",
            ],
        );
        Pki(dir)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.0.join(file)).unwrap()
    }

    /// `name.csr` for `cn` with a new RSA key of `bits`, asking for `san` (none: an empty
    /// Parent Domain).
    fn csr(&self, name: &str, cn: &str, san: Option<&str>, bits: u32) -> String {
        let (key, csr, subj, rsa) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("/CN={cn}"),
            format!("rsa:{bits}"),
        );
        let mut args = vec![
            "req", "-newkey", &rsa, "-nodes", "-subj", &subj, "-keyout", &key, "-out", &csr,
        ];
        let addext = san.map(|s| format!("subjectAltName={s}"));
        if let Some(addext) = &addext {
            args.extend(["-addext", addext.as_str()]);
        }
        openssl(&self.0, &args);
        self.read(&csr)
    }

    /// `name.csr` signed by the root with the extensions `ext`: the certificate's PEM.
    fn sign(&self, name: &str, ext: &str) -> String {
        let (csr, extfile, pem) = (
            format!("{name}.csr"),
            format!("{name}.ext"),
            format!("{name}.pem"),
        );
        std::fs::write(self.0.join(&extfile), ext).unwrap();
        openssl(
            &self.0,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                &extfile,
                "-out",
                &pem,
            ],
        );
        self.read(&pem)
    }

    /// The certificate with the root, as a CA sends them.
    fn bundle(&self, leaf: &str) -> Vec<u8> {
        format!("{leaf}{}", self.read("root.pem")).into_bytes()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn target(kind: NodeKind, fqdn: &str) -> Target {
    Target {
        kind,
        fqdn: fqdn.into(),
        uccx_nodes: vec!["uccx1.example.com".into(), "uccx2.example.com".into()],
    }
}

fn failed(findings: &UploadFindings) -> Vec<&str> {
    findings
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.id.as_str())
        .collect()
}

fn now() -> i64 {
    crate::dates::now()
}

const FINESSE_SAN: &str = "DNS:finesse1.example.com,DNS:example.com";

#[test]
fn a_certificate_signed_as_asked_passes_every_check_and_comes_with_its_upload_order() {
    let pki = Pki::new();
    let csr = pki.csr("node", "finesse1.example.com", Some(FINESSE_SAN), 2048);
    let leaf = pki.sign("node", &format!("subjectAltName={FINESSE_SAN}\n"));
    let t = target(NodeKind::Finesse, "finesse1.example.com");
    let findings = check_upload(&csr, &pki.bundle(&leaf), &t, now()).unwrap();
    assert!(findings.ready, "{:?}", findings.checks);
    let roles: Vec<_> = findings.chain.pieces.iter().map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            crate::certificates::chain::Role::Root,
            crate::certificates::chain::Role::Leaf
        ]
    );
}

#[test]
fn a_san_the_ca_added_is_refused_in_the_nodes_words_with_the_exact_difference() {
    let pki = Pki::new();
    let csr = pki.csr("node", "finesse1.example.com", Some(FINESSE_SAN), 2048);
    let leaf = pki.sign(
        "node",
        &format!("subjectAltName={FINESSE_SAN},DNS:www.finesse1.example.com\n"),
    );
    let t = target(NodeKind::Finesse, "finesse1.example.com");
    let findings = check_upload(&csr, &pki.bundle(&leaf), &t, now()).unwrap();
    assert_eq!(failed(&findings), ["san_matches"]);
    let san = findings
        .checks
        .iter()
        .find(|c| c.id == "san_matches")
        .unwrap();
    assert!(
        san.message
            .contains("\"CSR SAN and Certificate SAN does not match\""),
        "{}",
        san.message
    );
    assert!(
        san.message
            .contains("only in the certificate: www.finesse1.example.com"),
        "{}",
        san.message
    );
    assert!(
        san.message.contains("empty Parent Domain"),
        "{}",
        san.message
    );
    // A CSR made with an empty Parent Domain asks for no SAN: the CA's are taken.
    let csr = pki.csr("bare", "finesse1.example.com", None, 2048);
    let leaf = pki.sign(
        "bare",
        &format!("subjectAltName={FINESSE_SAN},DNS:www.finesse1.example.com\n"),
    );
    let findings = check_upload(&csr, &pki.bundle(&leaf), &t, now()).unwrap();
    assert!(findings.ready, "{:?}", findings.checks);
}

#[test]
fn a_certificate_for_another_key_or_without_its_root_is_refused() {
    let pki = Pki::new();
    let csr = pki.csr("node", "finesse1.example.com", Some(FINESSE_SAN), 2048);
    pki.csr("other", "finesse1.example.com", Some(FINESSE_SAN), 2048);
    let other = pki.sign("other", &format!("subjectAltName={FINESSE_SAN}\n"));
    let t = target(NodeKind::Finesse, "finesse1.example.com");
    let findings = check_upload(&csr, &pki.bundle(&other), &t, now()).unwrap();
    assert_eq!(failed(&findings), ["key_matches"]);
    let leaf = pki.sign("node", &format!("subjectAltName={FINESSE_SAN}\n"));
    let alone = check_upload(&csr, leaf.as_bytes(), &t, now()).unwrap();
    assert_eq!(failed(&alone), ["chain_complete"]);
    let chain = alone
        .checks
        .iter()
        .find(|c| c.id == "chain_complete")
        .unwrap();
    assert!(
        chain.message.contains("Upload Root CA"),
        "{}",
        chain.message
    );
    // For another node: it does not name it.
    let elsewhere = target(NodeKind::Finesse, "finesse2.example.com");
    let findings = check_upload(&csr, &pki.bundle(&leaf), &elsewhere, now()).unwrap();
    assert_eq!(failed(&findings), ["names_node"]);
}

#[test]
fn uccx_rules_key_length_critical_extensions_and_multi_san() {
    let pki = Pki::new();
    let san = "DNS:uccx1.example.com,DNS:uccx2.example.com";
    let csr = pki.csr("big", "uccx1.example.com", Some(san), 4096);
    let leaf = pki.sign(
        "big",
        &format!("subjectAltName={san}\nextendedKeyUsage=critical,serverAuth\n"),
    );
    let t = target(NodeKind::Uccx, "uccx1.example.com");
    let findings = check_upload(&csr, &pki.bundle(&leaf), &t, now()).unwrap();
    assert_eq!(failed(&findings), ["key_size", "critical_extensions"]);
    // The same on Finesse: neither rule is Finesse's.
    let csr_f = pki.csr("fin", "uccx1.example.com", Some(san), 4096);
    let leaf_f = pki.sign(
        "fin",
        &format!("subjectAltName={san}\nextendedKeyUsage=critical,serverAuth\n"),
    );
    let on_finesse = target(NodeKind::Finesse, "uccx1.example.com");
    assert!(
        check_upload(&csr_f, &pki.bundle(&leaf_f), &on_finesse, now())
            .unwrap()
            .ready
    );
    // A multi-SAN certificate naming a third host.
    let wide = format!("{san},DNS:chat.example.com");
    let csr = pki.csr("wide", "uccx1.example.com", Some(&wide), 2048);
    let leaf = pki.sign("wide", &format!("subjectAltName={wide}\n"));
    let findings = check_upload(&csr, &pki.bundle(&leaf), &t, now()).unwrap();
    assert_eq!(failed(&findings), ["uccx_multi_san"]);
    let multi = findings
        .checks
        .iter()
        .find(|c| c.id == "uccx_multi_san")
        .unwrap();
    assert!(
        multi.message.contains("chat.example.com"),
        "{}",
        multi.message
    );
}

#[test]
fn without_a_csr_or_a_leaf_nothing_is_checked() {
    let pki = Pki::new();
    let csr = pki.csr("node", "finesse1.example.com", Some(FINESSE_SAN), 2048);
    let t = target(NodeKind::Finesse, "finesse1.example.com");
    let root_only = pki.read("root.pem");
    let e = check_upload(&csr, root_only.as_bytes(), &t, now()).unwrap_err();
    assert!(e.contains("0 certificates of a server"), "{e}");
    let e = check_upload("not a csr", root_only.as_bytes(), &t, now()).unwrap_err();
    assert!(e.contains("No CSR found"), "{e}");
}
