//! A pair's configuration reconciled like any other change. Desired: the document made now
//! from the pair's settings, its map's published version and the trust the console knows.
//! Plan: per instance, the version it is told to serve and every setting that changes
//! ([`super::changes`]). Apply (an admin confirms): both instances are told the plan's version
//! (they take it with their pull, within a second). Verify ([`super::verify`]): the plan is
//! applied only when both report that version in force. Drift: an instance serving another
//! version than it was told while no plan is being applied (`Instance::drift`,
//! `gatehouse_proxy_config_behind`).
//!
//! The engine's node plans read appliances over SSH; an instance states what it serves in its
//! reports, so its plan needs no read and its verification is that report.

use super::super::{PlanInstance, ProxyPlan, Refused};
use super::changes::changes;
use super::document::{document, for_instance};
use super::history::proxy_plan;
use super::verify::{OfProxyPlan, Verify};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::jobs::Kind;
use crate::Error;
use proxyconf::Config;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;

/// Makes a plan for pair `pair_id`: the next configuration version (or the newest one, when
/// nothing changed since it was made) and, per instance, what changes. A ready plan made
/// before it is superseded. Refused, with every problem, when an engine would refuse the
/// document.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), pair = pair_id))]
pub async fn plan(
    pool: &PgPool,
    context: &RequestContext,
    pair_id: i64,
) -> Result<ProxyPlan, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let id = plan_in(&mut tx, pool, context, pair_id).await?;
    tx.commit().await?;
    proxy_plan(pool, context, id).await
}

async fn plan_in(
    tx: &mut PgConnection,
    pool: &PgPool,
    context: &RequestContext,
    pair_id: i64,
) -> Result<i64, Error> {
    // One plan at a time per pair: versions are counted under this lock.
    let row = sqlx::query!(
        "select name, settings, map_id from proxy_pair where id = $1 for update",
        pair_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchPair(pair_id))?;
    let newest = sqlx::query!(
        "select version, document, overlays from proxy_config where pair_id = $1 order by version desc limit 1",
        pair_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let settings: Config = serde_json::from_value(row.settings).map_err(Error::internal)?;
    let next = newest.as_ref().map_or(1, |n| n.version + 1);
    let made = document(pool, &row.name, row.map_id, settings, next as u64).await?;
    let instances = sqlx::query!(
        r#"select i.id, i.name, i.side, i.overlay, i.published, c.document as "told?",
                  c.overlays -> i.side as "told_overlay?"
           from proxy_instance i
           left join proxy_config c on c.pair_id = i.pair_id and c.version = i.published
           where i.pair_id = $1 order by i.side"#,
        pair_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut problems = Vec::new();
    for i in &instances {
        let mine = for_instance(&made, &i.overlay, &i.name)?;
        problems.extend(mine.check().iter().map(|p| format!("{}: {p}", i.name)));
    }
    if !problems.is_empty() {
        // 422, every problem under `settings`: what an engine would refuse, by its field.
        let mut fields = crate::field_errors::FieldErrors::new();
        fields.insert("settings".to_owned(), problems);
        return Err(Error::Invalid(fields));
    }
    // What differs per instance is part of the version.
    let overlays: serde_json::Map<String, Value> = instances
        .iter()
        .map(|i| (i.side.clone(), i.overlay.clone()))
        .collect();
    let overlays = Value::Object(overlays);
    // Nothing changed since the newest version was made: plan that one, not a copy.
    let (version, document) = match newest {
        Some(n) if n.overlays == overlays && same_but_version(&n.document, &made)? => {
            let document: Config = serde_json::from_value(n.document).map_err(Error::internal)?;
            (n.version, document)
        }
        _ => {
            sqlx::query!(
                "insert into proxy_config (pair_id, version, document, overlays, made_by)
                 values ($1, $2, $3, $4, $5)",
                pair_id,
                next,
                serde_json::to_value(&made).map_err(Error::internal)?,
                overlays,
                context.actor()
            )
            .execute(&mut *tx)
            .await?;
            (next, made)
        }
    };
    let mut planned = Vec::new();
    for i in instances {
        let told = match i.told {
            Some(told) => {
                let told: Config = serde_json::from_value(told).map_err(Error::internal)?;
                let overlay = i.told_overlay.unwrap_or_default();
                Some(for_instance(&told, &overlay, &i.name)?)
            }
            None => None,
        };
        let to = for_instance(&document, &i.overlay, &i.name)?;
        planned.push(PlanInstance {
            instance_id: i.id,
            name: i.name,
            from: i.published.max(0) as u64,
            to: version as u64,
            changes: changes(told.as_ref(), &to)?,
            outcome: None,
        });
    }
    sqlx::query!(
        "update proxy_plan set state = 'superseded', finished_at = now() where pair_id = $1 and state = 'ready'",
        pair_id
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        "insert into proxy_plan (pair_id, version, state, instances, created_by)
         values ($1, $2, 'ready', $3, $4) returning id",
        pair_id,
        version,
        serde_json::to_value(&planned).map_err(Error::internal)?,
        context.actor()
    )
    .fetch_one(&mut *tx)
    .await?;
    record(
        tx,
        context
            .event("proxy.config.plan", format!("proxy-pair:{}", row.name))
            .after(json!({
                "plan": id,
                "version": version,
                "changes": planned.iter().map(|p| (p.name.clone(), p.changes.len())).collect::<BTreeMap<_, _>>(),
            })),
    )
    .await?;
    Ok(id)
}

/// Whether two documents differ only in their version number.
fn same_but_version(stored: &Value, made: &Config) -> Result<bool, Error> {
    let mut made = serde_json::to_value(made).map_err(Error::internal)?;
    let mut stored = stored.clone();
    for document in [&mut made, &mut stored] {
        if let Some(object) = document.as_object_mut() {
            object.remove("version");
        }
    }
    Ok(made == stored)
}

/// Applies ready plan `plan_id`: both instances are told its version, and a job waits for
/// their reports (the plan is `applying` until then).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), plan = plan_id))]
pub async fn apply(
    pool: &PgPool,
    context: &RequestContext,
    plan_id: i64,
) -> Result<ProxyPlan, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    apply_in(&mut tx, pool, context, plan_id).await?;
    tx.commit().await?;
    proxy_plan(pool, context, plan_id).await
}

async fn apply_in(
    tx: &mut PgConnection,
    pool: &PgPool,
    context: &RequestContext,
    plan_id: i64,
) -> Result<(), Error> {
    let plan = sqlx::query!(
        "select p.pair_id, p.version, p.state, p.instances, r.name as pair
         from proxy_plan p join proxy_pair r on r.id = p.pair_id where p.id = $1",
        plan_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchPlan(plan_id))?;
    // The pair's lock, as a plan takes it: no plan is made or applied beside this one.
    sqlx::query!(
        "select id from proxy_pair where id = $1 for update",
        plan.pair_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let state = sqlx::query_scalar!("select state from proxy_plan where id = $1", plan_id)
        .fetch_one(&mut *tx)
        .await?;
    if state != "ready" {
        return Err(Refused::NotReady(plan_id, state).into());
    }
    let planned: Vec<PlanInstance> =
        serde_json::from_value(plan.instances).map_err(Error::internal)?;
    let told = sqlx::query!(
        "select id, published from proxy_instance where pair_id = $1",
        plan.pair_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let same = told.len() == planned.len()
        && planned.iter().all(|p| {
            told.iter()
                .any(|t| t.id == p.instance_id && t.published.max(0) as u64 == p.from)
        });
    if !same {
        return Err(Refused::Stale(plan_id).into());
    }
    // What the plan shows must still be what the pair's settings, map and trust make now (a
    // map published or a certificate seen since changes it): else plan again.
    let current = sqlx::query!(
        "select r.name, r.settings, r.map_id, c.document, c.overlays
         from proxy_pair r join proxy_config c on c.pair_id = r.id and c.version = $2
         where r.id = $1",
        plan.pair_id,
        plan.version
    )
    .fetch_one(&mut *tx)
    .await?;
    let settings: Config = serde_json::from_value(current.settings).map_err(Error::internal)?;
    let made = document(
        pool,
        &current.name,
        current.map_id,
        settings,
        plan.version as u64,
    )
    .await?;
    let overlays: serde_json::Map<String, Value> = sqlx::query!(
        "select side, overlay from proxy_instance where pair_id = $1",
        plan.pair_id
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.side, r.overlay))
    .collect();
    if current.overlays != Value::Object(overlays) || !same_but_version(&current.document, &made)? {
        return Err(Refused::Changed(plan_id).into());
    }
    let superseded = sqlx::query_scalar!(
        "update proxy_plan set state = 'superseded', finished_at = now()
         where pair_id = $1 and state = 'applying' returning id",
        plan.pair_id
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "update proxy_plan set state = 'applying', confirmed_by = $2, confirmed_at = now() where id = $1",
        plan_id,
        context.actor()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update proxy_instance set published = $2 where pair_id = $1",
        plan.pair_id,
        plan.version
    )
    .execute(&mut *tx)
    .await?;
    let job = Verify::job(context.on_behalf(OfProxyPlan { plan_id }), context.actor())
        .once_at_a_time(format!("proxy-plan:{plan_id}"));
    crate::jobs::enqueue(tx, &job)
        .await
        .map_err(Error::internal)?;
    record(
        tx,
        context
            .event("proxy.config.apply", format!("proxy-pair:{}", plan.pair))
            .after(json!({"plan": plan_id, "version": plan.version, "superseded": superseded})),
    )
    .await?;
    Ok(())
}

/// Plans and applies pair `pair_id`'s configuration at once (a script's shortcut; both steps
/// are audited as they are from the page).
pub async fn publish(
    pool: &PgPool,
    context: &RequestContext,
    pair_id: i64,
) -> Result<ProxyPlan, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let id = plan_in(&mut tx, pool, context, pair_id).await?;
    apply_in(&mut tx, pool, context, id).await?;
    tx.commit().await?;
    proxy_plan(pool, context, id).await
}
