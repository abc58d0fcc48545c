//! Expiry thresholds: per cluster, per node, inherited from the defaults, and the form that
//! sets them.

use super::*;

/// Warning days, critical days, lifetime percent, as stored (null: inherit).
type Stored = (Option<i32>, Option<i32>, Option<i32>);

pub(super) fn effective(own: Stored, inherited: Stored) -> Thresholds {
    let default = Thresholds::default();
    let pick = |own: Option<i32>, inherited: Option<i32>, fallback: i64| {
        own.or(inherited).map_or(fallback, i64::from)
    };
    Thresholds {
        warning_days: pick(own.0, inherited.0, default.warning_days),
        critical_days: pick(own.1, inherited.1, default.critical_days),
        warning_lifetime_percent: pick(own.2, inherited.2, default.warning_lifetime_percent),
    }
}

/// Which thresholds to change.
#[derive(Debug, Clone, Copy)]
pub enum ThresholdsOf {
    Cluster(i64),
    Node(i64),
}

fn number(field: &str, value: Option<String>) -> Result<Option<i64>, Error> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| Error::field(field, "enter a whole number, or leave empty to inherit")),
    }
}

/// Form fields (empty: inherit) to thresholds.
pub fn thresholds_from_form(
    warning_days: Option<String>,
    critical_days: Option<String>,
    warning_lifetime_percent: Option<String>,
) -> Result<ThresholdsInput, Error> {
    Ok(ThresholdsInput {
        warning_days: number("warning_days", warning_days)?,
        critical_days: number("critical_days", critical_days)?,
        warning_lifetime_percent: number("warning_lifetime_percent", warning_lifetime_percent)?,
    })
}

fn checked(input: &ThresholdsInput) -> Result<Stored, Error> {
    let mut errors = crate::FieldErrors::new();
    let mut within = |field: &str, value: Option<i64>, low: i64, high: i64| {
        let value = value.filter(|v| {
            let ok = (low..=high).contains(v);
            if !ok {
                errors
                    .entry(field.to_owned())
                    .or_default()
                    .push(format!("use {low} to {high}, or leave empty to inherit"));
            }
            ok
        });
        value.and_then(|v| i32::try_from(v).ok())
    };
    let warning = within("warning_days", input.warning_days, 1, 3650);
    let critical = within("critical_days", input.critical_days, 0, 3650);
    let percent = within(
        "warning_lifetime_percent",
        input.warning_lifetime_percent,
        0,
        100,
    );
    if errors.is_empty() {
        Ok((warning, critical, percent))
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Sets (or, with empty values, clears) a cluster's or a node's own thresholds. The result must
/// keep critical below warning once inherited values are filled in.
#[tracing::instrument(skip_all, fields(actor = %context.actor(), of = ?of))]
pub async fn set_thresholds(
    pool: &PgPool,
    context: &RequestContext,
    of: ThresholdsOf,
    input: ThresholdsInput,
) -> Result<(), Error> {
    context.require_admin()?;
    let own = checked(&input)?;
    let mut tx = pool.begin().await?;
    let (inherited, before, target) = match of {
        ThresholdsOf::Cluster(id) => {
            let row = sqlx::query!(
                "select warning_days, critical_days, warning_lifetime_percent from cluster where id = $1 for update",
                id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(crate::inventory::Refused::NoSuchCluster(id))?;
            (
                (None, None, None),
                (
                    row.warning_days,
                    row.critical_days,
                    row.warning_lifetime_percent,
                ),
                format!("cluster:{id}"),
            )
        }
        ThresholdsOf::Node(id) => {
            let row = sqlx::query!(
                "select n.warning_days, n.critical_days, n.warning_lifetime_percent,
                        c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent
                 from node n join cluster c on c.id = n.cluster_id where n.id = $1 for update of n",
                id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(crate::inventory::Refused::NoSuchNode(id))?;
            (
                (row.c_warning, row.c_critical, row.c_percent),
                (
                    row.warning_days,
                    row.critical_days,
                    row.warning_lifetime_percent,
                ),
                format!("node:{id}"),
            )
        }
    };
    let result = effective(own, inherited);
    if result.critical_days >= result.warning_days {
        return Err(Error::field(
            "critical_days",
            format!(
                "critical ({} days) must be fewer days than warning ({} days)",
                result.critical_days, result.warning_days
            ),
        ));
    }
    match of {
        ThresholdsOf::Cluster(id) => {
            sqlx::query!(
                "update cluster set warning_days = $2, critical_days = $3, warning_lifetime_percent = $4 where id = $1",
                id, own.0, own.1, own.2
            )
            .execute(&mut *tx)
            .await?;
        }
        ThresholdsOf::Node(id) => {
            sqlx::query!(
                "update node set warning_days = $2, critical_days = $3, warning_lifetime_percent = $4 where id = $1",
                id, own.0, own.1, own.2
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    let as_json = |t: (Option<i32>, Option<i32>, Option<i32>)| json!({"warning_days": t.0, "critical_days": t.1, "warning_lifetime_percent": t.2});
    record(
        &mut tx,
        context
            .event("thresholds.set", target)
            .before(as_json(before))
            .after(as_json(own)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
