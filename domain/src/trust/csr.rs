//! A node's certificate signing request, as the page and the REST API show it, and the signed
//! certificate an admin brings back.

use serde::{Deserialize, Serialize};

/// The CSR a node generated last (`set csr gen tomcat`, then `show csr own tomcat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(as = NodeCsr))]
pub struct Csr {
    pub node_id: i64,
    pub fqdn: String,
    /// `tomcat`.
    pub unit: String,
    /// The CSR as the node printed it: what goes to the CA.
    pub pem: String,
    pub subject: String,
    /// Whether it asks for a subjectAltName at all (none when generated with an empty Parent
    /// Domain: the CA writes the SANs, and the upload cannot fail on them).
    pub has_san: bool,
    pub san_dns: Vec<String>,
    pub san_ip: Vec<String>,
    /// `RSA 2048`, `EC P-256`.
    pub key: String,
    /// RFC 3339.
    pub generated_at: String,
    pub generated_by: String,
    /// What to tell the CA and what to watch for.
    pub notes: Vec<String>,
}

/// A signed certificate to check or upload: the node's certificate with its CA certificates
/// (root and intermediates), PEM, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignedCertificate {
    pub certificate: String,
}

/// A node's tomcat certificate regenerated, and who must trust the new one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Regenerated {
    pub operation: crate::appliances::Operation,
    /// The nodes whose tomcat-trust must hold the node's certificate (its column in their
    /// cluster's trust matrix, which plans the import once their stores are read again).
    pub trusted_by: Vec<TrustedBy>,
    /// What it means for browsers.
    pub browsers: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TrustedBy {
    pub node_id: i64,
    pub fqdn: String,
    pub cluster_id: i64,
    pub cluster: String,
}

/// What a node restarts for a new tomcat certificate to be served. Seed 002: the Notification
/// Service, then Tomcat (Finesse); Cisco Tomcat elsewhere.
pub fn web_restarts(kind: crate::inventory::model::NodeKind) -> &'static [&'static str] {
    match kind {
        crate::inventory::model::NodeKind::Finesse => {
            &["Cisco Finesse Notification Service", "Cisco Finesse Tomcat"]
        }
        _ => &["Cisco Tomcat"],
    }
}
