//! Who is connected through an instance and whom it bans (as it last reported), the pair
//! page, and the bans and lifts an admin orders for both instances.

use super::super::{BanView, NewBan, OrderKind, Refused, SessionView};
use super::{last_report, pair, plain_name, unix};
use crate::audit::store::record;
use crate::auth::principal::RequestContext;
use crate::dates::rfc3339;
use crate::Error;
use proxyconf::{Ban, BanOrigin, BanTarget};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::IpAddr;
use time::OffsetDateTime;

/// Who is connected through `instance`, as it last reported.
pub async fn sessions(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
) -> Result<Vec<SessionView>, Error> {
    context.require_reader()?;
    Ok(last_report(pool, instance)
        .await?
        .sessions
        .into_iter()
        .map(|s| SessionView {
            user: s.user,
            address: s.address.to_string(),
            first: unix(s.first),
            last: unix(s.last),
            requests: s.requests,
            websockets: s.websockets,
        })
        .collect())
}

/// Whom `instance` bans, as it last reported.
pub async fn bans(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
) -> Result<Vec<BanView>, Error> {
    context.require_reader()?;
    let now = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    Ok(last_report(pool, instance)
        .await?
        .bans
        .into_iter()
        .filter(|b| b.until > now)
        .map(|b| BanView {
            key: match &b.target {
                BanTarget::Address(a) => a.to_string(),
                BanTarget::Account(user) => format!("account:{user}"),
            },
            target: b.target.to_string(),
            reason: b.reason,
            since: unix(b.since),
            until: unix(b.until),
            seconds_left: b.until.saturating_sub(now),
            origin: match b.origin {
                BanOrigin::Here => "here",
                BanOrigin::Peer => "peer",
                BanOrigin::Console => "console",
            }
            .to_owned(),
        })
        .collect())
}

/// The pair page: each instance with what it last reported.
pub async fn detail(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<super::super::PairDetail, Error> {
    let pair = pair(pool, context, id).await?;
    let mut instances = Vec::new();
    for instance in &pair.instances {
        let report = last_report(pool, instance.id).await?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let served = report
            .served
            .iter()
            .filter_map(|s| {
                let der = certs::analyze::pem_certificates(&s.pem)
                    .ok()?
                    .into_iter()
                    .next()?;
                let info = certs::analyze::parse(&der).ok()?;
                Some(super::super::ServedView {
                    listener: s.listener.map(|l| l.to_string()),
                    subject: info.subject_cn.clone().unwrap_or(info.subject.clone()),
                    not_after: OffsetDateTime::from_unix_timestamp(info.not_after)
                        .map(rfc3339)
                        .unwrap_or_default(),
                    days_left: (info.not_after - now).div_euclid(86_400),
                    sha256: hex::encode(Sha256::digest(&der)),
                })
            })
            .collect();
        instances.push(super::super::InstanceDetail {
            instance: instance.clone(),
            sessions: sessions(pool, context, instance.id).await?,
            bans: bans(pool, context, instance.id).await?,
            upstreams: report
                .upstreams
                .iter()
                .map(|h| super::super::UpstreamView {
                    upstream: h.upstream.clone(),
                    up: h.up,
                    last_ok: h.last_ok.map(unix),
                    last_error: h.last_error.clone(),
                })
                .collect(),
            served,
            counters: report.counters.into_iter().collect(),
            cache_entries: report.cache.entries,
            cache_hits: report.cache.hits,
        });
    }
    let plans = super::plans(pool, context, id).await?;
    Ok(super::super::PairDetail {
        pair,
        instances,
        plans,
    })
}

/// A ban target as the REST path names it: an address, or `account:<login ID>`.
fn target(text: &str) -> Result<BanTarget, Error> {
    if let Some(user) = text.strip_prefix("account:") {
        if proxyconf::plausible_login(user) {
            return Ok(BanTarget::Account(user.to_ascii_lowercase()));
        }
    } else if let Ok(ip) = text.trim().parse::<IpAddr>() {
        return Ok(BanTarget::Address(proxyconf::canonical(ip)));
    }
    Err(Error::field(
        "ip",
        "an IPv4 or IPv6 address, or account:<login ID>",
    ))
}

/// Bans an address on both instances of `instance`'s pair (with their next pull, within a
/// second while they are connected).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), instance))]
pub async fn ban(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
    new: NewBan,
) -> Result<(), Error> {
    context.require_admin()?;
    let target = target(&new.ip)?;
    if !(1..=7 * 24 * 60).contains(&new.minutes) {
        return Err(Error::field("minutes", "1 to 10080 (a week)"));
    }
    let reason = plain_name("reason", &new.reason, 200)?;
    let since = OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let ban = Ban {
        target: target.clone(),
        reason: reason.clone(),
        since,
        until: since + new.minutes * 60,
        origin: BanOrigin::Console,
    };
    order(
        pool,
        context,
        instance,
        OrderKind::Ban { ban },
        "proxy.ban.add",
        json!({"target": target.to_string(), "minutes": new.minutes, "reason": reason}),
    )
    .await
}

/// Lifts a ban on both instances of `instance`'s pair.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), instance))]
pub async fn lift(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
    which: &str,
) -> Result<(), Error> {
    context.require_admin()?;
    let target = target(which)?;
    let about = json!({"target": target.to_string()});
    order(
        pool,
        context,
        instance,
        OrderKind::Lift { target },
        "proxy.ban.lift",
        about,
    )
    .await
}

/// Gives both instances of `instance`'s pair an order, audited as `action`.
async fn order(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
    what: OrderKind,
    action: &str,
    about: serde_json::Value,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let pair = sqlx::query!(
        "select p.id, p.name from proxy_instance i join proxy_pair p on p.id = i.pair_id where i.id = $1",
        instance
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchInstance(instance))?;
    let command = serde_json::to_value(&what).map_err(Error::internal)?;
    sqlx::query!(
        "insert into proxy_command (instance_id, command)
         select id, $2 from proxy_instance where pair_id = $1",
        pair.id,
        command
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event(action, format!("proxy-pair:{}", pair.name))
            .after(about),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
