//! A plan's verification: a job that waits for both instances' reports of the plan's version
//! in force (applied), a refusal of it (failed, in the instance's words), or [`VERIFY_WITHIN`]
//! (failed, naming the one behind); its end is audited with it.

use super::super::PlanInstance;
use crate::audit::store::{record, Outcome};
use crate::auth::principal::{OnBehalf, RequestContext};
use crate::jobs::{Ending, Job, Kind, Kinds};
use crate::{Error, Services};
use proxyconf::Report;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use std::time::Duration;

/// How long an applied plan waits for both instances to report its version in force (an
/// instance pulls within a second and reports within five).
pub const VERIFY_WITHIN: Duration = Duration::from_secs(60);

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
        let plan_id = asked.fields.plan_id;
        let error = format!(
            "verification {} before both instances reported",
            ending.as_str()
        );
        let context = asked.context();
        if let Err(e) = finish(
            &services.pool,
            &context,
            plan_id,
            "failed",
            Some(&error),
            None,
        )
        .await
        {
            tracing::error!(plan = plan_id, error = %e, "a proxy plan's end could not be recorded");
        }
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
    use super::standing;
    use proxyconf::{Refusal, Report};

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
