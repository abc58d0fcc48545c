//! The judge of transitions: after every scan (and periodically, since expiry moves with the
//! clock) each served certificate's state is compared with the last one recorded; only a
//! change makes a message, so a scan that finds nothing new sends nothing.

use super::*;

/// One transition to record.
struct Change {
    endpoint_id: i64,
    sha256: String,
    from: Option<String>,
    to: String,
    detail: Value,
}

/// Compares every served certificate's state now with the last one recorded, records the
/// changes, and queues one delivery per change and webhook. Muted alerts change state silently.
/// A certificate an endpoint no longer serves (its latest probe succeeded with another chain)
/// is a change to `gone`; an endpoint that cannot be reached keeps its last states. Returns how
/// many transitions were recorded.
pub async fn judge_transitions(pool: &PgPool, now: i64) -> Result<usize, Error> {
    let endpoints = fleet(pool, None).await?;
    let mutes = mutes(pool).await?;
    let mut tx = pool.begin().await?;
    // One judge at a time (a scan's end and the periodic pass may meet).
    sqlx::query!("select pg_advisory_xact_lock(7261122)")
        .execute(&mut *tx)
        .await?;
    let previous: HashMap<(i64, String), String> =
        sqlx::query!("select endpoint_id, sha256, state from alert_status")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| ((r.endpoint_id, r.sha256), r.state))
            .collect();
    let mut seen = HashSet::new();
    let mut changes: Vec<Change> = Vec::new();
    for e in &endpoints {
        for (position, cert) in &e.chain {
            let key = (e.endpoint_id, cert.sha256.clone());
            let state = e.state_of(cert, now).as_str();
            let before = previous.get(&key);
            seen.insert(key.clone());
            if before.map(String::as_str) == Some(state) {
                continue;
            }
            sqlx::query!(
                "insert into alert_status (endpoint_id, sha256, state) values ($1, $2, $3)
                 on conflict (endpoint_id, sha256) do update set state = excluded.state, changed_at = now()",
                e.endpoint_id,
                cert.sha256,
                state
            )
            .execute(&mut *tx)
            .await?;
            // A certificate first seen in good health is news to nobody.
            let muted = mutes.get(&key).is_some_and(|m| m.kind == "mute");
            if (before.is_none() && state == "ok") || muted {
                continue;
            }
            let detail = json!({
                "event": "alert_state_changed",
                "node_id": e.node_id, "cluster": e.cluster, "fqdn": e.fqdn, "port": e.port, "kind": e.kind,
                "chain_position": position, "fingerprint_sha256": cert.sha256,
                "subject_cn": cert.subject_cn, "issuer_cn": cert.issuer_cn,
                "from": before, "to": state, "days_left": cert.days_left(now),
                "not_after": OffsetDateTime::from_unix_timestamp(cert.not_after).map(rfc3339).unwrap_or_default(),
            });
            changes.push(Change {
                endpoint_id: e.endpoint_id,
                sha256: cert.sha256.clone(),
                from: before.cloned(),
                to: state.to_owned(),
                detail,
            });
        }
    }
    let answered: HashMap<i64, &crate::certificates::store::EndpointNow> = endpoints
        .iter()
        .filter(|e| e.probe.as_ref().is_some_and(|p| p.ok))
        .map(|e| (e.endpoint_id, e))
        .collect();
    for ((endpoint_id, sha256), before) in &previous {
        let Some(e) = answered.get(endpoint_id) else {
            continue;
        };
        if seen.contains(&(*endpoint_id, sha256.clone())) {
            continue;
        }
        sqlx::query!(
            "delete from alert_status where endpoint_id = $1 and sha256 = $2",
            endpoint_id,
            sha256
        )
        .execute(&mut *tx)
        .await?;
        let muted = mutes
            .get(&(*endpoint_id, sha256.clone()))
            .is_some_and(|m| m.kind == "mute");
        if before == "ok" || muted {
            continue;
        }
        let subject_cn = sqlx::query_scalar!(
            "select subject_cn from certificate where sha256 = $1",
            sha256
        )
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        let detail = json!({
            "event": "alert_state_changed",
            "node_id": e.node_id, "cluster": e.cluster, "fqdn": e.fqdn, "port": e.port, "kind": e.kind,
            "fingerprint_sha256": sha256, "subject_cn": subject_cn, "from": before, "to": "gone",
        });
        changes.push(Change {
            endpoint_id: *endpoint_id,
            sha256: sha256.clone(),
            from: Some(before.clone()),
            to: "gone".into(),
            detail,
        });
    }
    for change in &changes {
        let sha256 = Some(change.sha256.as_str());
        let from = change.from.as_deref();
        notify(
            &mut tx,
            Some(change.endpoint_id),
            sha256,
            from,
            &change.to,
            &change.detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changes.len())
}

/// Records one transition (of a certificate on an endpoint, or of anything else: `detail`'s
/// `event` says what) and queues one delivery of it per webhook.
pub async fn notify(
    tx: &mut sqlx::PgConnection,
    endpoint_id: Option<i64>,
    sha256: Option<&str>,
    from: Option<&str>,
    to: &str,
    detail: &Value,
) -> Result<(), Error> {
    let id = sqlx::query_scalar!(
        "insert into transition (endpoint_id, sha256, from_state, to_state, detail) values ($1, $2, $3, $4, $5) returning id",
        endpoint_id,
        sha256,
        from,
        to,
        detail
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into delivery (transition_id, webhook_id, state) select $1, id, 'pending' from webhook",
        id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
