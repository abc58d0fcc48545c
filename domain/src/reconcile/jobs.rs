//! The engine's jobs: reading the nodes of a new plan, applying a confirmed one.

use super::apply::run_apply;
use super::read::run_read;
use super::{NodeState, PlanState};
use crate::auth::principal::OnBehalf;
use crate::jobs::Job;
use crate::jobs::{Ending, Kind, Kinds};
use crate::Error;
use crate::Services;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// The engine's kinds of job.
pub fn register(kinds: &mut Kinds) {
    kinds
        .register::<PlanRead>()
        .register::<PlanApply>()
        .register::<PlanRun>();
}

/// The plan a job works on.
#[derive(Debug, Serialize, Deserialize)]
pub struct OfPlan {
    pub plan_id: i64,
}

/// Reads the nodes of a new plan and plans each.
pub struct PlanRead;

impl Kind for PlanRead {
    const NAME: &'static str = "plan_read";
    type Payload = OnBehalf<OfPlan>;

    async fn run(services: &Services, _: &Job, asked: OnBehalf<OfPlan>) -> Result<()> {
        Ok(run_read(services, &asked.context(), asked.fields.plan_id).await?)
    }

    async fn ended(services: &Services, asked: OnBehalf<OfPlan>, ending: Ending) {
        plan_ended(services, asked.fields.plan_id, ending).await;
    }
}

/// Applies a confirmed plan and verifies each node; resumable: a later attempt continues where
/// the node stopped.
pub struct PlanApply;

impl Kind for PlanApply {
    const NAME: &'static str = "plan_apply";
    type Payload = OnBehalf<OfPlan>;

    async fn run(services: &Services, job: &Job, asked: OnBehalf<OfPlan>) -> Result<()> {
        let plan_id = asked.fields.plan_id;
        Ok(run_apply(
            services,
            job.cancel_flag(),
            &asked.context(),
            plan_id,
            false,
        )
        .await?)
    }

    async fn ended(services: &Services, asked: OnBehalf<OfPlan>, ending: Ending) {
        plan_ended(services, asked.fields.plan_id, ending).await;
    }
}

/// Reads, plans, applies and verifies a plan confirmed as it was made ([`super::store::run_now`]).
pub struct PlanRun;

impl Kind for PlanRun {
    const NAME: &'static str = "plan_run";
    type Payload = OnBehalf<OfPlan>;

    async fn run(services: &Services, job: &Job, asked: OnBehalf<OfPlan>) -> Result<()> {
        let context = asked.context();
        let plan_id = asked.fields.plan_id;
        run_read(services, &context, plan_id).await?;
        let confirmed = sqlx::query!(
            "update plan set state = 'applying' where id = $1 and state = 'ready'",
            plan_id
        )
        .execute(&services.pool)
        .await?
        .rows_affected();
        if confirmed == 0 || job.cancelled() {
            // Cancelled (or superseded) while its nodes were read: nothing is applied.
            return Ok(());
        }
        Ok(run_apply(services, job.cancel_flag(), &context, plan_id, true).await?)
    }

    async fn ended(services: &Services, asked: OnBehalf<OfPlan>, ending: Ending) {
        plan_ended(services, asked.fields.plan_id, ending).await;
    }
}

async fn plan_ended(services: &Services, plan: i64, ending: Ending) {
    if let Err(error) = ended(&services.pool, plan, ending).await {
        tracing::error!(plan, error = %error, "recording how a plan's job ended");
    }
}

/// A plan's job ended other than done (`failed`, `cancelled`, `interrupted`): the plan and its
/// unfinished nodes say so.
async fn ended(pool: &PgPool, plan_id: i64, ending: Ending) -> Result<(), Error> {
    let (node_state, plan_state, why) = match ending {
        Ending::Cancelled => (NodeState::Cancelled, PlanState::Cancelled, "cancelled"),
        _ => (
            NodeState::Failed,
            PlanState::Failed,
            "the job running this plan stopped before it finished; apply again to resume",
        ),
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update plan_node set state = case state when 'reading' then 'unreachable' else $2 end, error = $3, updated_at = now()
         where plan_id = $1 and state in ('reading', 'applying', 'verifying')",
        plan_id,
        node_state.as_str(),
        why
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update plan set state = $2, finished_at = now() where id = $1 and state in ('reading', 'applying')",
        plan_id,
        plan_state.as_str()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
