//! Judgements of the served chain as a whole, reported on the leaf: a chain that stops short of
//! a known root, and a handshake signature that does not verify with the leaf's key.

use super::rules::{finding, CHAIN_INCOMPLETE, HANDSHAKE_SIGNATURE, UNKNOWN_ROOT};
use crate::{CertInfo, Finding, Severity};

/// Judges the served chain (leaf first) when its last certificate is neither self-signed nor
/// issued by one of the known anchors (the system's roots, the cluster's CAs). Two problems with
/// two fixes: the last certificate is a leaf, so the server left out the CA certificates between
/// it and a root (`chain_incomplete`: serve them); or it is a CA certificate, so the chain is
/// complete as far as the server can tell and ends at a root the console does not know
/// (`unknown_root`: trust that root). `issued_by(child, parent)` says whether `parent` signed
/// `child`.
pub fn lint_chain<T>(
    chain: &[(CertInfo, T)],
    anchors: &[(CertInfo, T)],
    issued_by: impl Fn(&T, &T) -> bool,
) -> Option<Finding> {
    let (last, last_raw) = chain.last()?;
    if last.self_signed {
        return None;
    }
    let anchored = anchors
        .iter()
        .any(|(anchor, raw)| anchor.subject == last.issuer && issued_by(last_raw, raw));
    if anchored {
        return None;
    }
    Some(if last.is_ca {
        chain_finding(
            UNKNOWN_ROOT.id,
            format!(
                "the served chain ends at the CA {}, issued by {}, which is not a root the console trusts",
                last.subject, last.issuer
            ),
        )
    } else {
        chain_finding(
            CHAIN_INCOMPLETE.id,
            format!(
                "the served chain ends at {} without the CA that issued it ({})",
                last.subject, last.issuer
            ),
        )
    })
}

/// A chain finding from what was stored when the probe was recorded: its rule id
/// (`chain_incomplete` or `unknown_root`; any other is read as `chain_incomplete`) and message.
pub fn chain_finding(rule: &str, message: String) -> Finding {
    if rule == UNKNOWN_ROOT.id {
        finding(&UNKNOWN_ROOT, Severity::Warning, message)
    } else {
        finding(&CHAIN_INCOMPLETE, Severity::Warning, message)
    }
}

/// The server signed its handshake with a key that does not verify against the certificate it
/// served, or in a way that could not be checked: reported on the leaf.
pub fn handshake_signature_unverified(reason: &str) -> Finding {
    finding(
        &HANDSHAKE_SIGNATURE,
        Severity::Critical,
        format!("the server's handshake signature could not be verified with the served certificate's key: {reason}"),
    )
}
