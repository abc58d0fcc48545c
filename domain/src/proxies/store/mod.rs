//! Pairs, their configuration versions, their instances' tokens, pulls and reports.

mod bans;
mod changes;
mod document;
mod history;
mod plan;
mod settings;
mod tokens;
mod verify;

pub use bans::{ban, bans, detail, lift, sessions};
pub use changes::changes;
pub use document::merge_patch;
pub use history::{plans, proxy_plan, prune};
pub use plan::{apply, plan, publish};
pub use settings::{create, settings, update};
pub use tokens::{authenticate, issue_token, pull, report, revoke_token};
pub use verify::{register, Verify, VERIFY_WITHIN};

use super::{Instance, Pair, Refused};
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use proxyconf::{Config, Report};
use sqlx::PgPool;
use time::OffsetDateTime;

/// Seconds since the Unix epoch as RFC 3339.
fn unix(secs: u64) -> String {
    OffsetDateTime::from_unix_timestamp(secs.min(253_402_300_799) as i64)
        .map(rfc3339)
        .unwrap_or_default()
}

/// A name an admin gives: 1 to `max` characters, none of them control characters.
fn plain_name(field: &str, value: &str, max: usize) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(Error::field(
            field,
            format!("use 1 to {max} characters, no control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Every pair with its instances.
pub async fn pairs(pool: &PgPool, context: &RequestContext) -> Result<Vec<Pair>, Error> {
    context.require_reader()?;
    let ids = sqlx::query_scalar!("select id from proxy_pair order by name")
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(pair(pool, context, id).await?);
    }
    Ok(out)
}

pub async fn pair(pool: &PgPool, context: &RequestContext, id: i64) -> Result<Pair, Error> {
    context.require_reader()?;
    let row = sqlx::query!(
        r#"select p.id, p.name, p.map_id, m.name as map,
                  (select max(version) from proxy_config c where c.pair_id = p.id) as "version?"
           from proxy_pair p join proxy_map m on m.id = p.map_id where p.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Refused::NoSuchPair(id))?;
    let instances = instance_rows(pool, Some(id)).await?;
    Ok(Pair {
        id: row.id,
        name: row.name,
        map_id: row.map_id,
        map: row.map,
        version: row.version.unwrap_or(0).max(0) as u64,
        instances,
    })
}

/// Every instance, for `/metrics` (a monitor may read these counts).
pub async fn for_monitoring(
    pool: &PgPool,
    context: &RequestContext,
) -> Result<Vec<Instance>, Error> {
    context.require_monitor()?;
    instance_rows(pool, None).await
}

/// The agents connected through the instances that reported within the last minute.
pub async fn proxied_agents(pool: &PgPool) -> Result<Vec<super::ProxiedAgent>, Error> {
    let rows = sqlx::query!(
        r#"select p.name as pair, i.name, i.report as "report!"
           from proxy_instance i join proxy_pair p on p.id = i.pair_id
           where i.report is not null and i.reported_at > now() - interval '1 minute'
           order by p.name, i.side"#
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let Ok(report) = serde_json::from_value::<Report>(r.report) else {
            continue;
        };
        out.extend(report.sessions.into_iter().map(|s| super::ProxiedAgent {
            user: s.user,
            address: s.address.to_string(),
            pair: r.pair.clone(),
            instance: r.name.clone(),
            websockets: s.websockets,
            last: unix(s.last),
        }));
    }
    out.sort_by(|a, b| (&a.user, &a.instance).cmp(&(&b.user, &b.instance)));
    Ok(out)
}

/// Every instance (`GET /api/v1/proxies`).
pub async fn instances(pool: &PgPool, context: &RequestContext) -> Result<Vec<Instance>, Error> {
    context.require_reader()?;
    instance_rows(pool, None).await
}

pub async fn instance(pool: &PgPool, context: &RequestContext, id: i64) -> Result<Instance, Error> {
    context.require_reader()?;
    instance_rows(pool, None)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| Refused::NoSuchInstance(id).into())
}

async fn instance_rows(pool: &PgPool, pair: Option<i64>) -> Result<Vec<Instance>, Error> {
    let rows = sqlx::query!(
        r#"select i.id, i.pair_id, p.name as pair, i.side, i.name, i.published, i.token_hint,
                  c.overlays -> i.side as "overlay?",
                  i.token_hash is not null as "has_token!", i.report, i.reported_at,
                  coalesce(i.reported_at > now() - interval '1 minute', false) as "fresh!",
                  c.document as "document?",
                  exists(select 1 from proxy_plan pp where pp.pair_id = i.pair_id and pp.state = 'applying') as "applying!"
           from proxy_instance i join proxy_pair p on p.id = i.pair_id
           left join proxy_config c on c.pair_id = i.pair_id and c.version = i.published
           where $1::bigint is null or i.pair_id = $1
           order by p.name, i.side"#,
        pair
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let report: Option<Report> = r.report.and_then(|v| serde_json::from_value(v).ok());
            let config: Option<Config> = r.document.and_then(|mut v| {
                merge_patch(&mut v, r.overlay.as_ref().unwrap_or(&serde_json::Value::Null));
                serde_json::from_value(v).ok()
            });
            let health = match (&report, r.fresh) {
                (None, _) => "never",
                (Some(_), false) => "silent",
                (Some(report), true) if report.upstreams.iter().any(|u| !u.up) => "degraded",
                (Some(_), true) => "up",
            };
            let published = r.published.max(0) as u64;
            let drift = match &report {
                Some(report) if published > 0 && !r.applying && report.version != published => {
                    Some(match &report.refused {
                        Some(f) if f.version == published => format!(
                            "serves version {} and refused version {published}, which it was told: {}",
                            report.version,
                            f.problems.join("; ")
                        ),
                        _ => format!(
                            "serves version {}, not version {published}, which it was told",
                            report.version
                        ),
                    })
                }
                _ => None,
            };
            Instance {
                id: r.id,
                pair_id: r.pair_id,
                pair: r.pair,
                side: r.side,
                name: r.name,
                listen: config
                    .map(|c| c.listeners.iter().map(|l| l.address.to_string()).collect())
                    .unwrap_or_default(),
                published,
                in_force: report.as_ref().map_or(0, |r| r.version),
                refused: report.as_ref().and_then(|r| {
                    r.refused
                        .as_ref()
                        .map(|f| format!("version {}: {}", f.version, f.problems.join("; ")))
                }),
                health: health.to_owned(),
                last_seen: r.reported_at.map(rfc3339),
                has_token: r.has_token,
                token_hint: r.token_hint,
                sessions: report.as_ref().map_or(0, |r| r.sessions.len()),
                bans: report.as_ref().map_or(0, |r| r.bans.len()),
                drift,
            }
        })
        .collect())
}

/// Instance `instance`'s last report (empty when it never reported).
pub(super) async fn last_report(pool: &PgPool, instance: i64) -> Result<Report, Error> {
    let report = sqlx::query_scalar!("select report from proxy_instance where id = $1", instance)
        .fetch_optional(pool)
        .await?
        .ok_or(Refused::NoSuchInstance(instance))?;
    Ok(report
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}
