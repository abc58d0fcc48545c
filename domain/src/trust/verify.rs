//! One cell of the matrix judged: does a holder's tomcat-trust, as last read over SSH, hold
//! what a requirement needs? A self-signed certificate must be there itself; a CA-signed one
//! needs the CAs that issued it, the root and every intermediate (seed 000: "If an intermediate
//! certificate is issued, upload this certificate to the tomcat-trust store in addition to the
//! root"), or the certificate itself.

use serde::{Deserialize, Serialize};

/// A certificate as the judging needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    pub fingerprint_sha256: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// Unix seconds.
    pub not_after: i64,
    pub self_signed: bool,
    /// A CA certificate (basic constraints): what a publisher's trust store replicates.
    pub ca: bool,
}

/// What a requirement needs: the certificate, and the CAs above it as far as they are known
/// (the issuing CA first, the root last; from the chain the node serves and the cluster's CAs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub leaf: Cert,
    pub chain: Vec<Cert>,
}

/// A node's tomcat-trust as last read (`None`: never read).
pub type Trust = Option<Vec<Cert>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustVerdict))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Trusted (green).
    Present,
    /// Held, but what is held has expired.
    Expired,
    /// A different certificate under the same name (a stale copy from before a regeneration).
    Different,
    /// On the publisher, not (yet) on this subscriber: replication is checked on the next read.
    NotReplicated,
    Missing,
    /// Not known: the holder's stores were never read, or the needed certificate never seen.
    Unknown,
}

impl Verdict {
    /// Whether the cell is green.
    pub fn ok(self) -> bool {
        self == Verdict::Present
    }
}

/// A judged cell: the verdict, why in words, and what would make it green (the fingerprints of
/// the certificates to import, the root first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = TrustCell))]
pub struct Judged {
    pub verdict: Verdict,
    pub why: String,
    pub import: Vec<String>,
}

fn name(cert: &Cert) -> String {
    cert.subject_cn.clone().unwrap_or_else(|| {
        format!(
            "sha256 {}",
            &cert.fingerprint_sha256[..16.min(cert.fingerprint_sha256.len())]
        )
    })
}

/// Judges `holder`'s trust for `wanted`; `publisher` is the publisher's trust when the holder
/// is a subscriber (CA certificates imported on the publisher replicate to it).
pub fn judge(
    wanted: Option<&Wanted>,
    holder: &Trust,
    publisher: Option<&Trust>,
    now: i64,
) -> Judged {
    let Some(trust) = holder else {
        return judged(
            Verdict::Unknown,
            "this node's certificate stores were never read: read them from its page (SSH credentials needed)".into(),
            Vec::new(),
        );
    };
    let Some(wanted) = wanted else {
        return judged(
            Verdict::Unknown,
            "the certificate it needs is not known yet: scan that node (or read its stores)".into(),
            Vec::new(),
        );
    };
    let held = |c: &Cert| {
        trust
            .iter()
            .find(|t| t.fingerprint_sha256 == c.fingerprint_sha256)
    };
    // An expired certificate (or CA above it) is not fixed by trusting it: it must be renewed.
    if let Some(old) = std::iter::once(&wanted.leaf)
        .chain(&wanted.chain)
        .find(|c| c.not_after < now)
    {
        return judged(
            Verdict::Expired,
            format!(
                "{} has expired: renew it where it is issued (trusting it again fixes nothing)",
                name(old)
            ),
            Vec::new(),
        );
    }
    // The certificate itself in the trust is enough, whoever signed it.
    if let Some(copy) = held(&wanted.leaf) {
        return expired_or_present(copy, now);
    }
    // Otherwise its CAs, root first; a self-signed certificate has none.
    let needed: Vec<&Cert> = if wanted.leaf.self_signed || wanted.chain.is_empty() {
        vec![&wanted.leaf]
    } else {
        wanted.chain.iter().rev().collect()
    };
    let missing: Vec<&Cert> = needed
        .iter()
        .copied()
        .filter(|c| held(c).is_none())
        .collect();
    if missing.is_empty() {
        if let Some(old) = needed
            .iter()
            .filter_map(|c| held(c))
            .find(|c| c.not_after < now)
        {
            return expired_or_present(old, now);
        }
        return judged(
            Verdict::Present,
            format!(
                "trusted through {}",
                needed
                    .iter()
                    .map(|c| name(c))
                    .collect::<Vec<_>>()
                    .join(" → ")
            ),
            Vec::new(),
        );
    }
    let import: Vec<String> = missing
        .iter()
        .map(|c| c.fingerprint_sha256.clone())
        .collect();
    let names = missing
        .iter()
        .map(|c| name(c))
        .collect::<Vec<_>>()
        .join(", ");
    // The same name, another certificate: a copy from before the node's certificate changed.
    let stale = missing.iter().find_map(|c| {
        let cn = c.subject_cn.as_deref()?;
        trust.iter().find(|t| {
            t.subject_cn
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(cn))
        })
    });
    if let Some(stale) = stale {
        return judged(
            Verdict::Different,
            format!(
                "tomcat-trust holds another certificate named {} (sha256 {}…), not the one needed",
                name(stale),
                &stale.fingerprint_sha256[..16.min(stale.fingerprint_sha256.len())]
            ),
            import,
        );
    }
    // Only CA certificates replicate from the publisher (seed 002: "the root and intermediate
    // certificates"); a peer's own certificate must be imported here.
    let on_publisher = publisher.and_then(Option::as_ref).is_some_and(|p| {
        missing.iter().all(|c| {
            c.ca && p
                .iter()
                .any(|t| t.fingerprint_sha256 == c.fingerprint_sha256)
        })
    });
    if on_publisher {
        return judged(
            Verdict::NotReplicated,
            format!("{names}: on the publisher, not yet replicated here (checked again on the next read)"),
            Vec::new(),
        );
    }
    judged(Verdict::Missing, format!("missing: {names}"), import)
}

fn expired_or_present(copy: &Cert, now: i64) -> Judged {
    if copy.not_after < now {
        return judged(
            Verdict::Expired,
            format!("the trusted {} has expired", name(copy)),
            Vec::new(),
        );
    }
    judged(
        Verdict::Present,
        format!("trusted: {}", name(copy)),
        Vec::new(),
    )
}

fn judged(verdict: Verdict, why: String, import: Vec<String>) -> Judged {
    Judged {
        verdict,
        why,
        import,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn cert(fp: &str, cn: &str, issuer: &str, self_signed: bool) -> Cert {
        Cert {
            fingerprint_sha256: fp.repeat(64 / fp.len().max(1)),
            subject_cn: Some(cn.into()),
            issuer_cn: Some(issuer.into()),
            not_after: NOW + 86_400 * 100,
            self_signed,
            ca: cn.ends_with("CA"),
        }
    }

    fn ca_signed() -> Wanted {
        Wanted {
            leaf: cert("a", "finesse2.example.com", "Issuing CA", false),
            chain: vec![
                cert("b", "Issuing CA", "Root CA", false),
                cert("c", "Root CA", "Root CA", true),
            ],
        }
    }

    #[test]
    fn a_ca_signed_certificate_needs_its_root_and_intermediates_or_itself() {
        let w = ca_signed();
        let both = Some(vec![w.chain[1].clone(), w.chain[0].clone()]);
        assert_eq!(judge(Some(&w), &both, None, NOW).verdict, Verdict::Present);
        let itself = Some(vec![w.leaf.clone()]);
        assert_eq!(
            judge(Some(&w), &itself, None, NOW).verdict,
            Verdict::Present
        );
        let root_only = Some(vec![w.chain[1].clone()]);
        let j = judge(Some(&w), &root_only, None, NOW);
        assert_eq!(j.verdict, Verdict::Missing);
        assert_eq!(
            j.import,
            std::slice::from_ref(&w.chain[0].fingerprint_sha256)
        );
        assert!(j.why.contains("Issuing CA"), "{}", j.why);
        let empty = Some(vec![]);
        let j = judge(Some(&w), &empty, None, NOW);
        assert_eq!(
            j.import,
            [
                w.chain[1].fingerprint_sha256.clone(),
                w.chain[0].fingerprint_sha256.clone()
            ],
            "root first"
        );
    }

    #[test]
    fn expired_stale_unreplicated_and_unknown_cells_say_so() {
        let peer = Wanted {
            leaf: cert("d", "finesse1.example.com", "finesse1.example.com", true),
            chain: vec![],
        };
        let mut old = peer.leaf.clone();
        old.not_after = NOW - 1;
        assert_eq!(
            judge(Some(&peer), &Some(vec![old]), None, NOW).verdict,
            Verdict::Expired
        );
        let stale = cert("e", "finesse1.example.com", "finesse1.example.com", true);
        let j = judge(Some(&peer), &Some(vec![stale]), None, NOW);
        assert_eq!(j.verdict, Verdict::Different);
        assert_eq!(
            j.import,
            std::slice::from_ref(&peer.leaf.fingerprint_sha256)
        );
        // A peer's own certificate does not replicate: it is imported here.
        let publisher = Some(vec![peer.leaf.clone()]);
        let j = judge(Some(&peer), &Some(vec![]), Some(&publisher), NOW);
        assert_eq!(j.verdict, Verdict::Missing);
        // A CA certificate on the publisher does.
        let w = ca_signed();
        let publisher = Some(w.chain.clone());
        let j = judge(Some(&w), &Some(vec![]), Some(&publisher), NOW);
        assert_eq!(j.verdict, Verdict::NotReplicated);
        assert!(
            j.import.is_empty(),
            "the publisher has it: nothing to import here"
        );
        // An expired certificate needed is renewed, not trusted.
        let mut expired = ca_signed();
        expired.chain[0].not_after = NOW - 1;
        let j = judge(Some(&expired), &Some(vec![]), None, NOW);
        assert_eq!(j.verdict, Verdict::Expired);
        assert!(j.import.is_empty() && j.why.contains("Issuing CA"), "{j:?}");
        assert_eq!(
            judge(Some(&peer), &None, None, NOW).verdict,
            Verdict::Unknown
        );
        assert_eq!(
            judge(None, &Some(vec![]), None, NOW).verdict,
            Verdict::Unknown
        );
    }
}
