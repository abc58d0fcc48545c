//! The chain tool (`POST /api/v1/tools/split-chain`, the *Chain tool* page): a file holding
//! several certificates (a CA's bundle such as Webex's `CombinedCertChain2023.txt`, seed 003;
//! a chain pasted from a mail) split into one PEM file per certificate, each named root,
//! intermediate or leaf and put in the order VOS takes them (seed 002: the root into
//! tomcat-trust, then the intermediates into tomcat-trust, then the node's own certificate into
//! tomcat). Nothing is stored: the answer is computed from the text and forgotten.

use serde::{Deserialize, Serialize};

/// What a certificate is in its bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = CertificateRole))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A CA certificate signed by its own key.
    Root,
    /// A CA certificate another one signed.
    Intermediate,
    /// A server's (or client's) own certificate, issued by a CA.
    Leaf,
    /// A server's own certificate signed by its own key (an appliance's self-signed tomcat
    /// certificate): its peers trust it as it is.
    SelfSigned,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Intermediate => "intermediate",
            Role::Leaf => "leaf",
            Role::SelfSigned => "self-signed",
        }
    }

    /// The VOS certificate store it is uploaded to (seed 002).
    pub fn store(self) -> &'static str {
        match self {
            Role::Leaf => "tomcat",
            _ => "tomcat-trust",
        }
    }
}

/// One certificate of the bundle, in upload order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = ChainPiece))]
pub struct Piece {
    /// 1, 2, …: the order to upload in.
    pub order: u32,
    /// Where it was in the file (1 = the first certificate block).
    pub position: u32,
    pub role: Role,
    /// `tomcat-trust` or `tomcat`.
    pub store: String,
    pub subject: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub expired: bool,
    pub fingerprint_sha256: String,
    /// The `order` of the certificate in this bundle that signed it (itself for a root).
    pub issued_by: Option<u32>,
    /// A file name for it (`01-root-webex-ca.pem`).
    pub file_name: String,
    pub pem: String,
}

/// The bundle split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = ChainSplit))]
pub struct Split {
    pub pieces: Vec<Piece>,
    /// Whether every certificate's issuer is in the bundle, up to a root.
    pub complete: bool,
    /// What the admin should know: an issuer missing, an expired certificate, a duplicate or
    /// a block that was not a certificate left out.
    pub notes: Vec<String>,
}

/// At most this many certificates in one bundle.
pub const MAX_CERTIFICATES: usize = 64;

#[cfg(feature = "server")]
pub use split::split;

/// The chain tool for whoever may read the console (it reads and keeps nothing).
#[cfg(feature = "server")]
pub fn split_for(
    context: &crate::auth::principal::RequestContext,
    input: &[u8],
) -> Result<Split, crate::error::Error> {
    context.require_reader()?;
    split(input, crate::dates::now()).map_err(crate::error::Error::Unreadable)
}

#[cfg(feature = "server")]
mod split {
    use super::*;
    use certs::analyze;

    /// Splits `input` (PEM text: certificate blocks with anything between them) into its
    /// certificates in upload order, or says why it cannot: binary DER, a PKCS#7 bundle, a
    /// private key, no certificate at all, a block that does not read.
    pub fn split(input: &[u8], now: i64) -> Result<Split, String> {
        let text = text_of(input)?;
        // A key block quoted or indented (a mail's "> ") is no PEM block, but still a key.
        if text.contains("PRIVATE KEY-----") {
            return Err(private_key());
        }
        let blocks =
            analyze::pem_blocks(text).map_err(|e| format!("The text is not valid PEM: {e}"))?;
        let mut notes = Vec::new();
        let mut found: Vec<(u32, Vec<u8>, certs::CertInfo)> = Vec::new();
        let mut position = 0u32;
        for (label, der) in blocks {
            match label.as_str() {
                "CERTIFICATE" => {
                    position += 1;
                    let info = analyze::parse(&der).map_err(|e| {
                        format!("Certificate block {position} does not read as a certificate: {e}")
                    })?;
                    if found.iter().any(|(_, _, f)| f.sha256 == info.sha256) {
                        notes.push(format!(
                            "Certificate block {position} repeats an earlier one ({}): kept once.",
                            name(&info)
                        ));
                        continue;
                    }
                    found.push((position, der, info));
                }
                "PKCS7" | "CMS" => return Err(pkcs7()),
                label if label.contains("PRIVATE KEY") => return Err(private_key()),
                other => notes.push(format!("A '{other}' block is not a certificate: left out.")),
            }
        }
        if found.is_empty() {
            return Err(
                "No certificate found: paste the blocks from -----BEGIN CERTIFICATE----- \
                        to -----END CERTIFICATE----- (both lines included)."
                    .into(),
            );
        }
        if found.len() > MAX_CERTIFICATES {
            return Err(format!(
                "{} certificates: a bundle of at most {MAX_CERTIFICATES} is split here.",
                found.len()
            ));
        }
        Ok(order(found, notes, now))
    }

    /// The input as text, or why a binary file is refused.
    fn text_of(input: &[u8]) -> Result<&str, String> {
        let text = std::str::from_utf8(input)
            .ok()
            .filter(|t| !t.contains('\0'));
        let binary = input.first() == Some(&0x30) || text.is_none();
        if !binary {
            return Ok(text.unwrap_or_default());
        }
        if analyze::parse(input).is_ok() {
            return Err(
                "This is one certificate in binary (DER) form, not PEM text. Convert it \
                        with `openssl x509 -inform der -in FILE -out FILE.pem` and paste that."
                    .into(),
            );
        }
        // signedData's object identifier, 1.2.840.113549.1.7.2.
        const SIGNED_DATA: &[u8] = &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
        ];
        if input.windows(SIGNED_DATA.len()).any(|w| w == SIGNED_DATA) {
            return Err(pkcs7());
        }
        Err(
            "This file is binary and not a certificate: paste PEM text (blocks from \
             -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----)."
                .into(),
        )
    }

    fn private_key() -> String {
        "The text holds a private key (-----BEGIN …PRIVATE KEY-----). Remove it: Gatehouse never \
         takes private keys, and nothing of this text was kept."
            .into()
    }

    fn pkcs7() -> String {
        "This is a PKCS#7 bundle (.p7b/.p7c), not PEM certificates. List its certificates with \
         `openssl pkcs7 -print_certs -in FILE -out chain.pem` (add `-inform der` for a binary \
         file) and paste chain.pem."
            .into()
    }

    fn name(info: &certs::CertInfo) -> String {
        info.subject_cn
            .clone()
            .unwrap_or_else(|| info.subject.clone())
    }

    fn role(info: &certs::CertInfo) -> Role {
        match (info.is_ca, info.self_signed) {
            (true, true) => Role::Root,
            (true, false) => Role::Intermediate,
            (false, true) => Role::SelfSigned,
            (false, false) => Role::Leaf,
        }
    }

    /// Orders the certificates for upload: each after the one that signed it, CAs before the
    /// certificates they sign, the bundle's own order kept otherwise.
    fn order(
        found: Vec<(u32, Vec<u8>, certs::CertInfo)>,
        mut notes: Vec<String>,
        now: i64,
    ) -> Split {
        let n = found.len();
        // issuer[i]: the index of the certificate in the bundle whose key signed i.
        let issuer: Vec<Option<usize>> = (0..n)
            .map(|i| {
                if found[i].2.self_signed {
                    return Some(i);
                }
                // By signature, among those whose subject is its issuer's name (read from the
                // parsed facts: not both certificates parsed again for every pair).
                (0..n).find(|&j| {
                    j != i
                        && found[j].2.subject == found[i].2.issuer
                        && analyze::signed_by(&found[i].1, &found[j].1)
                })
            })
            .collect();
        let mut placed: Vec<usize> = Vec::with_capacity(n);
        let mut done = vec![false; n];
        // Repeatedly take, in the bundle's order (CAs first), a certificate whose issuer is
        // placed or absent.
        while placed.len() < n {
            let ready = |i: usize| !done[i] && issuer[i].is_none_or(|j| j == i || done[j]);
            let next = (0..n)
                .filter(|&i| ready(i))
                .min_by_key(|&i| (!found[i].2.is_ca, i))
                // A loop of certificates signing each other: take them as they come.
                .or_else(|| (0..n).find(|&i| !done[i]))
                .expect("a certificate is left");
            done[next] = true;
            placed.push(next);
        }
        let order_of = |i: usize| placed.iter().position(|&p| p == i).map(|p| p as u32 + 1);
        let mut complete = true;
        for (i, (position, _, info)) in found.iter().enumerate() {
            if issuer[i].is_none() {
                complete = false;
                notes.push(format!(
                    "Certificate {position} ({}) is issued by '{}', which is not in this file: \
                     the chain is incomplete; add that CA's certificate (from the CA that issued it).",
                    name(info),
                    info.issuer_cn.clone().unwrap_or_else(|| info.issuer.clone())
                ));
            }
            if info.not_after < now {
                notes.push(format!(
                    "Certificate {position} ({}) has expired ({}).",
                    name(info),
                    crate::dates::unix_rfc3339(info.not_after)
                ));
            }
        }
        let leaves = found.iter().filter(|f| role(&f.2) == Role::Leaf).count();
        if leaves > 1 {
            notes.push(format!(
                "{leaves} leaf certificates: each node's own certificate is uploaded on that node."
            ));
        }
        let pieces = placed
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (position, der, info) = &found[i];
                let role = role(info);
                let order = k as u32 + 1;
                Piece {
                    order,
                    position: *position,
                    role,
                    store: role.store().into(),
                    subject: info.subject.clone(),
                    subject_cn: info.subject_cn.clone(),
                    issuer_cn: info.issuer_cn.clone(),
                    not_before: crate::dates::unix_rfc3339(info.not_before),
                    not_after: crate::dates::unix_rfc3339(info.not_after),
                    expired: info.not_after < now,
                    fingerprint_sha256: info.sha256.clone(),
                    issued_by: issuer[i].and_then(order_of),
                    file_name: format!("{order:02}-{}-{}.pem", role.as_str(), slug(&name(info))),
                    pem: analyze::pem(der),
                }
            })
            .collect();
        Split {
            pieces,
            complete,
            notes,
        }
    }

    /// A file-name-safe form of a certificate's name: lowercase letters, digits and dashes.
    fn slug(name: &str) -> String {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            if out.len() >= 40 {
                break;
            }
        }
        let out = out.trim_end_matches('-').to_owned();
        if out.is_empty() {
            "certificate".into()
        } else {
            out
        }
    }
}

#[cfg(all(test, feature = "server"))]
pub(crate) mod tests;
