//! Reaching a node: what the appliance layer reads of it (address, port, the credentials and
//! the identity they are bound to, the pinned host key), why it may not be reached, and
//! [`with_node`], the one way an operation gets a node's driver: the identity checked first,
//! the host key pinned or flagged after, never by a read.

use super::*;

/// A node as the appliance layer needs it.
pub(super) struct NodeRow {
    pub(super) fqdn: String,
    pub(super) kind: String,
    pub(super) version: String,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) credentials: Option<(String, Vec<u8>, Vec<u8>, OffsetDateTime)>,
    /// The host, SSH port and FQDN the credentials are bound to (`None`: to nothing yet).
    pub(super) bound: Option<(String, u16, String)>,
    pub(super) pin: Option<String>,
    pub(super) presented: Option<String>,
}

impl NodeRow {
    /// The node as the credentials would reach it: `fqdn at host:port`.
    fn identity(host: &str, port: u16, fqdn: &str) -> String {
        format!("{fqdn} at {host}:{port}")
    }

    /// Why the credentials may not go to the node as it is now (its address, SSH port or FQDN
    /// changed since an admin bound them), if so.
    pub(super) fn identity_changed(&self) -> Option<NodeFailure> {
        self.credentials.as_ref()?;
        match &self.bound {
            Some((host, port, fqdn))
                if *host == self.host && *port == self.port && *fqdn == self.fqdn =>
            {
                None
            }
            bound => Some(NodeFailure::IdentityChanged {
                bound: bound
                    .as_ref()
                    .map(|(host, port, fqdn)| Self::identity(host, *port, fqdn)),
                now: Self::identity(&self.host, self.port, &self.fqdn),
                pinned: self.pin.is_some(),
            }),
        }
    }
}

/// Why a node is reached, which decides what may happen on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A read for someone looking (a page, an API client, a background check): it never pins
    /// a host key and never writes an audit entry, so a node whose key is not pinned yet is
    /// not reached ("host key not confirmed").
    Read,
    /// An admin's operation (or the console's own on an admin's behalf): the host key is
    /// pinned on first use and a changed one recorded, both audited.
    Change,
    /// An admin's connection test: as [`Purpose::Change`], and it also reaches a node whose
    /// address or FQDN changed since its credentials were bound (the pinned host key is
    /// checked before the password is sent); the caller binds them anew when it works.
    Confirm,
}

pub(super) async fn node_row(pool: &PgPool, node_id: i64) -> Result<NodeRow, Error> {
    let r = sqlx::query!(
        r#"select n.fqdn, n.kind, n.version, n.address, n.ssh_port,
                  c.username as "username?", c.nonce as "nonce?", c.sealed as "sealed?", c.updated_at as "updated_at?",
                  c.bound_host, c.bound_port, c.bound_fqdn,
                  k.fingerprint as "fingerprint?", k.presented_fingerprint
           from node n
           left join node_credential c on c.node_id = n.id
           left join node_host_key k on k.node_id = n.id
           where n.id = $1"#,
        node_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no node with id {node_id}")))?;
    let credentials = match (r.username, r.nonce, r.sealed, r.updated_at) {
        (Some(u), Some(n), Some(s), Some(at)) => Some((u, n, s, at)),
        _ => None,
    };
    Ok(NodeRow {
        bound: match (r.bound_host, r.bound_port, r.bound_fqdn) {
            (Some(host), Some(port), Some(fqdn)) => {
                Some((host, u16::try_from(port).unwrap_or(22), fqdn))
            }
            _ => None,
        },
        host: r.address.clone().unwrap_or_else(|| r.fqdn.clone()),
        fqdn: r.fqdn,
        kind: r.kind,
        version: r.version,
        port: u16::try_from(r.ssh_port).unwrap_or(22),
        credentials,
        pin: r.fingerprint,
        presented: r.presented_fingerprint,
    })
}

/// Why an operation on a node did not run, or did not finish.
#[derive(Debug)]
pub enum NodeFailure {
    /// No usable credentials: none stored, or sealed with another server's key.
    NoCredentials(String),
    /// The node presented a host key other than the pinned one; nothing is sent until an admin
    /// accepts it.
    HostKeyChanged { presented: String, pinned: String },
    /// The driver failed: connecting, signing in, the session, a timeout, the output.
    Driver(DriverError),
    /// A read found no pinned host key: only an admin's operation pins one.
    NotConfirmed,
    /// The node's address, SSH port or FQDN changed since its credentials were bound
    /// (`bound`: to what; `None`: to nothing yet); nothing is sent until an admin confirms it:
    /// a connection test when a host key is `pinned` to check it by, else the credentials
    /// entered again.
    IdentityChanged {
        bound: Option<String>,
        now: String,
        pinned: bool,
    },
}

impl NodeFailure {
    /// The stable code the API and the connection test report.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "no_credentials",
            Self::HostKeyChanged { .. } => "host_key_changed",
            Self::NotConfirmed => "host_key_not_confirmed",
            Self::IdentityChanged { .. } => "identity_changed",
            Self::Driver(error) => match error {
                DriverError::Connect(_) => "connect",
                DriverError::HostKeyChanged { .. } => "host_key_changed",
                DriverError::Authentication => "authentication",
                DriverError::Session(_) => "session",
                DriverError::Timeout { .. } => "timeout",
                DriverError::Dropped { .. } => "dropped",
                DriverError::UnexpectedPrompt { .. } | DriverError::Output(_) => "output",
                DriverError::Unsupported(_) => "unsupported",
                DriverError::Refused(_) => "refused",
            },
        }
    }
}

impl std::fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoCredentials(why) => f.write_str(why),
            Self::HostKeyChanged { presented, pinned } => write!(
                f,
                "the node presented a new host key ({presented}, pinned {pinned}): nothing is sent until an admin accepts it"
            ),
            Self::Driver(error) => error.fmt(f),
            Self::NotConfirmed => f.write_str(
                "host key not confirmed: no operation has connected to this node yet; an admin tests the connection first (node page, Appliance access)",
            ),
            Self::IdentityChanged { bound, now, pinned } => {
                match bound {
                    Some(bound) => write!(
                        f,
                        "the node is now {now}, but its credentials were entered for {bound}"
                    )?,
                    None => write!(f, "the credentials are not bound to {now} yet")?,
                }
                if *pinned {
                    f.write_str(": nothing is sent to it until an admin tests the connection there (the pinned host key is checked before the password goes) or enters the credentials again")
                } else {
                    f.write_str(": no host key was pinned to check it by, so nothing is sent to it until an admin enters the credentials again")
                }
            }
        }
    }
}

/// After a connection: pins the key on first use, records a changed one. Audited.
async fn observe(
    pool: &PgPool,
    context: &RequestContext,
    node_id: i64,
    node: &NodeRow,
    driver: &VosSsh,
    error: Option<&DriverError>,
) -> Result<(), Error> {
    let Some(seen) = driver.host_key() else {
        return Ok(());
    };
    let target = format!("node:{}", node.fqdn);
    if node.pin.is_none() {
        let mut tx = pool.begin().await?;
        let pinned = sqlx::query!(
            "insert into node_host_key (node_id, fingerprint, algorithm, public_key) values ($1, $2, $3, $4)
             on conflict (node_id) do nothing",
            node_id,
            seen.fingerprint,
            seen.algorithm,
            seen.openssh
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if pinned == 1 {
            record(
                &mut tx,
                context.event("node.host_key.pin", &target).detail(format!(
                    "pinned on first use, to be confirmed: {} {}",
                    seen.algorithm, seen.fingerprint
                )),
            )
            .await?;
        }
        tx.commit().await?;
    } else if let Some(DriverError::HostKeyChanged { presented, .. }) = error {
        let mut tx = pool.begin().await?;
        sqlx::query!(
            "update node_host_key set presented_fingerprint = $2, presented_algorithm = $3,
                    presented_public_key = $4, presented_at = now()
             where node_id = $1",
            node_id,
            presented,
            seen.algorithm,
            seen.openssh
        )
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            context
                .event("node.host_key.changed", &target)
                .outcome(Outcome::Denied)
                .detail(format!(
                    "the node presented {presented} instead of the pinned {}: operations blocked until an admin accepts it",
                    node.pin.as_deref().unwrap_or_default()
                )),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Runs `operation` with `node_id`'s driver for `purpose`: how the reconciliation engine and
/// the other areas reach a node. `Ok(Err(_))`: the node could not be reached or the
/// operation failed there.
pub async fn with_node<T, F>(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    purpose: Purpose,
    operation: impl FnOnce(Arc<VosSsh>) -> F,
) -> Result<Result<T, NodeFailure>, Error>
where
    F: std::future::Future<Output = Result<T, DriverError>>,
{
    let node = node_row(&state.pool, node_id).await?;
    with_driver(state, context, node_id, &node, purpose, operation).await
}

/// Runs `operation` with the node's driver, unless its identity changed since the credentials
/// were bound (but for [`Purpose::Confirm`]) or a read finds no pinned key; pins or flags the
/// host key as seen, but for a read.
pub(super) async fn with_driver<T, F>(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    node: &NodeRow,
    purpose: Purpose,
    operation: impl FnOnce(Arc<VosSsh>) -> F,
) -> Result<Result<T, NodeFailure>, Error>
where
    F: std::future::Future<Output = Result<T, DriverError>>,
{
    // A test may confirm a node at its new address only through a pinned host key: without one
    // the password would go to whatever answers there.
    match (purpose, node.identity_changed()) {
        (Purpose::Confirm, Some(NodeFailure::IdentityChanged { pinned: true, .. })) | (_, None) => {
        }
        (_, Some(changed)) => return Ok(Err(changed)),
    }
    if purpose == Purpose::Read && node.pin.is_none() && node.credentials.is_some() {
        return Ok(Err(NodeFailure::NotConfirmed));
    }
    let driver = match state.appliances.driver(node_id, node) {
        Ok(driver) => driver,
        Err(blocked) => return Ok(Err(blocked)),
    };
    let result = operation(driver.clone()).await;
    if purpose != Purpose::Read {
        observe(
            &state.pool,
            context,
            node_id,
            node,
            &driver,
            result.as_ref().err(),
        )
        .await?;
    }
    if matches!(
        result,
        Err(DriverError::HostKeyChanged { .. } | DriverError::Authentication)
    ) {
        state.appliances.forget(node_id);
    }
    Ok(result.map_err(NodeFailure::Driver))
}
