//! A pair's configuration reconciled like any other change. Desired: the document made now
//! from the pair's settings, its map's published version and the trust the console knows.
//! Plan: per instance, the version it is told to serve and every setting that changes. Apply
//! (an admin confirms): both instances are told the plan's version (they take it with their
//! pull, within a second). Verify: the plan is applied only when both report that version in
//! force; it fails with the instance's words when one refuses it, or says which one stayed
//! behind after [`VERIFY_WITHIN`]. Drift: an instance serving another version than it was told
//! while no plan is being applied (`Instance::drift`, `gatehouse_proxy_config_behind`).
//!
//! The engine's node plans read appliances over SSH; an instance states what it serves in its
//! reports, so its plan needs no read and its verification is that report.

use super::super::{ConfigChange, PlanInstance, ProxyPlan, Refused};
use super::document::{document, for_instance};
use crate::audit::store::{record, Outcome};
use crate::auth::principal::{OnBehalf, RequestContext};
use crate::dates::rfc3339;
use crate::jobs::{Ending, Job, Kind, Kinds};
use crate::{Error, Services};
use proxyconf::{Config, Report};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long an applied plan waits for both instances to report its version in force (an
/// instance pulls within a second and reports within five).
pub const VERIFY_WITHIN: Duration = Duration::from_secs(60);

/// At most this many changes are listed per instance (the rest are counted in one line).
const CHANGES_AT_MOST: usize = 400;

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

/// Plan `id`.
pub async fn proxy_plan(
    pool: &PgPool,
    context: &RequestContext,
    id: i64,
) -> Result<ProxyPlan, Error> {
    context.require_reader()?;
    rows(pool, None, Some(id), 1)
        .await?
        .pop()
        .ok_or_else(|| Refused::NoSuchPlan(id).into())
}

/// Pair `pair_id`'s newest plans (at most 20), newest first.
pub async fn plans(
    pool: &PgPool,
    context: &RequestContext,
    pair_id: i64,
) -> Result<Vec<ProxyPlan>, Error> {
    context.require_reader()?;
    rows(pool, Some(pair_id), None, 20).await
}

async fn rows(
    pool: &PgPool,
    pair: Option<i64>,
    id: Option<i64>,
    limit: i64,
) -> Result<Vec<ProxyPlan>, Error> {
    let rows = sqlx::query!(
        "select p.id, p.pair_id, r.name as pair, p.version, p.state, p.instances, p.created_by,
                p.created_at, p.confirmed_by, p.confirmed_at, p.finished_at, p.error
         from proxy_plan p join proxy_pair r on r.id = p.pair_id
         where ($1::bigint is null or p.pair_id = $1) and ($2::bigint is null or p.id = $2)
         order by p.id desc limit $3",
        pair,
        id,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ProxyPlan {
                id: r.id,
                pair_id: r.pair_id,
                pair: r.pair,
                version: r.version.max(0) as u64,
                state: r.state,
                instances: serde_json::from_value(r.instances).map_err(Error::internal)?,
                created_by: r.created_by,
                created_at: rfc3339(r.created_at),
                confirmed_by: r.confirmed_by,
                confirmed_at: r.confirmed_at.map(rfc3339),
                finished_at: r.finished_at.map(rfc3339),
                error: r.error,
            })
        })
        .collect()
}

/// Every setting that differs between the document an instance was told to serve (`None`:
/// none) and `new`, by path, in path order. Lists are compared by their entries (a route by
/// its external host, a listener by its address, a certificate by its subject and
/// fingerprint), the proxy map by its lines; the version number is the plan's, not a change.
pub fn changes(old: Option<&Config>, new: &Config) -> Result<Vec<ConfigChange>, Error> {
    let flat = |config: Option<&Config>| -> Result<BTreeMap<String, String>, Error> {
        let mut out = BTreeMap::new();
        if let Some(config) = config {
            let mut value = serde_json::to_value(config).map_err(Error::internal)?;
            if let Some(object) = value.as_object_mut() {
                object.remove("version");
            }
            flatten(&value, "", &mut out);
        }
        Ok(out)
    };
    let (old, new) = (flat(old)?, flat(Some(new))?);
    let none = || "none".to_owned();
    let mut out: Vec<ConfigChange> = Vec::new();
    for (path, to) in &new {
        match old.get(path) {
            Some(from) if from == to => {}
            from => out.push(ConfigChange {
                path: path.clone(),
                from: from.cloned().unwrap_or_else(none),
                to: to.clone(),
            }),
        }
    }
    for (path, from) in &old {
        if !new.contains_key(path) {
            out.push(ConfigChange {
                path: path.clone(),
                from: from.clone(),
                to: none(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    if out.len() > CHANGES_AT_MOST {
        let more = out.len() - CHANGES_AT_MOST;
        out.truncate(CHANGES_AT_MOST);
        out.push(ConfigChange {
            path: format!("({more} more changes)"),
            from: String::new(),
            to: String::new(),
        });
    }
    Ok(out)
}

/// `value`'s settings as `path → value` lines.
fn flatten(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                flatten(value, &join(key), out);
            }
        }
        Value::Array(entries) => {
            for entry in entries {
                let (name, shown) = entry_of(entry);
                out.insert(format!("{path}[{name}]"), shown);
            }
        }
        Value::String(text) if text.contains('\n') && !text.contains("-----BEGIN") => {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                out.insert(format!("{path}[{line}]"), "listed".to_owned());
            }
        }
        Value::Null => {}
        Value::String(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            out.insert(path.to_owned(), entry_of(value).0);
        }
        Value::String(text) if text.contains("-----BEGIN") => {
            out.insert(path.to_owned(), "(a PEM block, not shown)".to_owned());
        }
        Value::String(text) => {
            out.insert(path.to_owned(), text.clone());
        }
        other => {
            out.insert(path.to_owned(), other.to_string());
        }
    }
}

/// How a list entry is named in a path, and what it is.
fn entry_of(entry: &Value) -> (String, String) {
    match entry {
        Value::String(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
            let name = certs::analyze::pem_certificates(pem)
                .ok()
                .and_then(|ders| {
                    ders.first()
                        .map(|der| crate::reconcile::drive::certificate_label(der))
                })
                .unwrap_or_else(|| "an unreadable certificate".to_owned());
            (name, "trusted".to_owned())
        }
        Value::String(text) => (vos::driver::shown(text), "listed".to_owned()),
        Value::Object(object) => {
            let name = ["external", "address", "certificate"]
                .iter()
                .find_map(|k| object.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .unwrap_or_else(|| entry.to_string());
            (name, entry.to_string())
        }
        other => (other.to_string(), "listed".to_owned()),
    }
}

/// The plan a verification job waits on.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfProxyPlan {
    pub plan_id: i64,
}

/// Waits for both instances of an applying plan to report its version in force.
pub struct Verify;

/// The job kinds of proxy pairs.
pub fn register(kinds: &mut Kinds) {
    kinds.register::<Verify>();
}

impl Kind for Verify {
    const NAME: &'static str = "proxy_plan_verify";
    type Payload = OnBehalf<OfProxyPlan>;

    async fn run(services: &Services, _: &Job, asked: OnBehalf<OfProxyPlan>) -> anyhow::Result<()> {
        Ok(verify(&services.pool, &asked.context(), asked.fields.plan_id).await?)
    }

    async fn ended(services: &Services, asked: OnBehalf<OfProxyPlan>, ending: Ending) {
        let error = format!(
            "verification {} before both instances reported",
            ending.as_str()
        );
        let _ = sqlx::query!(
            "update proxy_plan set state = 'failed', error = $2, finished_at = now()
             where id = $1 and state = 'applying'",
            asked.fields.plan_id,
            error
        )
        .execute(&services.pool)
        .await;
    }
}

/// How one instance stands toward version `version`: verified, refused (its words), or behind.
fn standing(version: u64, report: Option<&Report>) -> Result<(), (bool, String)> {
    match report {
        Some(r) if r.version == version => Ok(()),
        Some(r) => match &r.refused {
            Some(refused) if refused.version == version => Err((
                true,
                format!(
                    "refused version {version}: {} (version {} keeps serving)",
                    refused.problems.join("; "),
                    r.version
                ),
            )),
            _ => Err((false, format!("still serves version {}", r.version))),
        },
        None => Err((false, "has not reported since it was told".to_owned())),
    }
}

/// Waits until both instances report plan `plan_id`'s version (applied), one refuses it, or
/// [`VERIFY_WITHIN`] after the plan was confirmed (failed), whichever comes first; stops when
/// the plan is no longer applying (a newer plan took over).
async fn verify(pool: &PgPool, context: &RequestContext, plan_id: i64) -> Result<(), Error> {
    loop {
        let plan = sqlx::query!(
            r#"select p.version, p.state, p.instances, r.name as pair,
                      coalesce(p.confirmed_at + make_interval(secs => $2) < now(), true) as "late!"
               from proxy_plan p join proxy_pair r on r.id = p.pair_id where p.id = $1"#,
            plan_id,
            VERIFY_WITHIN.as_secs_f64()
        )
        .fetch_one(pool)
        .await?;
        if plan.state != "applying" {
            return Ok(());
        }
        let version = plan.version.max(0) as u64;
        let mut planned: Vec<PlanInstance> =
            serde_json::from_value(plan.instances).map_err(Error::internal)?;
        let mut refused = None;
        let mut behind = Vec::new();
        for p in &mut planned {
            // Only a report made after the plan was confirmed counts.
            let report = sqlx::query_scalar!(
                "select i.report from proxy_instance i, proxy_plan p
                 where i.id = $1 and p.id = $2 and i.reported_at >= p.confirmed_at",
                p.instance_id,
                plan_id
            )
            .fetch_optional(pool)
            .await?
            .flatten()
            .and_then(|v| serde_json::from_value::<Report>(v).ok());
            match standing(version, report.as_ref()) {
                Ok(()) => p.outcome = Some("verified".into()),
                Err((true, why)) => {
                    refused.get_or_insert(format!("{} {why}", p.name));
                    p.outcome = Some(why);
                }
                Err((false, why)) => {
                    behind.push(format!("{} {why}", p.name));
                    p.outcome = Some(why);
                }
            }
        }
        let ended = match (refused, behind.is_empty(), plan.late) {
            (Some(why), _, _) => Some(("failed", Some(why))),
            (None, true, _) => Some(("applied", None)),
            (None, false, true) => Some((
                "failed",
                Some(format!(
                    "not verified within {} s: {}",
                    VERIFY_WITHIN.as_secs(),
                    behind.join("; ")
                )),
            )),
            (None, false, false) => None,
        };
        if let Some((state, error)) = ended {
            finish(
                pool,
                context,
                plan_id,
                state,
                error.as_deref(),
                Some(&planned),
            )
            .await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Ends applying plan `plan_id` as `state` (with `error`, and each instance's outcome when
/// known), audited in the same transaction; nothing when it is no longer applying.
async fn finish(
    pool: &PgPool,
    context: &RequestContext,
    plan_id: i64,
    state: &str,
    error: Option<&str>,
    planned: Option<&[PlanInstance]>,
) -> Result<(), Error> {
    let planned = planned
        .map(serde_json::to_value)
        .transpose()
        .map_err(Error::internal)?;
    let mut tx = pool.begin().await?;
    let ended = sqlx::query!(
        "update proxy_plan p set state = $2, error = $3, instances = coalesce($4, p.instances), finished_at = now()
         from proxy_pair r
         where p.id = $1 and p.state = 'applying' and r.id = p.pair_id
         returning r.name as pair, p.version",
        plan_id,
        state,
        error,
        planned
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(ended) = ended {
        record(
            &mut tx,
            context
                .event("proxy.config.verify", format!("proxy-pair:{}", ended.pair))
                .outcome(Outcome::of(state == "applied"))
                .after(json!({"plan": plan_id, "version": ended.version, "state": state, "error": error})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{changes, standing};
    use proxyconf::{Config, Refusal, Report};

    fn config() -> Config {
        serde_json::from_value(serde_json::json!({"schema": 1, "pair": "p", "version": 3, "listeners": [], "routes": []})).unwrap()
    }

    #[test]
    fn a_plan_lists_each_setting_that_changes_and_nothing_else() {
        let old = config();
        let mut new = config();
        new.version = 4;
        assert_eq!(
            changes(Some(&old), &new).unwrap(),
            vec![],
            "the version is the plan's"
        );
        new.limits.body_bytes = 1_000;
        new.status.proxymap = "a.example.com:443=b.example.com:8445\n".into();
        let found = changes(Some(&old), &new).unwrap();
        let paths: Vec<&str> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "limits.body_bytes",
                "status.proxymap[a.example.com:443=b.example.com:8445]"
            ]
        );
        assert_eq!(found[0].from, old.limits.body_bytes.to_string());
        assert_eq!(found[0].to, "1000");
        assert_eq!(
            (found[1].from.as_str(), found[1].to.as_str()),
            ("none", "listed")
        );
        // Nothing told before: every setting is new.
        assert!(changes(None, &new)
            .unwrap()
            .iter()
            .all(|c| c.from == "none"));
    }

    #[test]
    fn an_instance_is_verified_by_its_report_of_the_version() {
        let report = |version, refused: Option<u64>| Report {
            version,
            refused: refused.map(|v| Refusal {
                version: v,
                problems: vec!["listeners: none".into()],
                at: 0,
            }),
            ..Report::default()
        };
        assert_eq!(standing(4, Some(&report(4, None))), Ok(()));
        assert_eq!(
            standing(4, Some(&report(3, None))),
            Err((false, "still serves version 3".into()))
        );
        let refused = standing(4, Some(&report(3, Some(4)))).unwrap_err();
        assert!(
            refused.0 && refused.1.contains("listeners: none"),
            "{refused:?}"
        );
        // A refusal of an older version is not this plan's.
        assert!(!standing(4, Some(&report(3, Some(2)))).unwrap_err().0);
        assert!(!standing(4, None).unwrap_err().0);
    }
}
