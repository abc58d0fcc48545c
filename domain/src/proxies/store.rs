//! Pairs, their configuration versions, their instances' tokens, pulls and reports.

use super::{
    BanView, Instance, IssuedToken, NewBan, NewPair, Order, OrderKind, Pair, Pull, Refused,
    SessionView, TOKEN_PREFIX,
};
use crate::audit::store::record;
use crate::auth::principal::{Principal, PrincipalKind, RequestContext};
use crate::auth::Role;
use crate::dates::rfc3339;
use crate::inventory::model::NodeKind;
use crate::Error;
use proxyconf::{Ban, BanOrigin, BanTarget, Component, Config, Report, Route};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use time::OffsetDateTime;

/// `target` with `patch` applied (a JSON merge patch, RFC 7386: objects merge, `null`
/// removes, anything else replaces).
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(object) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Instance `name`'s document: the pair's with its overlay.
/// Instance `name`'s document: the pair's with its overlay.
fn for_instance(
    document: &Config,
    overlay: &serde_json::Value,
    name: &str,
) -> Result<Config, Error> {
    let mut value = serde_json::to_value(document).map_err(Error::internal)?;
    merge_patch(&mut value, overlay);
    serde_json::from_value(value).map_err(|e| {
        Error::field(
            "overlays",
            format!("{name}'s overlay does not make a document: {e}"),
        )
    })
}

/// What an overlay may change: where the instance listens and reports, who it is upstream and
/// toward its peer. Routes, trust, limits and the version stay the pair's (the console's).
const OVERLAY_KEYS: [&str; 4] = ["listeners", "upstream", "status", "peer"];
const OVERLAY_UPSTREAM_KEYS: [&str; 2] = ["bind", "client_certificate"];
const OVERLAY_STATUS_KEYS: [&str; 2] = ["address", "proxymap_address"];

/// Why `overlay` is not an overlay, if it is not.
fn overlay_problem(overlay: &serde_json::Value) -> Option<String> {
    let object = overlay.as_object()?;
    for (key, value) in object {
        let allowed: &[&str] = match key.as_str() {
            "upstream" => &OVERLAY_UPSTREAM_KEYS,
            "status" => &OVERLAY_STATUS_KEYS,
            k if OVERLAY_KEYS.contains(&k) => continue,
            other => {
                return Some(format!(
                    "{other} is the pair's, not an instance's: an overlay sets only {}",
                    OVERLAY_KEYS.join(", ")
                ))
            }
        };
        if let Some(inner) = value.as_object() {
            if let Some(bad) = inner.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Some(format!(
                    "{key}.{bad} is the pair's: an overlay sets only {key}.{}",
                    allowed.join(", {key}.")
                ));
            }
        }
    }
    None
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

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
    let overlays =
        new.overlays
            .clone()
            .unwrap_or_default()
            .map(|o| if o.is_null() { json!({}) } else { o });
    for (i, overlay) in overlays.iter().enumerate() {
        if !overlay.is_object() {
            return Err(Error::field(
                &format!("overlays[{i}]"),
                "a JSON object: the fields of the document that differ for this instance",
            ));
        }
        if let Some(problem) = overlay_problem(overlay) {
            return Err(Error::field(&format!("overlays[{i}]"), problem));
        }
        // It must make a document with the settings (routes and trust come at publication).
        let mut probe = serde_json::to_value(&new.settings).map_err(Error::internal)?;
        merge_patch(&mut probe, overlay);
        if let Err(e) = serde_json::from_value::<Config>(probe) {
            return Err(Error::field(&format!("overlays[{i}]"), e.to_string()));
        }
    }
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
        r#"select i.id, i.pair_id, p.name as pair, i.side, i.name, i.published, i.token_hint, i.overlay,
                  i.token_hash is not null as "has_token!", i.report, i.reported_at,
                  coalesce(i.reported_at > now() - interval '1 minute', false) as "fresh!",
                  c.document as "document?"
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
                merge_patch(&mut v, &r.overlay);
                serde_json::from_value(v).ok()
            });
            let health = match (&report, r.fresh) {
                (None, _) => "never",
                (Some(_), false) => "silent",
                (Some(report), true) if report.upstreams.iter().any(|u| !u.up) => "degraded",
                (Some(_), true) => "up",
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
                published: r.published.max(0) as u64,
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
            }
        })
        .collect())
}

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

/// Makes the pair's next configuration version from its settings, its map's published
/// version and the trust the console knows, and tells both instances to serve it. Refused,
/// with every problem, when an engine would refuse it.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), pair = pair_id))]
pub async fn publish(pool: &PgPool, context: &RequestContext, pair_id: i64) -> Result<Pair, Error> {
    context.require_admin()?;
    let mut tx = pool.begin().await?;
    // One publication at a time per pair: versions are counted under this lock.
    let row = sqlx::query!(
        "select name, settings, map_id from proxy_pair where id = $1 for update",
        pair_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refused::NoSuchPair(pair_id))?;
    // Read after the lock is held: a publication that waited for it counts the one before.
    let latest = sqlx::query_scalar!(
        "select max(version) from proxy_config where pair_id = $1",
        pair_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let version = latest.unwrap_or(0) + 1;
    let settings: Config = serde_json::from_value(row.settings).map_err(Error::internal)?;
    let document = document(pool, &row.name, row.map_id, settings, version as u64).await?;
    let overlays = sqlx::query!(
        "select id, name, overlay from proxy_instance where pair_id = $1 order by side",
        pair_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut problems = Vec::new();
    for o in &overlays {
        let mine = for_instance(&document, &o.overlay, &o.name)?;
        problems.extend(mine.check().iter().map(|p| format!("{}: {p}", o.name)));
    }
    if !problems.is_empty() {
        // 422, every problem under `settings`: what an engine would refuse, by its field.
        let mut fields = crate::field_errors::FieldErrors::new();
        fields.insert("settings".to_owned(), problems);
        return Err(Error::Invalid(fields));
    }
    sqlx::query!(
        "insert into proxy_config (pair_id, version, document, made_by) values ($1, $2, $3, $4)",
        pair_id,
        version,
        serde_json::to_value(&document).map_err(Error::internal)?,
        context.actor()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update proxy_instance set published = $2 where pair_id = $1",
        pair_id,
        version
    )
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        context
            .event("proxy.config.publish", format!("proxy-pair:{}", row.name))
            .after(json!({
                "version": version,
                "routes": document.routes.iter().map(|r| format!("{} -> {}", r.external, r.internal)).collect::<Vec<_>>(),
                "trusted_certificates": document.upstream.trust.len(),
            })),
    )
    .await?;
    tx.commit().await?;
    pair(pool, context, pair_id).await
}

/// The document for `version`: `settings` with the routes of the map's published version
/// (each with the component and address the inventory gives its internal host), the trust
/// (the map cluster's CAs and the certificates its nodes were last seen serving) and the map.
async fn document(
    pool: &PgPool,
    pair: &str,
    map_id: i64,
    mut config: Config,
    version: u64,
) -> Result<Config, Error> {
    let map = sqlx::query!(
        r#"select m.name, m.cluster_id, v.text as "text?"
           from proxy_map m left join proxy_map_version v
             on v.map_id = m.id and v.version = m.published_version
           where m.id = $1"#,
        map_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Refused::NoSuchMap(map_id))?;
    let Some(text) = map.text else {
        return Err(Refused::NotPublished(map.name).into());
    };
    let parsed = proxymap::parse(&text);
    let nodes = sqlx::query!(
        "select id, fqdn, kind, address from node where cluster_id = $1",
        map.cluster_id
    )
    .fetch_all(pool)
    .await?;
    let mut routes = Vec::new();
    let mut node_ids = Vec::new();
    for m in &parsed.mappings {
        let host = m.internal.host.folded();
        let node = nodes.iter().find(|n| n.fqdn.eq_ignore_ascii_case(&host));
        let component = match node.and_then(|n| NodeKind::parse(&n.kind).ok()) {
            Some(NodeKind::Finesse) => Component::Finesse,
            Some(NodeKind::Ids) => Component::Ids,
            Some(NodeKind::Idp) => Component::Idp,
            Some(NodeKind::Cuic) => Component::Cuic,
            Some(NodeKind::LiveData) => Component::LiveData,
            Some(NodeKind::SocialMiner) => Component::Chat,
            _ => Component::Other,
        };
        let address = node
            .and_then(|n| n.address.as_deref())
            .and_then(|a| a.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, m.internal.port));
        if let Some(n) = node {
            node_ids.push(n.id);
        }
        routes.push(Route {
            external: m.external.clone(),
            internal: m.internal.clone(),
            address,
            component,
        });
    }
    let mut trust: Vec<Vec<u8>> = sqlx::query_scalar!(
        "select der from cluster_ca where cluster_id = $1 order by sha256",
        map.cluster_id
    )
    .fetch_all(pool)
    .await?;
    trust.extend(
        sqlx::query_scalar!(
            "select distinct c.der from endpoint e
             join lateral (select p.id from probe p where p.endpoint_id = e.id and p.ok
                           order by p.probed_at desc limit 1) last on true
             join probe_chain pc on pc.probe_id = last.id
             join certificate c on c.sha256 = pc.sha256
             where e.node_id = any($1)",
            &node_ids
        )
        .fetch_all(pool)
        .await?,
    );
    trust.sort();
    trust.dedup();
    config.schema = proxyconf::SCHEMA;
    config.version = version;
    config.pair = pair.to_owned();
    config.routes = routes;
    config
        .upstream
        .trust
        .extend(trust.iter().map(|der| certs::analyze::pem(der)));
    config.status.proxymap = parsed.render();
    Ok(config)
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
            r#"select i.published, i.name, i.overlay, c.document as "document?"
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
                Some(for_instance(&document, &row.overlay, &row.name)?)
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

/// Keeps instance `context`'s report (at most one a second; the engine reports again within
/// five): what it says is the instance's word, so what cannot be true is dropped (a session of
/// a login ID the engine would not accept, text with control characters).
pub async fn report(
    pool: &PgPool,
    context: &RequestContext,
    mut report: Report,
) -> Result<(), Error> {
    let instance = context.require_proxy_instance()?;
    let plain = |t: &str| {
        !t.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    };
    report
        .sessions
        .retain(|s| proxyconf::plausible_login(&s.user));
    report.sessions.truncate(REPORTED_AT_MOST);
    report.bans.retain(|b| {
        plain(&b.reason)
            && match &b.target {
                proxyconf::BanTarget::Account(user) => proxyconf::plausible_login(user),
                proxyconf::BanTarget::Address(_) => true,
            }
    });
    report.bans.truncate(REPORTED_AT_MOST);
    for health in &mut report.upstreams {
        if health.last_error.as_deref().is_some_and(|e| !plain(e)) {
            health.last_error = Some("(an error with control characters, not shown)".into());
        }
    }
    report.upstreams.retain(|h| plain(&h.upstream));
    report.upstreams.truncate(200);
    report.served.truncate(64);
    report
        .counters
        .retain(|k, _| k.len() <= 40 && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    if let Some(refused) = &mut report.refused {
        refused.problems.retain(|p| plain(p));
        refused.problems.truncate(50);
    }
    sqlx::query!(
        "update proxy_instance set report = $2, reported_at = now()
         where id = $1 and (reported_at is null or reported_at < now() - interval '1 second')",
        instance,
        serde_json::to_value(&report).map_err(Error::internal)?
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn last_report(pool: &PgPool, instance: i64) -> Result<Report, Error> {
    let report = sqlx::query_scalar!("select report from proxy_instance where id = $1", instance)
        .fetch_optional(pool)
        .await?
        .ok_or(Refused::NoSuchInstance(instance))?;
    Ok(report
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

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
) -> Result<super::PairDetail, Error> {
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
                Some(super::ServedView {
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
        instances.push(super::InstanceDetail {
            instance: instance.clone(),
            sessions: sessions(pool, context, instance.id).await?,
            bans: bans(pool, context, instance.id).await?,
            upstreams: report
                .upstreams
                .iter()
                .map(|h| super::UpstreamView {
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
    Ok(super::PairDetail { pair, instances })
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

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn a_merge_patch_merges_objects_replaces_the_rest_and_removes_nulls() {
        let mut doc = json!({"listeners": [{"address": "0.0.0.0:443"}], "upstream": {"bind": "10.0.0.1", "trust": ["x"]}, "pair": "p"});
        merge_patch(
            &mut doc,
            &json!({"listeners": [{"address": "10.0.0.2:443"}], "upstream": {"bind": "10.0.0.2"}, "pair": null}),
        );
        assert_eq!(
            doc,
            json!({"listeners": [{"address": "10.0.0.2:443"}], "upstream": {"bind": "10.0.0.2", "trust": ["x"]}})
        );
        merge_patch(&mut doc, &json!({}));
        assert_eq!(doc["upstream"]["trust"], json!(["x"]));
    }
}
