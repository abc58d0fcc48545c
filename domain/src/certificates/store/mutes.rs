//! Muting and acknowledging alerts.

use super::*;

/// Which alert: a certificate served on one endpoint of a node.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertKey {
    pub node_id: i64,
    pub port: i32,
    pub fingerprint_sha256: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    pub node_id: i64,
    pub port: i32,
    pub fingerprint_sha256: String,
    /// Who is handling it.
    pub owner: String,
    #[serde(default)]
    pub note: String,
    /// RFC 3339 or YYYY-MM-DD (end of that day, UTC); in the future.
    pub until: String,
}

async fn endpoint_of(pool: &PgPool, node_id: i64, port: i32) -> Result<i64, Error> {
    sqlx::query_scalar!(
        "select id from endpoint where node_id = $1 and port = $2",
        node_id,
        port
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| crate::certificates::Refused::NoSuchEndpoint { node_id, port }.into())
}

fn alert_target(node_id: i64, port: i32, sha256: &str) -> String {
    format!("cert:{sha256}@node:{node_id}:{port}")
}

/// Silence the alert, or only say someone is on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MuteKind {
    Mute,
    Ack,
}

impl MuteKind {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "mute" => Ok(Self::Mute),
            "ack" => Ok(Self::Ack),
            _ => Err(Error::field("kind", "use mute or ack")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Mute => "mute",
            Self::Ack => "ack",
        }
    }
}

/// Silences (mute) or acknowledges (ack) one alert until a date, with who handles it and why;
/// audited. Either replaces the other.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = request.node_id, port = request.port))]
pub async fn mute(
    pool: &PgPool,
    context: &RequestContext,
    request: MuteRequest,
    kind: MuteKind,
) -> Result<(), Error> {
    let principal = context.require_admin()?;
    let owner = request.owner.trim().to_owned();
    let mut errors = crate::FieldErrors::new();
    if owner.is_empty() || owner.chars().count() > 100 {
        errors.insert(
            "owner".into(),
            vec!["name who handles it (1 to 100 characters)".into()],
        );
    }
    if request.note.chars().count() > 1000 {
        errors.insert("note".into(), vec!["use at most 1000 characters".into()]);
    }
    let until = crate::tokens::store::parse_expiry(&request.until);
    if let Err(message) = &until {
        errors.insert("until".into(), vec![message.clone()]);
    }
    let (Ok(until), true) = (until, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let endpoint = endpoint_of(pool, request.node_id, request.port).await?;
    let known = sqlx::query_scalar!(
        r#"select exists(select 1 from certificate where sha256 = $1) as "known!""#,
        request.fingerprint_sha256
    )
    .fetch_one(pool)
    .await?;
    if !known {
        return Err(Error::field(
            "fingerprint_sha256",
            "no certificate with this fingerprint has been seen",
        ));
    }
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into alert_mute (endpoint_id, sha256, owner, note, until, muted_by, kind) values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (endpoint_id, sha256) do update set owner = excluded.owner, note = excluded.note, until = excluded.until,
             muted_by = excluded.muted_by, kind = excluded.kind, created_at = now()",
        endpoint,
        request.fingerprint_sha256,
        owner,
        request.note,
        until,
        principal.actor(),
        kind.as_str()
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event(
                if kind == MuteKind::Mute {
                    "alert.mute"
                } else {
                    "alert.ack"
                },
                alert_target(request.node_id, request.port, &request.fingerprint_sha256),
            )
            .after(json!({"owner": owner, "note": request.note, "until": request.until})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %context.actor(), node_id = key.node_id, port = key.port))]
pub async fn unmute(pool: &PgPool, context: &RequestContext, key: AlertKey) -> Result<(), Error> {
    context.require_admin()?;
    let endpoint = endpoint_of(pool, key.node_id, key.port).await?;
    let mut tx = pool.begin().await?;
    let removed = sqlx::query_scalar!(
        "delete from alert_mute where endpoint_id = $1 and sha256 = $2 returning kind",
        endpoint,
        key.fingerprint_sha256
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(crate::certificates::Refused::NotMuted)?;
    record(
        &mut tx,
        context.event(
            if removed == "mute" {
                "alert.unmute"
            } else {
                "alert.unack"
            },
            alert_target(key.node_id, key.port, &key.fingerprint_sha256),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
