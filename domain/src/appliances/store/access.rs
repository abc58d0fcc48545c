//! A node's access: its platform admin account (sealed at rest), its SSH host key (pinned on
//! first use, confirmed or replaced by an admin), and the connection test.

use super::*;
use vos::driver::Command;
use vos::ssh::Dialect;

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

/// A node's SSH port, account name and host key (readers; the password never leaves).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn access(
    pool: &PgPool,
    context: &RequestContext,
    node_id: i64,
) -> Result<Access, Error> {
    context.require_reader()?;
    let r = sqlx::query!(
        r#"select n.ssh_port, c.username as "username?", c.updated_at as "updated_at?", c.updated_by as "updated_by?"
           from node n left join node_credential c on c.node_id = n.id where n.id = $1"#,
        node_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(crate::inventory::Refused::NoSuchNode(node_id))?;
    Ok(Access {
        ssh_port: u16::try_from(r.ssh_port).unwrap_or(22),
        username: r.username,
        credentials_updated_at: r.updated_at.map(rfc3339),
        credentials_updated_by: r.updated_by,
        host_key: host_key(pool, node_id).await?,
        identity_changed: node_row(pool, node_id)
            .await?
            .identity_changed()
            .map(|changed| changed.to_string()),
    })
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn set_credentials(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
    input: crate::appliances::CredentialsInput,
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
        return Err(Error::Invalid(errors));
    }
    let node = node_row(&state.pool, node_id).await?;
    let fqdn = node.fqdn.clone();
    let (nonce, sealed) = state
        .appliances
        .sealer
        .seal(node_id, &input.password)
        .map_err(|_| Error::internal(anyhow::anyhow!("sealing the password failed")))?;
    let mut tx = state.pool.begin().await?;
    sqlx::query!(
        "insert into node_credential (node_id, username, nonce, sealed, updated_by, bound_host, bound_port, bound_fqdn)
         values ($1, $2, $3, $4, $5, $6, $8, $7)
         on conflict (node_id) do update set username = $2, nonce = $3, sealed = $4, updated_at = now(), updated_by = $5,
                                             bound_host = $6, bound_port = $8, bound_fqdn = $7",
        node_id,
        username,
        nonce,
        sealed,
        actor,
        node.host,
        node.fqdn,
        i32::from(input.port.unwrap_or(node.port))
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
                "platform admin account {username}{port} for {} (password sealed, not logged)",
                node.host
            )),
    )
    .await?;
    tx.commit().await?;
    state.appliances.forget(node_id);
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id, fingerprint = %fingerprint))]
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
        (None, None) => return Err(crate::appliances::Refused::NoHostKeyYet.into()),
        _ => {
            return Err(Error::field(
                "fingerprint",
                "this is not the key the node presented; compare the fingerprint again",
            ))
        }
    };
    // The admin checked the key on the node itself: its credentials may go to it as it is now.
    bind(&mut tx, node_id, &node).await?;
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

#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = node_id))]
pub async fn test_connection(
    state: &Services,
    context: &RequestContext,
    node_id: i64,
) -> Result<ConnectionTest, Error> {
    context.require_admin()?;
    let node = node_row(&state.pool, node_id).await?;
    let started = Instant::now();
    // BroadWorks' CLI has no `show version active`: its `help` proves the session.
    let dialect = node.dialect();
    let result = with_driver(
        state,
        context,
        node_id,
        &node,
        Purpose::Confirm,
        |driver| async move {
            match dialect {
                Dialect::BroadWorks => {
                    driver.run(Command::new(vos::cli!("help"))).await?;
                    Ok(None)
                }
                Dialect::Vos => driver.version().await.map(|v| Some(v.active)),
            }
        },
    )
    .await?;
    let (prompt, command) = match dialect {
        Dialect::BroadWorks => ("the BroadWorks CLI", "help"),
        Dialect::Vos => ("prompt admin:", "show version active"),
    };
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let host_key = host_key(&state.pool, node_id).await?;
    // Reached through the pinned host key: the node as it is now is the one the credentials
    // were entered for. Bind them to it (said in the message and the audit entry).
    let rebound = match (&result, node.identity_changed()) {
        (Ok(_), Some(NodeFailure::IdentityChanged { bound, now, .. })) => {
            let mut connection = state.pool.acquire().await?;
            bind(&mut connection, node_id, &node).await?;
            format!(
                " The credentials are now bound to {now} (were {}).",
                bound.as_deref().unwrap_or("bound to nothing")
            )
        }
        _ => String::new(),
    };
    let test = match result {
        Ok(version) => ConnectionTest {
            ok: true,
            prompt: Some(match dialect {
                Dialect::BroadWorks => "XSP|ADP|AS_CLI>".into(),
                Dialect::Vos => vos::ssh::PROMPT.into(),
            }),
            message: format!(
                "Connected to {}:{} as {}: {prompt}{} ({latency} ms).{rebound}",
                node.host,
                node.port,
                node.credentials
                    .as_ref()
                    .map(|c| c.0.as_str())
                    .unwrap_or_default(),
                version
                    .as_deref()
                    .map(|v| format!(", version {v}"))
                    .unwrap_or_default()
            ),
            version,
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
            .detail(format!("{command}: {}", test.message)),
    )
    .await?;
    Ok(test)
}

/// Binds the node's credentials to its host and FQDN as they are now.
async fn bind(
    connection: &mut sqlx::PgConnection,
    node_id: i64,
    node: &NodeRow,
) -> Result<(), Error> {
    sqlx::query!(
        "update node_credential set bound_host = $2, bound_port = $4, bound_fqdn = $3 where node_id = $1",
        node_id,
        node.host,
        node.fqdn,
        i32::from(node.port)
    )
    .execute(connection)
    .await?;
    Ok(())
}
