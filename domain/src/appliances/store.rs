//! The appliance layer on the server: drivers per node (built from the stored, sealed
//! credentials and the pinned host key), and every operation with its audit entry.

use super::secret::Sealer;
use super::{
    Access, ClusterAgents, ConnectedAgents, ConnectionTest, Counts, HistoryPoint, HostKey,
    KeyFacts, NodeAgents, Operation, StoreEntry, Stores, TrustImport,
};
use crate::audit::store::{record, record_alone, Outcome};
use crate::auth::store::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use crate::Services;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use vos::driver::{Driver, DriverError, Store};
use vos::ssh::{Settings, Target, VosSsh};

/// The drivers of the fleet's nodes and what they share.
pub struct Appliances {
    sealer: Sealer,
    /// Bounds SSH sessions across the fleet.
    fleet: Arc<Semaphore>,
    drivers: Mutex<HashMap<i64, (DriverKey, Arc<VosSsh>)>>,
    /// Nodes whose connected users are being read now (one read per node at a time).
    sampling: Mutex<std::collections::HashSet<i64>>,
}

impl std::fmt::Debug for Appliances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appliances").finish_non_exhaustive()
    }
}

/// What a driver was built from: a change of any of it makes a new driver.
#[derive(Clone, PartialEq, Eq)]
struct DriverKey {
    host: String,
    port: u16,
    username: String,
    credentials_at: OffsetDateTime,
    pin: Option<String>,
}

/// A node as the appliance layer needs it.
struct NodeRow {
    fqdn: String,
    kind: String,
    version: String,
    host: String,
    port: u16,
    credentials: Option<(String, Vec<u8>, Vec<u8>, OffsetDateTime)>,
    pin: Option<String>,
    presented: Option<String>,
}

async fn node_row(pool: &PgPool, node_id: i64) -> Result<NodeRow, Error> {
    let r = sqlx::query!(
        r#"select n.fqdn, n.kind, n.version, n.address, n.ssh_port,
                  c.username as "username?", c.nonce as "nonce?", c.sealed as "sealed?", c.updated_at as "updated_at?",
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
}

impl NodeFailure {
    /// The stable code the API and the connection test report.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCredentials(_) => "no_credentials",
            Self::HostKeyChanged { .. } => "host_key_changed",
            Self::Driver(error) => match error {
                DriverError::Connect(_) => "connect",
                DriverError::HostKeyChanged { .. } => "host_key_changed",
                DriverError::Authentication => "authentication",
                DriverError::Session(_) => "session",
                DriverError::Timeout { .. } => "timeout",
                DriverError::Dropped { .. } => "dropped",
                DriverError::UnexpectedPrompt { .. } | DriverError::Output(_) => "output",
                DriverError::Unsupported(_) => "unsupported",
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
        }
    }
}

impl Appliances {
    pub fn new(sealer: Sealer, concurrency: usize) -> Self {
        Self {
            sealer,
            fleet: Arc::new(Semaphore::new(concurrency.max(1))),
            drivers: Mutex::new(HashMap::new()),
            sampling: Mutex::default(),
        }
    }

    /// Whether a read of `node_id`'s connected users may start (none is running).
    fn begin_sample(&self, node_id: i64) -> bool {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(node_id)
    }

    fn end_sample(&self, node_id: i64) {
        self.sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
    }

    /// The node's driver, or why there is none.
    fn driver(&self, node_id: i64, node: &NodeRow) -> Result<Arc<VosSsh>, NodeFailure> {
        let Some((username, nonce, sealed, at)) = &node.credentials else {
            return Err(NodeFailure::NoCredentials(
                "no credentials are stored for this node: enter the platform admin account first"
                    .into(),
            ));
        };
        if let (Some(pin), Some(presented)) = (&node.pin, &node.presented) {
            return Err(NodeFailure::HostKeyChanged {
                presented: presented.clone(),
                pinned: pin.clone(),
            });
        }
        let key = DriverKey {
            host: node.host.clone(),
            port: node.port,
            username: username.clone(),
            credentials_at: *at,
            pin: node.pin.clone(),
        };
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, driver)) = drivers.get(&node_id) {
            if *known == key {
                return Ok(driver.clone());
            }
        }
        let password = self.sealer.open(node_id, nonce, sealed).ok_or_else(|| {
            NodeFailure::NoCredentials(
                "the stored password does not open with this server's secret key (was the key file replaced?): enter it again".into(),
            )
        })?;
        let driver = Arc::new(VosSsh::new(
            Target {
                host: node.host.clone(),
                port: node.port,
                username: username.clone(),
                password,
            },
            node.pin.clone(),
            Settings::default(),
            self.fleet.clone(),
        ));
        drivers.insert(node_id, (key, driver.clone()));
        Ok(driver)
    }

    fn forget(&self, node_id: i64) {
        self.drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&node_id);
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

pub async fn host_key(pool: &PgPool, node_id: i64) -> Result<HostKey, Error> {
    let row = sqlx::query!(
        "select fingerprint, algorithm, public_key, pinned_at, confirmed_at, confirmed_by,
                presented_fingerprint, presented_algorithm, presented_public_key, presented_at
         from node_host_key where node_id = $1",
        node_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(HostKey {
            state: "none".into(),
            pinned: None,
            presented: None,
            confirmed_by: None,
            confirmed_at: None,
        });
    };
    let presented = match (
        r.presented_fingerprint,
        r.presented_algorithm,
        r.presented_public_key,
        r.presented_at,
    ) {
        (Some(fingerprint), Some(algorithm), Some(public_key), Some(at)) => Some(KeyFacts {
            fingerprint,
            algorithm,
            public_key,
            seen_at: rfc3339(at),
        }),
        _ => None,
    };
    let state = if presented.is_some() {
        "changed"
    } else if r.confirmed_at.is_some() {
        "confirmed"
    } else {
        "unconfirmed"
    };
    Ok(HostKey {
        state: state.into(),
        pinned: Some(KeyFacts {
            fingerprint: r.fingerprint,
            algorithm: r.algorithm,
            public_key: r.public_key,
            seen_at: rfc3339(r.pinned_at),
        }),
        presented,
        confirmed_by: r.confirmed_by,
        confirmed_at: r.confirmed_at.map(rfc3339),
    })
}

pub async fn access(pool: &PgPool, node_id: i64) -> Result<Access, Error> {
    let r = sqlx::query!(
        r#"select n.ssh_port, c.username as "username?", c.updated_at as "updated_at?", c.updated_by as "updated_by?"
           from node n left join node_credential c on c.node_id = n.id where n.id = $1"#,
        node_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no node with id {node_id}")))?;
    Ok(Access {
        ssh_port: u16::try_from(r.ssh_port).unwrap_or(22),
        username: r.username,
        credentials_updated_at: r.updated_at.map(rfc3339),
        credentials_updated_by: r.updated_by,
        host_key: host_key(pool, node_id).await?,
    })
}

pub async fn set_credentials(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    input: super::CredentialsInput,
) -> Result<(), Error> {
    let actor = context.require_admin()?.actor();
    let mut errors = crate::FieldErrors::new();
    let username = input.username.trim().to_owned();
    if username.is_empty()
        || username.chars().count() > 100
        || username.contains(char::is_whitespace)
    {
        errors.insert(
            "username".into(),
            vec!["use 1 to 100 characters without spaces".into()],
        );
    }
    if input.password.is_empty() || input.password.len() > 200 {
        errors.insert(
            "password".into(),
            vec!["enter the password (at most 200 characters)".into()],
        );
    }
    if input.port == Some(0) {
        errors.insert(
            "port".into(),
            vec!["use a port number from 1 to 65535".into()],
        );
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let fqdn = sqlx::query_scalar!("select fqdn from node where id = $1", node_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no node with id {node_id}")))?;
    let (nonce, sealed) = state
        .appliances
        .sealer
        .seal(node_id, &input.password)
        .map_err(|_| Error::internal(anyhow::anyhow!("sealing the password failed")))?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "insert into node_credential (node_id, username, nonce, sealed, updated_by) values ($1, $2, $3, $4, $5)
         on conflict (node_id) do update set username = $2, nonce = $3, sealed = $4, updated_at = now(), updated_by = $5",
        node_id,
        username,
        nonce,
        sealed,
        actor
    )
    .execute(&mut *tx)
    .await?;
    if let Some(port) = input.port {
        sqlx::query!(
            "update node set ssh_port = $2, updated_at = now() where id = $1",
            node_id,
            i32::from(port)
        )
        .execute(&mut *tx)
        .await?;
    }
    let port = match input.port {
        Some(port) => format!(", SSH port {port}"),
        None => String::new(),
    };
    record(
        &mut tx,
        context
            .event("node.credentials.set", format!("node:{fqdn}"))
            .detail(format!(
                "platform admin account {username}{port} (password sealed, not logged)"
            )),
    )
    .await?;
    tx.commit().await?;
    state.appliances.forget(node_id);
    Ok(())
}

pub async fn accept_host_key(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    fingerprint: &str,
) -> Result<HostKey, Error> {
    let actor = context.require_admin()?.actor();
    let node = node_row(&state.pool, node_id).await?;
    let fingerprint = fingerprint.trim();
    let current = host_key(&state.pool, node_id).await?;
    let mut tx = state.pool.begin().await?;
    let detail = match (&current.pinned, &current.presented) {
        (_, Some(presented)) if presented.fingerprint == fingerprint => {
            sqlx::query!(
                "update node_host_key set fingerprint = presented_fingerprint, algorithm = presented_algorithm,
                        public_key = presented_public_key, pinned_at = now(), confirmed_at = now(), confirmed_by = $2,
                        presented_fingerprint = null, presented_algorithm = null, presented_public_key = null, presented_at = null
                 where node_id = $1",
                node_id,
                actor
            )
            .execute(&mut *tx)
            .await?;
            format!(
                "accepted the new host key {fingerprint} (was {})",
                current
                    .pinned
                    .as_ref()
                    .map(|p| p.fingerprint.as_str())
                    .unwrap_or("-")
            )
        }
        (Some(pinned), None) if pinned.fingerprint == fingerprint => {
            sqlx::query!(
                "update node_host_key set confirmed_at = now(), confirmed_by = $2 where node_id = $1",
                node_id,
                actor
            )
            .execute(&mut *tx)
            .await?;
            format!("confirmed the host key pinned on first use: {fingerprint}")
        }
        (None, None) => {
            return Err(Error::Conflict(
                "no host key seen yet: test the connection first".into(),
            ))
        }
        _ => {
            return Err(Error::field(
                "fingerprint",
                "this is not the key the node presented; compare the fingerprint again",
            ))
        }
    };
    record(
        &mut tx,
        context
            .event("node.host_key.accept", format!("node:{}", node.fqdn))
            .detail(detail),
    )
    .await?;
    tx.commit().await?;
    state.appliances.forget(node_id);
    host_key(&state.pool, node_id).await
}

/// Runs `operation` with the node's driver, pinning or flagging the host key as seen.
async fn with_driver<T, F>(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    node: &NodeRow,
    operation: impl FnOnce(Arc<VosSsh>) -> F,
) -> Result<Result<T, NodeFailure>, Error>
where
    F: std::future::Future<Output = Result<T, DriverError>>,
{
    let driver = match state.appliances.driver(node_id, node) {
        Ok(driver) => driver,
        Err(blocked) => return Ok(Err(blocked)),
    };
    let result = operation(driver.clone()).await;
    observe(
        &state.pool,
        context,
        node_id,
        node,
        &driver,
        result.as_ref().err(),
    )
    .await?;
    if matches!(
        result,
        Err(DriverError::HostKeyChanged { .. } | DriverError::Authentication)
    ) {
        state.appliances.forget(node_id);
    }
    Ok(result.map_err(NodeFailure::Driver))
}

pub async fn test_connection(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<ConnectionTest, Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let started = Instant::now();
    let result = with_driver(state, context, node_id, &node, |driver| async move {
        driver.version().await
    })
    .await?;
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let host_key = host_key(&state.pool, node_id).await?;
    let test = match result {
        Ok(version) => ConnectionTest {
            ok: true,
            prompt: Some(vos::ssh::PROMPT.into()),
            message: format!(
                "Connected to {}:{} as {}: prompt admin:, version {} ({latency} ms).",
                node.host,
                node.port,
                node.credentials
                    .as_ref()
                    .map(|c| c.0.as_str())
                    .unwrap_or_default(),
                version.active
            ),
            version: Some(version.active),
            latency_ms: Some(latency),
            error: None,
            host_key,
        },
        Err(failure) => ConnectionTest {
            ok: false,
            prompt: None,
            version: None,
            latency_ms: None,
            message: format!("{}:{}: {failure}", node.host, node.port),
            error: Some(failure.code().to_owned()),
            host_key,
        },
    };
    record_alone(
        &state.pool,
        context
            .event("node.test_connection", format!("node:{}", node.fqdn))
            .outcome(Outcome::of(test.ok))
            .detail(format!("show version active: {}", test.message)),
    )
    .await?;
    Ok(test)
}

/// Reads both stores from the appliance and keeps them (the last good read stays when one fails).
pub async fn read_stores(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<(), Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let result = with_driver(state, context, node_id, &node, |driver| async move {
        let mut entries = Vec::new();
        for store in [Store::Own, Store::Trust] {
            for entry in driver.cert_list(store).await? {
                let pem = driver.cert_pem(store, &entry).await;
                entries.push((store, entry, pem));
            }
        }
        Ok(entries)
    })
    .await?;
    let entries = match result {
        Ok(entries) => entries,
        Err(failure) => {
            let message = failure.to_string();
            sqlx::query!(
                "insert into store_read (node_id, read_at, error, attempted_at) values ($1, null, $2, now())
                 on conflict (node_id) do update set error = $2, attempted_at = now()",
                node_id,
                message
            )
            .execute(&state.pool)
            .await?;
            record_alone(
                &state.pool,
                context
                    .event("node.stores.read", format!("node:{}", node.fqdn))
                    .outcome(Outcome::Failure)
                    .detail(message.clone()),
            )
            .await?;
            return Err(Error::Conflict(format!(
                "reading the certificate stores failed: {message}"
            )));
        }
    };
    // Parse each file; a file that cannot be read or parsed is kept with its reason.
    let mut parsed: Vec<(Store, vos::CertEntry, ParsedCert)> = Vec::new();
    for (store, entry, pem) in entries {
        let cert = pem.map_err(|e| e.to_string()).and_then(|pem| {
            let der = certs::analyze::pem_certificates(&pem)?
                .into_iter()
                .next()
                .ok_or_else(|| "no certificate in the output".to_owned())?;
            let info = certs::analyze::parse(&der).map_err(|e| e.0)?;
            Ok((info, der))
        });
        parsed.push((store, entry, cert));
    }
    let mut certificates: Vec<(&certs::CertInfo, &[u8])> = parsed
        .iter()
        .filter_map(|(_, _, c)| c.as_ref().ok().map(|(i, d)| (i, d.as_slice())))
        .collect();
    certificates.sort_by(|a, b| a.0.sha256.cmp(&b.0.sha256));
    certificates.dedup_by(|a, b| a.0.sha256 == b.0.sha256);
    let mut tx = state.pool.begin().await?;
    crate::certificates::store::insert_certificates(&mut tx, &certificates).await?;
    sqlx::query!("delete from store_entry where node_id = $1", node_id)
        .execute(&mut *tx)
        .await?;
    for (store, entry, cert) in &parsed {
        let (sha256, error) = match cert {
            Ok((info, _)) => (Some(info.sha256.clone()), None),
            Err(e) => (None, Some(e.clone())),
        };
        sqlx::query!(
            "insert into store_entry (node_id, store, unit, file, description, sha256, error) values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (node_id, store, unit, file) do nothing",
            node_id,
            store.word(),
            entry.unit,
            entry.file,
            entry.description,
            sha256,
            error
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "insert into store_read (node_id, read_at, error, attempted_at) values ($1, now(), null, now())
         on conflict (node_id) do update set read_at = now(), error = null, attempted_at = now()",
        node_id
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("node.stores.read", format!("node:{}", node.fqdn))
            .detail(format!(
                "show cert list own, show cert list trust and {} files",
                parsed.len()
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A store file parsed, or why it could not be.
type ParsedCert = Result<(certs::CertInfo, Vec<u8>), String>;

/// The stores as last read, each certificate judged with the node's thresholds; the store's
/// tomcat certificate compared with what the node's endpoints serve.
pub async fn stores(state: &Services, node_id: i64) -> Result<Stores, Error> {
    let node = node_row(&state.pool, node_id).await?;
    let read = sqlx::query!(
        "select read_at, error, attempted_at from store_read where node_id = $1",
        node_id
    )
    .fetch_optional(&state.pool)
    .await?;
    let rows = sqlx::query!(
        r#"select s.store, s.unit, s.file, s.description, s.error, c.sha256 as "sha256?", c.info as "info?"
           from store_entry s left join certificate c on c.sha256 = s.sha256
           where s.node_id = $1 order by s.store, s.unit, s.file"#,
        node_id
    )
    .fetch_all(&state.pool)
    .await?;
    let endpoints = crate::certificates::store::fleet(&state.pool, Some(node_id)).await?;
    let now = crate::dates::now();
    let thresholds = endpoints.first().map(|e| e.thresholds).unwrap_or_default();
    let mut stores = Stores {
        read_at: read.as_ref().and_then(|r| r.read_at).map(rfc3339),
        error: read.as_ref().and_then(|r| r.error.clone()),
        attempted_at: read.as_ref().map(|r| rfc3339(r.attempted_at)),
        own: Vec::new(),
        trust: Vec::new(),
        tomcat_mismatch: None,
    };
    for r in rows {
        let info: Option<certs::CertInfo> = r.info.and_then(|v| serde_json::from_value(v).ok());
        let own = r.store == "own";
        // Own certificates are the node's leaves (the tomcat one for its FQDN); trust
        // certificates are judged as the CAs they are meant to be.
        let leaf = own && r.unit == "tomcat";
        let (findings, state_word) = match &info {
            Some(info) => {
                let context = certs::lints::Context {
                    now,
                    fqdn: leaf.then_some(node.fqdn.as_str()),
                    node_kind: Some(&node.kind),
                    node_version: Some(&node.version),
                    chain_position: usize::from(!leaf),
                    public_endpoint: false,
                    publicly_trusted: false,
                    thresholds,
                };
                let mut findings = certs::lints::lint(info, &context);
                findings.sort_by_key(|f| f.severity);
                let state = certs::lints::AlertState::of(info, now, &thresholds);
                (findings, Some(state.as_str().to_owned()))
            }
            None => (Vec::new(), None),
        };
        let entry = StoreEntry {
            store: r.store.clone(),
            unit: r.unit,
            file: r.file,
            description: r.description,
            fingerprint_sha256: r.sha256,
            subject_cn: info.as_ref().and_then(|i| i.subject_cn.clone()),
            issuer_cn: info.as_ref().and_then(|i| i.issuer_cn.clone()),
            not_after: info
                .as_ref()
                .and_then(|i| OffsetDateTime::from_unix_timestamp(i.not_after).ok())
                .map(rfc3339),
            days_left: info
                .as_ref()
                .map(|i| (i.not_after - now).div_euclid(86_400)),
            state: state_word,
            findings,
            error: r.error,
        };
        if own {
            stores.own.push(entry);
        } else {
            stores.trust.push(entry);
        }
    }
    // The store's tomcat certificate against the leaf each endpoint served at its last probe.
    if let Some(tomcat) = stores
        .own
        .iter()
        .find(|e| e.unit == "tomcat")
        .and_then(|e| e.fingerprint_sha256.clone())
    {
        let differing: Vec<String> = endpoints
            .iter()
            .filter_map(|e| {
                let (_, leaf) = e.chain.first()?;
                (leaf.sha256 != tomcat).then(|| e.port.to_string())
            })
            .collect();
        if !differing.is_empty() {
            let service = if node.kind == "finesse" {
                "Cisco Finesse Tomcat"
            } else {
                "Cisco Tomcat"
            };
            stores.tomcat_mismatch = Some(format!(
                "The tomcat certificate in the store ({}…) is not the one port {} served at the last scan: a restart of {service} is pending (utils service restart {service}), or the store changed after the scan.",
                &tomcat[..16.min(tomcat.len())],
                differing.join(", ")
            ));
        }
    }
    Ok(stores)
}

pub async fn import_trust(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    input: TrustImport,
) -> Result<Operation, Error> {
    context.require_admin()?;
    let unit = input.unit.trim();
    if !super::TRUST_UNITS.contains(&unit) {
        return Err(Error::field(
            "unit",
            format!("use one of {}", super::TRUST_UNITS.join(", ")),
        ));
    }
    let ders = certs::analyze::pem_certificates(&input.pem).map_err(|e| Error::field("pem", e))?;
    let [der] = ders.as_slice() else {
        return Err(Error::field(
            "pem",
            format!("paste exactly one certificate (found {}); import a chain's root and intermediates one by one", ders.len()),
        ));
    };
    let info = certs::analyze::parse(der)
        .map_err(|e| Error::field("pem", format!("not a readable certificate: {}", e.0)))?;
    let node = node_row(&state.pool, node_id).await?;
    let word = unit.trim_end_matches("-trust").to_owned();
    let line = format!("set cert import trust {word}");
    let pem = input.pem.clone();
    let result = with_driver(state, context, node_id, &node, |driver| async move {
        match driver.import_trust(&word, &pem).await {
            Ok(changed) => Ok((changed.output, Ok(()))),
            // Failed midway or not confirmed: reported as failed, with what the node printed.
            Err(error) => match error.partial() {
                Some(partial) => Ok((partial.to_owned(), Err(error))),
                None => Err(error),
            },
        }
    })
    .await?;
    let subject = info
        .subject_cn
        .clone()
        .unwrap_or_else(|| info.subject.clone());
    let operation = match result {
        Ok((out, Ok(()))) => Operation {
            ok: true,
            command: line.clone(),
            message: format!("Imported {subject} into {unit} on {}. Restart the services related to it for the import to take effect.", node.fqdn),
            output: out,
            restart: vec![if node.kind == "finesse" { "Cisco Finesse Tomcat".into() } else { "Cisco Tomcat".into() }],
        },
        Ok((out, Err(e))) => Operation {
            ok: false,
            command: line.clone(),
            message: format!("The appliance did not confirm the import: {e}"),
            output: out,
            restart: Vec::new(),
        },
        Err(failure) => Operation {
            ok: false,
            command: line.clone(),
            message: failure.to_string(),
            output: String::new(),
            restart: Vec::new(),
        },
    };
    record_alone(
        &state.pool,
        context
            .event("node.trust.import", format!("node:{}", node.fqdn))
            .outcome(Outcome::of(operation.ok))
            .detail(format!(
                "{}: {} {} (sha256 {})",
                operation.command, operation.message, unit, info.sha256
            ))
            .after(serde_json::json!({ "command": operation.command, "output": operation.output })),
    )
    .await?;
    Ok(operation)
}

/// How old a sample may be before the page asks the node again.
const SAMPLE_AGE: Duration = Duration::from_secs(10);
/// How long a page waits for a node's answer.
const SAMPLE_WAIT: Duration = Duration::from_secs(4);

/// Connected users per Finesse node (only `node` when given, without the fleet's history);
/// with `refresh`, nodes with credentials whose last sample is older than [`SAMPLE_AGE`] are
/// asked now (all at once, within the fleet's SSH bound).
pub async fn connected_agents(
    state: &Services,
    refresh: bool,
    node: Option<i64>,
) -> Result<ConnectedAgents, Error> {
    let nodes = sqlx::query!(
        r#"select n.id, n.fqdn, c.id as cluster_id, c.name as cluster,
                  (select max(read_at) from connected_sample s where s.node_id = n.id) as last_read,
                  exists (select 1 from node_credential k where k.node_id = n.id) as "has_credentials!"
           from node n join cluster c on c.id = n.cluster_id
           where n.kind = 'finesse' and ($1::bigint is null or n.id = $1)
           order by lower(c.name), n.fqdn"#,
        node
    )
    .fetch_all(&state.pool)
    .await?;
    let mut errors: HashMap<i64, String> = HashMap::new();
    if refresh {
        let due: Vec<i64> = nodes
            .iter()
            .filter(|n| n.has_credentials)
            .filter(|n| {
                n.last_read.is_none_or(|t| {
                    (OffsetDateTime::now_utc() - t).whole_seconds() >= SAMPLE_AGE.as_secs() as i64
                })
            })
            .map(|n| n.id)
            .collect();
        // A slow node shows its last sample, or none yet, until a later refresh.
        errors = sample_nodes(state, due, SAMPLE_WAIT).await;
    }
    let latest = sqlx::query!(
        "select distinct on (node_id) node_id, read_at, desktop, fippa, third_party, total, lan, proxy, source
         from connected_sample where $1::bigint is null or node_id = $1 order by node_id, read_at desc",
        node
    )
    .fetch_all(&state.pool)
    .await?;
    let latest: HashMap<i64, (OffsetDateTime, Counts, String)> = latest
        .into_iter()
        .map(|r| {
            let n = |v: i32| u32::try_from(v).unwrap_or_default();
            (
                r.node_id,
                (
                    r.read_at,
                    Counts {
                        desktop: n(r.desktop),
                        fippa: n(r.fippa),
                        third_party: n(r.third_party),
                        total: n(r.total),
                        lan: n(r.lan),
                        proxy: n(r.proxy),
                    },
                    r.source,
                ),
            )
        })
        .collect();
    let mut totals = Counts::default();
    let mut clusters: Vec<ClusterAgents> = Vec::new();
    let mut newest: Option<OffsetDateTime> = None;
    let mut out = Vec::new();
    for n in nodes {
        let sample = latest.get(&n.id);
        if let Some((at, counts, _)) = sample {
            totals.add(counts);
            newest = newest.max(Some(*at));
            match clusters.iter_mut().find(|c| c.cluster_id == n.cluster_id) {
                Some(cluster) => cluster.counts.add(counts),
                None => clusters.push(ClusterAgents {
                    cluster_id: n.cluster_id,
                    cluster: n.cluster.clone(),
                    counts: *counts,
                }),
            }
        }
        out.push(NodeAgents {
            node_id: n.id,
            fqdn: n.fqdn,
            cluster_id: n.cluster_id,
            cluster: n.cluster,
            counts: sample.map(|(_, c, _)| *c),
            read_at: sample.map(|(at, _, _)| rfc3339(*at)),
            source: sample.map(|(_, _, source)| source.clone()),
            error: errors
                .remove(&n.id)
                .or_else(|| (!n.has_credentials).then(|| "no credentials stored".to_owned())),
        });
    }
    Ok(ConnectedAgents {
        nodes: out,
        clusters,
        totals,
        read_at: newest.map(rfc3339),
        history: match node {
            None => history(&state.pool).await?,
            Some(_) => Vec::new(),
        },
    })
}

/// Reads the connected users of `ids` now, each in a task of its own that keeps its sample
/// whenever it ends (one read per node at a time: a node being read is skipped), waiting at
/// most `wait`. Returns, per node, why its read failed or has not ended yet.
async fn sample_nodes(state: &Services, ids: Vec<i64>, wait: Duration) -> HashMap<i64, String> {
    let deadline = tokio::time::Instant::now() + wait;
    let reads: Vec<_> = ids
        .into_iter()
        .filter(|id| state.appliances.begin_sample(*id))
        .map(|id| {
            let state = state.clone();
            let read = tokio::spawn(async move {
                let result = sample(&state, id).await;
                state.appliances.end_sample(id);
                result
            });
            (id, read)
        })
        .collect();
    let mut errors = HashMap::new();
    for (id, read) in reads {
        let message = match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Ok(()))) => continue,
            Ok(Ok(Err(message))) => message,
            Ok(Err(failed)) => format!("the read failed: {failed}"),
            Err(_) => format!("no answer within {} s yet", wait.as_secs()),
        };
        errors.insert(id, message);
    }
    errors
}

/// How long samples are kept.
const SAMPLE_RETENTION_DAYS: i32 = 30;

/// One sampling round for the background sampler: every Finesse node with credentials (and no
/// unaccepted host key) is read. Returns the failures (node FQDN, why).
pub async fn sample_fleet(
    state: &Services,
    wait: Duration,
) -> Result<Vec<(String, String)>, Error> {
    let nodes = sqlx::query!(
        "select n.id, n.fqdn from node n join node_credential c on c.node_id = n.id
         left join node_host_key k on k.node_id = n.id
         where n.kind = 'finesse' and k.presented_fingerprint is null order by n.id"
    )
    .fetch_all(&state.pool)
    .await?;
    let mut names: HashMap<i64, String> = nodes.into_iter().map(|n| (n.id, n.fqdn)).collect();
    let errors = sample_nodes(state, names.keys().copied().collect(), wait).await;
    Ok(errors
        .into_iter()
        .map(|(id, why)| (names.remove(&id).unwrap_or_default(), why))
        .collect())
}

/// Deletes samples older than the retention; returns how many.
pub async fn prune_samples(pool: &PgPool) -> Result<u64, Error> {
    let deleted = sqlx::query!(
        "delete from connected_sample where read_at < now() - make_interval(days => $1)",
        SAMPLE_RETENTION_DAYS
    )
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// The fleet total over the last 24 hours: each node's samples carried forward, summed per
/// minute in which any node was sampled (at most 300 points).
async fn history(pool: &PgPool) -> Result<Vec<HistoryPoint>, Error> {
    let rows = sqlx::query!(
        r#"with minutes as (
               select distinct date_trunc('minute', read_at) as at from connected_sample
               where read_at > now() - interval '24 hours'
           )
           select extract(epoch from m.at)::bigint as "at!",
                  coalesce(sum(s.total), 0)::bigint as "total!", coalesce(sum(s.proxy), 0)::bigint as "proxy!"
           from minutes m
           left join lateral (
               select distinct on (node_id) node_id, total, proxy from connected_sample
               where read_at < m.at + interval '1 minute' order by node_id, read_at desc
           ) s on true
           group by m.at order by m.at"#
    )
    .fetch_all(pool)
    .await?;
    let step = rows.len().div_ceil(300).max(1);
    Ok(rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i + 1 == rows.len())
        .map(|(_, r)| HistoryPoint {
            at: r.at,
            total: u32::try_from(r.total).unwrap_or(u32::MAX),
            proxy: u32::try_from(r.proxy).unwrap_or(u32::MAX),
        })
        .collect())
}

/// How long the REST API may take to answer.
const REST_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads one Finesse node's connected users and keeps the sample: from the ConnectedUsersInfo
/// REST API when it answers the stored account (one HTTPS request to the certificate last
/// scanned there; no SSH login in the appliance's logs every minute), else from the CLI
/// (`utils finesse show_connected_users summary`).
async fn sample(state: &Services, node_id: i64) -> Result<(), String> {
    let node = node_row(&state.pool, node_id)
        .await
        .map_err(|e| e.to_string())?;
    let (users, source) = match rest_sample(state, node_id, &node).await {
        Ok(users) => (users, "rest"),
        Err(rest) => {
            let context = RequestContext {
                principal: None,
                source: "sampler".into(),
            };
            let result = with_driver(state, &context, node_id, &node, |driver| async move {
                driver.connected_users().await
            })
            .await
            .map_err(|e| e.to_string())?;
            let users = result.map_err(|cli| format!("{cli} (REST API: {rest})"))?;
            (users, "cli")
        }
    };
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    sqlx::query!(
        "insert into connected_sample (node_id, desktop, fippa, third_party, total, lan, proxy, source)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        node_id,
        n(users.desktop),
        n(users.fippa),
        n(users.third_party),
        n(users.total),
        n(users.lan),
        n(users.proxy),
        source
    )
    .execute(&state.pool)
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The node's REST endpoint (8445, else its first endpoint) pinned to the leaf certificate its
/// last good probe saw; `Err`: why the REST API was not asked or did not answer.
async fn rest_sample(
    state: &Services,
    node_id: i64,
    node: &NodeRow,
) -> Result<vos::ConnectedUsers, String> {
    let Some((username, nonce, sealed, _)) = &node.credentials else {
        return Err("no credentials stored".into());
    };
    let endpoint = sqlx::query!(
        r#"select e.port,
                  (select c.sha256 from probe p join probe_chain c on c.probe_id = p.id and c.position = 0
                   where p.endpoint_id = e.id and p.ok order by p.probed_at desc limit 1) as pin
           from endpoint e where e.node_id = $1 order by (e.port = 8445) desc, e.id limit 1"#,
        node_id
    )
    .fetch_optional(&state.pool)
    .await
    .map_err(|e| e.to_string())?
    .ok_or("the node has no HTTPS endpoint")?;
    let pin = endpoint
        .pin
        .ok_or("its endpoint has no certificate scanned yet")?;
    let password = state
        .appliances
        .sealer
        .open(node_id, nonce, sealed)
        .ok_or("the stored password does not open with this server's secret key")?;
    // Reached at the node's address: an IP connects under the FQDN's name, a name is used as is.
    let (name, address) = match node.host.parse() {
        Ok(ip) => (node.fqdn.clone(), Some(ip)),
        Err(_) => (node.host.clone(), None),
    };
    let endpoint = vos::rest::Endpoint {
        name,
        address,
        port: u16::try_from(endpoint.port).map_err(|e| e.to_string())?,
        pin_sha256: pin,
    };
    vos::rest::connected_users(&endpoint, username, &password, REST_TIMEOUT)
        .await
        .map_err(|e| e.to_string())
}
