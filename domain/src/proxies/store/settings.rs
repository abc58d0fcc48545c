//! A pair made, and its settings and overlays read and replaced (what the next plan is made
//! from; nothing reaches an instance until a plan is applied).

use super::super::{NewPair, Pair, Refused};
use super::document::overlay_problem;
use super::{merge_patch, pair, plain_name};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::Error;
use proxyconf::Config;
use serde_json::json;
use sqlx::PgPool;

/// Creates a pair with its two instances (no token yet, nothing published).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn create(pool: &PgPool, context: &RequestContext, new: NewPair) -> Result<Pair, Error> {
    context.require_admin()?;
    let name = plain_name("name", &new.name, 100)?;
    let mut instances = Vec::new();
    for (i, instance) in new.instances.iter().enumerate() {
        let n = instance.trim();
        let ok = !n.is_empty()
            && n.len() <= 63
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !ok {
            return Err(Error::field(
                &format!("instances[{i}]"),
                "use 1 to 63 letters, digits, - and .",
            ));
        }
        instances.push(n.to_owned());
    }
    if instances[0].eq_ignore_ascii_case(&instances[1]) {
        return Err(Error::field("instances[1]", "the two sides need two names"));
    }
    let map = sqlx::query!("select name from proxy_map where id = $1", new.map_id)
        .fetch_optional(pool)
        .await?
        .ok_or(Refused::NoSuchMap(new.map_id))?;
    let mut tx = pool.begin().await?;
    let settings = serde_json::to_value(&new.settings).map_err(Error::internal)?;
    let id = sqlx::query_scalar!(
        "insert into proxy_pair (name, map_id, settings) values ($1, $2, $3) returning id",
        name,
        new.map_id,
        settings
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        crate::error::on_constraint(
            e,
            "proxy_pair_name_key",
            "name",
            "a proxy pair with this name exists",
        )
    })?;
    let overlays = checked_overlays(&new.settings, new.overlays.clone())?;
    for ((side, instance), overlay) in ["a", "b"].iter().zip(&instances).zip(&overlays) {
        let overlay = if overlay.is_null() {
            json!({})
        } else {
            overlay.clone()
        };
        sqlx::query!(
            "insert into proxy_instance (pair_id, side, name, overlay) values ($1, $2, $3, $4)",
            id,
            side,
            instance,
            overlay.clone()
        )
        .execute(&mut *tx)
        .await?;
    }
    record(
        &mut tx,
        context
            .event("proxy.pair.create", format!("proxy-pair:{name}"))
            .after(json!({"id": id, "map": map.name, "instances": instances,
                          "settings": settings, "overlays": overlays})),
    )
    .await?;
    tx.commit().await?;
    pair(pool, context, id).await
}

/// Refused when a text anywhere in `value` holds a private key: the engine's keys stay on
/// its host, the document names their files (and documents reach plans, the audit log and
/// auditors).
fn no_private_key(field: &str, value: &serde_json::Value) -> Result<(), Error> {
    let holds = match value {
        serde_json::Value::String(text) => text.contains("PRIVATE KEY"),
        serde_json::Value::Array(items) => {
            return items.iter().try_for_each(|v| no_private_key(field, v))
        }
        serde_json::Value::Object(object) => {
            return object.values().try_for_each(|v| no_private_key(field, v))
        }
        _ => false,
    };
    if holds {
        return Err(Error::field(
            field,
            "a private key stays on the engine's host: give the path of its file",
        ));
    }
    Ok(())
}

/// `overlays` (absent or `null`: none) when each is an overlay that makes a document with
/// `settings`.
fn checked_overlays(
    settings: &Config,
    overlays: Option<[serde_json::Value; 2]>,
) -> Result<[serde_json::Value; 2], Error> {
    no_private_key(
        "settings",
        &serde_json::to_value(settings).map_err(Error::internal)?,
    )?;
    let overlays = overlays
        .unwrap_or_default()
        .map(|o| if o.is_null() { json!({}) } else { o });
    for (i, overlay) in overlays.iter().enumerate() {
        no_private_key(&format!("overlays[{i}]"), overlay)?;
        if !overlay.is_object() {
            return Err(Error::field(
                &format!("overlays[{i}]"),
                "a JSON object: the fields of the document that differ for this instance",
            ));
        }
        if let Some(problem) = overlay_problem(overlay) {
            return Err(Error::field(&format!("overlays[{i}]"), problem));
        }
        // It must make a document with the settings (routes and trust come with a plan).
        let mut probe = serde_json::to_value(settings).map_err(Error::internal)?;
        merge_patch(&mut probe, overlay);
        if let Err(e) = serde_json::from_value::<Config>(probe) {
            return Err(Error::field(&format!("overlays[{i}]"), e.to_string()));
        }
    }
    Ok(overlays)
}

/// Replaces pair `id`'s settings and its instances' overlays. Nothing reaches the instances
/// until a plan made after it is applied.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), pair = id))]
pub async fn update(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
    new: super::super::PairSettings,
) -> Result<Pair, Error> {
    context.require_admin()?;
    let overlays = checked_overlays(&new.settings, new.overlays)?;
    let settings = serde_json::to_value(&new.settings).map_err(Error::internal)?;
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        "select name, settings from proxy_pair where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchPair(id))?;
    let before_overlays = sqlx::query_scalar!(
        "select overlay from proxy_instance where pair_id = $1 order by side",
        id
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "update proxy_pair set settings = $2 where id = $1",
        id,
        settings
    )
    .execute(&mut *tx)
    .await?;
    // A ready plan shows what the settings were: it is no longer what would be applied.
    sqlx::query!(
        "update proxy_plan set state = 'superseded', finished_at = now() where pair_id = $1 and state = 'ready'",
        id
    )
    .execute(&mut *tx)
    .await?;
    for (side, overlay) in ["a", "b"].iter().zip(&overlays) {
        sqlx::query!(
            "update proxy_instance set overlay = $3 where pair_id = $1 and side = $2",
            id,
            side,
            overlay
        )
        .execute(&mut *tx)
        .await?;
    }
    record(
        &mut tx,
        context
            .event("proxy.pair.settings", format!("proxy-pair:{}", before.name))
            .before(json!({"settings": before.settings, "overlays": before_overlays}))
            .after(json!({"settings": settings, "overlays": overlays})),
    )
    .await?;
    tx.commit().await?;
    pair(pool, context, id).await
}

/// Pair `id`'s settings and each side's overlay, as an admin set them (what the next plan is
/// made from).
pub async fn settings(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<super::super::PairSettings, Error> {
    context.require_reader()?;
    let settings = sqlx::query_scalar!("select settings from proxy_pair where id = $1", id)
        .fetch_optional(pool)
        .await?
        .ok_or(Refused::NoSuchPair(id))?;
    let overlays = sqlx::query_scalar!(
        "select overlay from proxy_instance where pair_id = $1 order by side",
        id
    )
    .fetch_all(pool)
    .await?;
    let overlays = <[serde_json::Value; 2]>::try_from(overlays).ok();
    Ok(super::super::PairSettings {
        settings: serde_json::from_value(settings).map_err(Error::internal)?,
        overlays,
    })
}
