//! What an instance does with its token: authenticate, pull what it should serve and the
//! orders it has not taken, report what it serves; and how an admin issues and revokes it.

use super::super::{IssuedToken, Order, OrderKind, Pull, Refused, TOKEN_PREFIX};
use super::document::for_instance;
use crate::audit::store::record;
use crate::auth::principal::{Principal, PrincipalKind, RequestContext};
use crate::auth::Role;
use crate::tokens::store::digest;
use crate::Error;
use proxyconf::{Config, Report};
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

/// Issues `instance`'s token (shown once); an earlier one stops working at once.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), instance))]
pub async fn issue_token(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
) -> Result<IssuedToken, Error> {
    context.require_admin()?;
    let token = format!("{TOKEN_PREFIX}{}", crate::tokens::store::random_secret());
    let hint: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        r#"update proxy_instance i set token_hash = $2, token_hint = $3 from proxy_pair p
           where i.id = $1 and p.id = i.pair_id returning p.name || '/' || i.name as "name!""#,
        instance,
        digest(&token),
        hint
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchInstance(instance))?;
    record(
        &mut tx,
        context
            .event("proxy.token.issue", format!("proxy:{name}"))
            .after(json!({"hint": hint})),
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedToken {
        instance_id: instance,
        token,
    })
}

/// Revokes `instance`'s token: it stops working at once (a new one can be issued).
#[tracing::instrument(skip_all, fields(actor = %context.actor(), instance))]
pub async fn revoke_token(
    pool: &PgPool,
    context: &RequestContext,
    instance: i64,
) -> Result<(), Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        r#"update proxy_instance i set token_hash = null, token_hint = null from proxy_pair p
           where i.id = $1 and p.id = i.pair_id returning p.name || '/' || i.name as "name!""#,
        instance
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchInstance(instance))?;
    record(
        &mut tx,
        context.event("proxy.token.revoke", format!("proxy:{name}")),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The principal an instance token stands for: `Ok(None)` when it is unknown or replaced.
pub async fn authenticate(pool: &PgPool, token: &str) -> Result<Option<Principal>, Error> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let row = sqlx::query!(
        "select i.id, i.name, p.name as pair from proxy_instance i join proxy_pair p on p.id = i.pair_id
         where i.token_hash = $1",
        digest(token)
    )
    .fetch_optional(pool)
    .await?;
    // Named with its pair: instance names repeat from pair to pair (proxy-a, proxy-b).
    Ok(row.map(|r| Principal {
        kind: PrincipalKind::ProxyInstance {
            id: r.id,
            name: format!("{}/{}", r.pair, r.name),
        },
        role: Role::Proxy,
    }))
}

/// The pull each instance waits in on this replica: a new pull ends the one before (an
/// instance has one; a stolen token cannot pile pulls up against the database).
static PULLS: std::sync::Mutex<std::collections::BTreeMap<i64, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

fn pull_generation(instance: i64, next: bool) -> u64 {
    let mut pulls = PULLS.lock().unwrap_or_else(|e| e.into_inner());
    let generation = pulls.entry(instance).or_default();
    if next {
        *generation += 1;
    }
    *generation
}

/// What instance `context` should do next: the configuration when the one it is told to
/// serve is newer than `have`, and the orders after `taken` (of the last 8 days: the longest
/// ban an admin orders is a week, so an engine that restarted takes it again). Waits up to
/// `wait` for either; `None`: nothing new, or a newer pull of the instance took over.
pub async fn pull(
    pool: &PgPool,
    context: &RequestContext,
    have: u64,
    taken: i64,
    wait: Duration,
) -> Result<Option<Pull>, Error> {
    let instance = context.require_proxy_instance()?;
    let deadline = tokio::time::Instant::now() + wait;
    let mine = pull_generation(instance, true);
    loop {
        let row = sqlx::query!(
            r#"select i.published, i.name, c.overlays -> i.side as "overlay?", c.document as "document?"
               from proxy_instance i
               left join proxy_config c on c.pair_id = i.pair_id and c.version = i.published
               where i.id = $1"#,
            instance
        )
        .fetch_one(pool)
        .await?;
        let config = match row.document {
            Some(document) if row.published as u64 > have => {
                let document: Config = serde_json::from_value(document).map_err(Error::internal)?;
                let overlay = row.overlay.unwrap_or_default();
                Some(for_instance(&document, &overlay, &row.name)?)
            }
            _ => None,
        };
        let orders = sqlx::query!(
            "select id, command from proxy_command
             where instance_id = $1 and id > $2 and made_at > now() - interval '8 days'
             order by id limit 1000",
            instance,
            taken
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .filter_map(|r| {
            let what: OrderKind = serde_json::from_value(r.command).ok()?;
            Some(Order { id: r.id, what })
        })
        .collect::<Vec<_>>();
        if config.is_some() || !orders.is_empty() {
            return Ok(Some(Pull { config, orders }));
        }
        if tokio::time::Instant::now() >= deadline || pull_generation(instance, false) != mine {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// At most this many sessions and bans of a report are kept (the engine sends its newest).
const REPORTED_AT_MOST: usize = 2_000;

/// Keeps instance `context`'s report, at most one a second: `false` when one came within the
/// last second (the engine sends it again after a second). What it says is the instance's word, so what cannot be true is dropped (a session of
/// a login ID the engine would not accept, text with control characters).
pub async fn report(
    pool: &PgPool,
    context: &RequestContext,
    mut report: Report,
) -> Result<bool, Error> {
    let instance = context.require_proxy_instance()?;
    let plain = |t: &str| vos::driver::shown(t) == t;
    // What an admin reads of the instance's words: on one line, at most 300 characters.
    let short = |t: &str| {
        let mut shown = vos::driver::shown(t);
        if let Some((at, _)) = shown.char_indices().nth(300) {
            shown.truncate(at);
            shown.push('…');
        }
        shown
    };
    report
        .sessions
        .retain(|s| proxyconf::plausible_login(&s.user));
    report.sessions.truncate(REPORTED_AT_MOST);
    report.bans.retain(|b| {
        plain(&b.reason)
            && b.reason.chars().count() <= 200
            && match &b.target {
                proxyconf::BanTarget::Account(user) => proxyconf::plausible_login(user),
                proxyconf::BanTarget::Address(_) => true,
            }
    });
    report.bans.truncate(REPORTED_AT_MOST);
    for health in &mut report.upstreams {
        health.last_error = health.last_error.as_deref().map(short);
    }
    report.upstreams.retain(|h| plain(&h.upstream));
    report.upstreams.truncate(200);
    report.served.truncate(64);
    report
        .counters
        .retain(|k, _| k.len() <= 40 && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    if let Some(refused) = &mut report.refused {
        refused.problems.truncate(20);
        refused.problems = refused.problems.iter().map(|p| short(p)).collect();
    }
    let kept = sqlx::query!(
        "update proxy_instance set report = $2, reported_at = now()
         where id = $1 and (reported_at is null or reported_at < now() - interval '1 second')",
        instance,
        serde_json::to_value(&report).map_err(Error::internal)?
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    Ok(kept)
}
