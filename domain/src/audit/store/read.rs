//! Reading the audit log: filters turned into bounds, pages for the console and the API,
//! the whole matching log as a stream for exports; every read is itself audited.

use super::*;

#[derive(Debug)]
pub struct Bounds {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Parses `YYYY-MM-DD` or RFC 3339; a date alone means its first (or, with `end_of_day`, last)
/// microsecond in UTC.
fn parse_time(value: &str, end_of_day: bool) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value, &format)
        .map_err(|_| format!("'{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    let time = if end_of_day {
        time::Time::from_hms_micro(23, 59, 59, 999_999).map_err(|e| e.to_string())?
    } else {
        time::Time::MIDNIGHT
    };
    Ok(date.with_time(time).assume_utc())
}

impl AuditFilter {
    pub fn bounds(&self) -> Result<Bounds, Error> {
        let mut errors = crate::FieldErrors::new();
        let mut time_field = |name: &str, value: &Option<String>, end: bool| {
            non_empty(value).and_then(|v| match parse_time(&v, end) {
                Ok(t) => Some(t),
                Err(message) => {
                    errors.entry(name.to_owned()).or_default().push(message);
                    None
                }
            })
        };
        let from = time_field("from", &self.from, false);
        let to = time_field("to", &self.to, true);
        let outcome = non_empty(&self.outcome);
        if let Some(o) = &outcome {
            if !["success", "failure", "denied"].contains(&o.as_str()) {
                errors.entry("outcome".into()).or_default().push(format!(
                    "'{o}' is not an outcome; use success, failure or denied"
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let action = non_empty(&self.action);
        let (action, action_prefix) = match action {
            Some(a) if a.ends_with('.') => (None, Some(a)),
            other => (other, None),
        };
        Ok(Bounds {
            actor: non_empty(&self.actor),
            action,
            action_prefix,
            target: non_empty(&self.target),
            outcome,
            from,
            to,
        })
    }
}

/// Entries matching the bounds, newest first, as a stream (exports never hold the log in memory).
/// `before_id` pages by key (an export stays consistent while entries are added).
pub fn stream<'a>(
    pool: &'a PgPool,
    b: &'a Bounds,
    before_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> impl futures::Stream<Item = Result<AuditEntry, Error>> + 'a {
    sqlx::query_as!(
        Row,
        "select id, at, actor, actor_role, source, action, target, outcome, detail, before, after, prev_hash, hash
         from audit_entry
         where ($1::text is null or actor = $1)
           and ($2::text is null or action = $2)
           and ($3::text is null or starts_with(action, $3))
           and ($4::text is null or strpos(target, $4) > 0)
           and ($5::text is null or outcome = $5)
           and ($6::timestamptz is null or at >= $6)
           and ($7::timestamptz is null or at <= $7)
           and ($10::bigint is null or id < $10)
         order by id desc
         offset $8 limit $9",
        b.actor,
        b.action,
        b.action_prefix,
        b.target,
        b.outcome,
        b.from,
        b.to,
        offset,
        limit,
        before_id
    )
    .fetch(pool)
    .map_ok(Row::into_entry)
    .map_err(Error::from)
}

async fn count(pool: &PgPool, b: &Bounds) -> Result<i64, Error> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from audit_entry
         where ($1::text is null or actor = $1)
           and ($2::text is null or action = $2)
           and ($3::text is null or starts_with(action, $3))
           and ($4::text is null or strpos(target, $4) > 0)
           and ($5::text is null or outcome = $5)
           and ($6::timestamptz is null or at >= $6)
           and ($7::timestamptz is null or at <= $7)"#,
        b.actor,
        b.action,
        b.action_prefix,
        b.target,
        b.outcome,
        b.from,
        b.to
    )
    .fetch_one(pool)
    .await?)
}

/// Records that someone read the audit log, with the filter they used.
async fn record_read(
    pool: &PgPool,
    context: &RequestContext,
    action: &str,
    filter: &AuditFilter,
) -> Result<(), Error> {
    let filter = serde_json::to_value(filter).map_err(Error::internal)?;
    record_alone(pool, context.event(action, "audit").after(filter)).await?;
    Ok(())
}

/// One page, for a reader; the read is recorded first (and so appears on the page itself).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn read_page(
    pool: &PgPool,
    context: &RequestContext,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<AuditPage, Error> {
    context.require_reader()?;
    let bounds = filter.bounds()?;
    let offset = offset.max(0);
    let limit = limit.clamp(1, 1_000);
    record_read(pool, context, "audit.read", filter).await?;
    let total = count(pool, &bounds).await?;
    let entries = stream(pool, &bounds, None, offset, limit)
        .try_collect()
        .await?;
    Ok(AuditPage {
        entries,
        total,
        offset,
        limit,
    })
}

/// An export, for a reader: the read is recorded, then every entry matching the filter
/// follows, newest first (see [`export`]).
#[tracing::instrument(skip_all, fields(actor = %context.actor()))]
pub async fn export_as(
    pool: &PgPool,
    context: &RequestContext,
    filter: &AuditFilter,
) -> Result<impl futures::Stream<Item = Result<AuditEntry, Error>> + Send + 'static, Error> {
    context.require_reader()?;
    let bounds = filter.bounds()?;
    record_read(pool, context, "audit.export", filter).await?;
    Ok(export(pool.clone(), bounds))
}

/// Every entry matching the bounds, newest first, fetched in chunks of 500 so that an export
/// of any size holds one chunk in memory at a time.
pub fn export(
    pool: PgPool,
    bounds: Bounds,
) -> impl futures::Stream<Item = Result<AuditEntry, Error>> + Send + 'static {
    let start = (pool, bounds, None::<i64>, false);
    futures::stream::try_unfold(start, |(pool, bounds, before, done)| async move {
        if done {
            return Ok::<_, Error>(None);
        }
        let chunk: Vec<AuditEntry> = stream(&pool, &bounds, before, 0, 500).try_collect().await?;
        let next = chunk.last().map(|e| e.id);
        let done = chunk.len() < 500;
        Ok(Some((
            futures::stream::iter(chunk.into_iter().map(Ok)),
            (pool, bounds, next, done),
        )))
    })
    .try_flatten()
}
