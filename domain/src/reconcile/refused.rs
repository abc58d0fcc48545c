//! Why the engine refuses to apply or cancel a plan now, in its words.

use super::PlanState;

/// Why a plan cannot be applied or cancelled now, in the engine's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefused {
    #[error("no plan with id {0}")]
    NoSuchPlan(i64),
    #[error("{}", not_now(*.0))]
    NotNow(PlanState),
    #[error("the plan was made from version {made_from} but version {latest} is in force now: make a new plan")]
    VersionMoved { made_from: i32, latest: i32 },
    #[error("this plan was made by an earlier version of Gatehouse, which stored its commands as text: make a new plan")]
    Earlier,
    #[error("the plan is {0}: nothing to cancel")]
    NothingToCancel(PlanState),
    /// Another change of the same kind to the same target is still at work.
    #[error("plan {0}, a change of the same kind to the same node, is still at work: wait for it to end")]
    Busy(i64),
}

fn not_now(state: PlanState) -> &'static str {
    match state {
        PlanState::Reading => "the nodes are still being read; apply once the plan is ready",
        PlanState::Applying => "this plan is already being applied",
        PlanState::Applied => "this plan was applied; make a new plan for further changes",
        PlanState::Superseded => "this plan was superseded by a newer one; apply that one",
        PlanState::Ready | PlanState::Failed | PlanState::Cancelled => "this plan can be applied",
    }
}

impl crate::error::Refusal for PlanRefused {
    fn failure(&self) -> crate::Failure {
        match self {
            PlanRefused::NoSuchPlan(_) => crate::Failure::NotFound,
            _ => crate::Failure::Conflict,
        }
    }
}

crate::refusal!(PlanRefused);
