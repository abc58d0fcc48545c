//! A node's input made valid: every field parsed at once (each bad one named), the FQDN's DNS
//! checked, a constraint the database refused turned into the field it concerns, and the
//! endpoints written.

use super::*;

/// A node's fields after parsing: every value valid.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub cluster_id: i64,
    pub kind: NodeKind,
    pub role: NodeRole,
    pub fqdn: Fqdn,
    pub address: Option<String>,
    pub version: String,
    pub tags: Vec<String>,
    /// `None`: keep (update) or use the kind's defaults (create).
    pub endpoints: Option<Vec<EndpointSpec>>,
}

/// Checks a management address: an IP address or a host name.
fn check_address(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Ok(value.to_owned());
    }
    let valid_name = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid_name {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(format!(
            "'{value}' is neither an IP address nor a host name"
        ))
    }
}

/// Parses a node's input, naming every bad field at once.
pub fn parse_node(input: &NodeInput) -> Result<NodeSpec, Error> {
    let mut errors = FieldErrors::new();
    let mut fail =
        |field: &str, message: String| errors.entry(field.to_owned()).or_default().push(message);
    let fqdn = Fqdn::parse(&input.fqdn).map_err(|m| fail("fqdn", m)).ok();
    let role = input.role.unwrap_or(NodeRole::None);
    if !input.kind.roles().contains(&role) {
        let allowed: Vec<&str> = input.kind.roles().iter().map(|r| r.as_str()).collect();
        fail(
            "role",
            format!(
                "a {} node cannot be {}; use {}",
                input.kind.label(),
                role.as_str(),
                allowed.join(" or ")
            ),
        );
    }
    let address = match input
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(a) => check_address(a).map_err(|m| fail("address", m)).ok(),
        None => None,
    };
    let version = input
        .version
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if version.chars().count() > 64 {
        fail("version", "use at most 64 characters".into());
    }
    let mut tags: Vec<String> = input
        .tags
        .iter()
        .flatten()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    if let Some(bad) = tags
        .iter()
        .find(|t| t.chars().count() > 40 || t.contains(','))
    {
        fail(
            "tags",
            format!("'{bad}': a tag has at most 40 characters and no comma"),
        );
    }
    if let Some(endpoints) = &input.endpoints {
        let mut seen = std::collections::HashSet::new();
        for e in endpoints {
            if e.port == 0 {
                fail("endpoints", "port 0 is not a port".into());
            } else if !seen.insert(e.port) {
                fail("endpoints", format!("port {} is listed twice", e.port));
            }
        }
    }
    match (fqdn, errors.is_empty()) {
        (Some(fqdn), true) => Ok(NodeSpec {
            cluster_id: input.cluster_id,
            kind: input.kind,
            role,
            fqdn,
            address,
            version,
            tags,
            endpoints: input.endpoints.clone(),
        }),
        _ => Err(Error::Invalid(errors)),
    }
}

/// Resolves the FQDN from here (2 s at most). Never fails: what it finds is advice, which says
/// whether probes can still reach the node (through its management address).
pub async fn check_dns(fqdn: &Fqdn, address: Option<&str>) -> DnsCheck {
    let consequence = match address {
        Some(address) => format!("Gatehouse connects to the management address {address} instead"),
        None => "probes will fail unless a management address is set".to_owned(),
    };
    let lookup = tokio::net::lookup_host((fqdn.as_str(), 443));
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(addresses)) => {
            let mut resolved: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
            resolved.sort();
            resolved.dedup();
            DnsCheck {
                resolved,
                warning: None,
            }
        }
        Ok(Err(error)) => DnsCheck {
            resolved: Vec::new(),
            warning: Some(format!(
                "{fqdn} does not resolve from Gatehouse ({error}); {consequence}"
            )),
        },
        Err(_) => DnsCheck {
            resolved: Vec::new(),
            warning: Some(format!(
                "resolving {fqdn} took longer than 2 s; {consequence}"
            )),
        },
    }
}

pub(super) fn node_constraint(error: sqlx::Error, spec: &NodeSpec) -> Error {
    if let sqlx::Error::Database(db) = &error {
        match db.constraint() {
            Some("node_fqdn_key") => {
                return Error::field("fqdn", format!("{} is already in this cluster", spec.fqdn))
            }
            Some("node_unique_role_key") => {
                return Error::field(
                    "role",
                    format!(
                        "the cluster already has a {} {}; a cluster has one",
                        spec.kind.role_label(spec.role),
                        spec.kind.label()
                    ),
                )
            }
            Some("node_cluster_id_fkey") => {
                return Error::field(
                    "cluster_id",
                    format!("no cluster with id {}", spec.cluster_id),
                )
            }
            _ => {}
        }
    }
    Error::internal(error)
}

pub(super) async fn write_endpoints(
    tx: &mut PgConnection,
    node_id: i64,
    endpoints: &[EndpointSpec],
) -> Result<(), Error> {
    sqlx::query!("delete from endpoint where node_id = $1", node_id)
        .execute(&mut *tx)
        .await?;
    for e in endpoints {
        sqlx::query!(
            "insert into endpoint (node_id, port, purpose) values ($1, $2, $3)",
            node_id,
            i32::from(e.port),
            e.purpose.as_deref().unwrap_or_default()
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(crate) fn default_endpoints(kind: NodeKind) -> Vec<EndpointSpec> {
    kind.default_endpoints()
        .iter()
        .map(|e| EndpointSpec {
            port: e.port,
            purpose: Some(e.purpose.to_owned()),
        })
        .collect()
}

pub(super) fn audit_value(spec: &NodeSpec, endpoints: &[EndpointSpec]) -> serde_json::Value {
    json!({
        "cluster_id": spec.cluster_id, "kind": spec.kind, "role": spec.role, "fqdn": spec.fqdn,
        "address": spec.address, "version": spec.version, "tags": spec.tags,
        "ports": endpoints.iter().map(|e| e.port).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fqdn: &str, role: Option<NodeRole>) -> NodeInput {
        NodeInput {
            cluster_id: 1,
            kind: NodeKind::Finesse,
            role,
            fqdn: fqdn.into(),
            address: None,
            version: None,
            tags: Some(vec![" b ".into(), "a".into(), "b".into()]),
            endpoints: None,
        }
    }

    #[test]
    fn a_valid_node_is_normalised() {
        let spec = parse_node(&input("Finesse1.Example.com", Some(NodeRole::Primary))).unwrap();
        assert_eq!(spec.fqdn.as_str(), "finesse1.example.com");
        assert_eq!(spec.tags, ["a", "b"]);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut bad = input("10.0.0.1", Some(NodeRole::SideA));
        bad.address = Some("not an address!".into());
        bad.endpoints = Some(vec![
            EndpointSpec {
                port: 8445,
                purpose: None,
            },
            EndpointSpec {
                port: 8445,
                purpose: None,
            },
        ]);
        let error = parse_node(&bad).unwrap_err();
        for field in ["fqdn", "role", "address", "endpoints"] {
            assert_eq!(error.field_messages(field).len(), 1, "{field}: {error:?}");
        }
        assert!(error.field_messages("role")[0].contains("use primary or secondary or none"));
    }
}
