//! The periodic job that judges the alert transitions (expiry moves with the clock between
//! scans), apart from the judging itself (`transitions.rs`), which a scan also runs.

use super::transitions::judge_transitions;

/// Judges the alert transitions periodically (expiry moves with the clock between scans).
pub struct Judge;

impl crate::jobs::Kind for Judge {
    const NAME: &'static str = "judge";
    type Payload = crate::jobs::Nothing;

    async fn run(
        services: &crate::Services,
        _: &crate::jobs::Job,
        _: crate::jobs::Nothing,
    ) -> anyhow::Result<()> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        anyhow::Context::context(
            judge_transitions(&services.pool, now).await,
            "judging alert transitions",
        )?;
        Ok(())
    }
}
