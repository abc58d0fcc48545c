//! The chain tool against bundles made by rcgen and by the openssl CLI.

use super::*;
use std::path::Path;
use std::process::Command;
use testkit::pki::{Ca, Leaf};

fn now() -> i64 {
    crate::dates::now()
}

fn roles(split: &Split) -> Vec<Role> {
    split.pieces.iter().map(|p| p.role).collect()
}

#[test]
fn a_bundle_in_any_order_comes_out_root_first_then_down_to_the_leaf() {
    let root = Ca::new("Test Root CA");
    let issuing = root.intermediate("Test Issuing CA");
    let leaf = issuing.leaf(&["finesse1.example.com"]);
    // The leaf first, then the root, then the intermediate, as a mail might paste them.
    let text = format!("{}{}{}", leaf.pem, root.pem(), issuing.pem());
    let split = split(text.as_bytes(), now()).unwrap();
    assert_eq!(roles(&split), [Role::Root, Role::Intermediate, Role::Leaf]);
    assert!(split.complete, "{:?}", split.notes);
    let stores: Vec<&str> = split.pieces.iter().map(|p| p.store.as_str()).collect();
    assert_eq!(stores, ["tomcat-trust", "tomcat-trust", "tomcat"]);
    let positions: Vec<u32> = split.pieces.iter().map(|p| p.position).collect();
    assert_eq!(positions, [2, 3, 1]);
    let issued_by: Vec<Option<u32>> = split.pieces.iter().map(|p| p.issued_by).collect();
    assert_eq!(issued_by, [Some(1), Some(1), Some(2)]);
    assert_eq!(split.pieces[0].file_name, "01-root-test-root-ca.pem");
    assert_eq!(
        split.pieces[2].file_name,
        "03-leaf-finesse1-example-com.pem"
    );
    // Each piece is its certificate alone, as PEM.
    assert_eq!(split.pieces[1].pem.trim(), issuing.pem().trim());
    assert!(split.notes.is_empty(), "{:?}", split.notes);
}

#[test]
fn text_between_blocks_and_windows_line_ends_are_skipped() {
    let root = Ca::new("Webex Root");
    let issuing = root.intermediate("Webex Issuing 2023");
    // Like CombinedCertChain2023.txt: the issuing certificate, then the root; with openssl's
    // bag attributes and CRLF line ends.
    let text = format!(
        "Bag Attributes\n    friendlyName: issuing\nsubject=CN = Webex Issuing 2023\n\n{}\r\n# root\r\n{}",
        issuing.pem(),
        root.pem().replace('\n', "\r\n")
    );
    let split = split(text.as_bytes(), now()).unwrap();
    assert_eq!(roles(&split), [Role::Root, Role::Intermediate]);
    assert!(split.complete);
    assert_eq!(split.pieces[0].subject_cn.as_deref(), Some("Webex Root"));
}

#[test]
fn a_missing_issuer_makes_the_chain_incomplete_and_says_which() {
    let root = Ca::new("Hidden Root");
    let issuing = root.intermediate("Issuing CA 7");
    let leaf = issuing.leaf(&["cuic1.example.com"]);
    let text = format!("{}{}", leaf.pem, issuing.pem());
    let split = split(text.as_bytes(), now()).unwrap();
    assert_eq!(roles(&split), [Role::Intermediate, Role::Leaf]);
    assert!(!split.complete);
    assert!(
        split
            .notes
            .iter()
            .any(|n| n.contains("'Hidden Root'") && n.contains("incomplete")),
        "{:?}",
        split.notes
    );
}

#[test]
fn repeats_are_kept_once_and_expired_or_self_signed_certificates_are_named() {
    let old = Leaf::self_signed("old.example.com", &["old.example.com"], -3);
    let text = format!("{}{}", old.pem, old.pem);
    let split = split(text.as_bytes(), now()).unwrap();
    assert_eq!(roles(&split), [Role::SelfSigned]);
    assert_eq!(split.pieces[0].store, "tomcat-trust");
    assert!(split.pieces[0].expired);
    assert!(
        split.notes.iter().any(|n| n.contains("repeats")),
        "{:?}",
        split.notes
    );
    assert!(
        split.notes.iter().any(|n| n.contains("has expired")),
        "{:?}",
        split.notes
    );
}

#[test]
fn der_pkcs7_private_keys_and_text_without_certificates_are_refused_with_the_way_out() {
    let root = Ca::new("Refusal Root");
    let leaf = root.leaf(&["a.example.com"]);
    let der = split(&leaf.der, now()).unwrap_err();
    assert!(
        der.contains("binary (DER)") && der.contains("openssl x509 -inform der"),
        "{der}"
    );
    let key = split(format!("{}{}", leaf.pem, leaf.key_pem).as_bytes(), now()).unwrap_err();
    assert!(
        key.contains("private key") && key.contains("nothing of this text was kept"),
        "{key}"
    );
    // Quoted in a mail ("> " before each line), a key is no PEM block, and still refused.
    let quoted: String = leaf.key_pem.lines().map(|l| format!("> {l}\n")).collect();
    let key = split(format!("{}{quoted}", leaf.pem).as_bytes(), now()).unwrap_err();
    assert!(key.contains("private key"), "{key}");
    let none = split(b"hello, these are not certificates", now()).unwrap_err();
    assert!(none.contains("No certificate found"), "{none}");
    let broken = "-----BEGIN CERTIFICATE-----\nMIIBbroken\n-----END CERTIFICATE-----\n";
    assert!(split(broken.as_bytes(), now()).is_err());
    let binary = split(&[0xff, 0xfe, 0x00, 0x01], now()).unwrap_err();
    assert!(binary.contains("binary and not a certificate"), "{binary}");
}

/// Runs the openssl CLI in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `name.pem` for `cn` (a new key, `name.key`), signed by `ca.pem`'s key with the extensions
/// `ext`, by the openssl CLI in `dir`.
pub(crate) fn issue(dir: &Path, name: &str, cn: &str, ca: &str, ext: &str) {
    let file = |suffix: &str| format!("{name}.{suffix}");
    let subj = format!("/CN={cn}");
    let (key, csr, extfile, pem) = (file("key"), file("csr"), file("ext"), file("pem"));
    openssl(
        dir,
        &[
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", &subj, "-keyout", &key, "-out", &csr,
        ],
    );
    std::fs::write(dir.join(&extfile), ext).unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
        ]
        .into_iter()
        .chain(["-days", "30", "-extfile", &extfile, "-out", &pem])
        .collect::<Vec<_>>(),
    );
}

/// A root, an intermediate and a leaf made by the openssl CLI, as files in a temporary folder.
struct OpensslChain(std::path::PathBuf);

impl OpensslChain {
    fn new() -> OpensslChain {
        let dir = std::env::temp_dir().join(format!("gatehouse-chain-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let subj = "/CN=OpenSSL Root";
        openssl(
            &dir,
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", subj,
            ]
            .into_iter()
            .chain(["-keyout", "root.key", "-out", "root.pem"])
            .collect::<Vec<_>>(),
        );
        let ca = "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n";
        issue(&dir, "int", "OpenSSL Issuing", "root", ca);
        let leaf = "basicConstraints=CA:FALSE\nsubjectAltName=DNS:finesse1.example.com\n";
        issue(&dir, "leaf", "finesse1.example.com", "int", leaf);
        OpensslChain(dir)
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.0.join(file)).unwrap()
    }
}

impl Drop for OpensslChain {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn an_openssl_made_chain_is_ordered_and_its_pkcs7_forms_are_refused() {
    let chain = OpensslChain::new();
    let mut text = chain.read("leaf.pem");
    text.extend(chain.read("int.pem"));
    text.extend(chain.read("root.pem"));
    let split = split(&text, now()).unwrap();
    assert_eq!(roles(&split), [Role::Root, Role::Intermediate, Role::Leaf]);
    assert!(split.complete, "{:?}", split.notes);
    std::fs::write(chain.0.join("chain.pem"), &text).unwrap();
    // The same bundle as PKCS#7, in PEM and in DER.
    for (form, file) in [("PEM", "chain.p7b"), ("DER", "chain.p7c")] {
        let args = [
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "chain.pem",
            "-outform",
            form,
            "-out",
            file,
        ];
        openssl(&chain.0, &args);
    }
    for file in ["chain.p7b", "chain.p7c"] {
        let refused = split_err(&chain.read(file));
        assert!(
            refused.contains("PKCS#7") && refused.contains("openssl pkcs7 -print_certs"),
            "{file}: {refused}"
        );
    }
    openssl(
        &chain.0,
        &[
            "x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der",
        ],
    );
    assert!(split_err(&chain.read("leaf.der")).contains("binary (DER)"));
}

fn split_err(input: &[u8]) -> String {
    split(input, now()).unwrap_err()
}
