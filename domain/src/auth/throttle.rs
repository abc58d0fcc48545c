//! The sign-in throttle: failed attempts per account and per client address in a sliding
//! window, counted in the database so that failures spread over replicas add up.

use crate::Error;
use sqlx::PgPool;
use std::time::Duration;

/// Refuses further sign-ins for an account or from an address once its failures in the window
/// reach a limit, until the oldest of them leaves the window.
#[derive(Debug)]
pub struct Throttle {
    pub account_limit: usize,
    pub address_limit: usize,
    pub window: Duration,
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

impl Throttle {
    pub fn new(account_limit: usize, address_limit: usize, window: Duration) -> Self {
        Self {
            account_limit,
            address_limit,
            window,
        }
    }

    /// `Ok(Err(wait))` when either the account or the address is over its limit.
    pub async fn check(
        &self,
        pool: &PgPool,
        account: &str,
        address: &str,
    ) -> Result<Result<(), Duration>, Error> {
        let window = self.window.as_secs_f64();
        // The n-th newest failure of each key in the window: while it is inside the window the
        // key is at its limit, and it leaves the window `wait` from now.
        let waits = sqlx::query_scalar!(
            r#"select extract(epoch from f.at + make_interval(secs => $3) - now())::float8 as "wait!"
               from unnest($1::text[], $2::bigint[]) as k(key, limit_)
               cross join lateral (
                   select at from sign_in_failure
                   where key = k.key and at > now() - make_interval(secs => $3)
                   order by at desc offset k.limit_ - 1 limit 1
               ) f"#,
            &[account_key(account), address_key(address)][..],
            &[limit(self.account_limit), limit(self.address_limit)][..],
            window
        )
        .fetch_all(pool)
        .await?;
        Ok(waits
            .into_iter()
            .map(|wait| Duration::from_secs_f64(wait.clamp(0.0, window)))
            .max()
            .map_or(Ok(()), Err))
    }

    /// Counts one failure against the account and the address.
    pub async fn record_failure(
        &self,
        pool: &PgPool,
        account: &str,
        address: &str,
    ) -> Result<(), Error> {
        sqlx::query!(
            "insert into sign_in_failure (key) select unnest($1::text[])",
            &[account_key(account), address_key(address)][..]
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub async fn clear_account(&self, pool: &PgPool, account: &str) -> Result<(), Error> {
        sqlx::query!(
            "delete from sign_in_failure where key = $1",
            account_key(account)
        )
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Forgets failures that have left the window (the sweep job); returns how many.
    pub async fn prune(&self, pool: &PgPool) -> Result<u64, Error> {
        Ok(sqlx::query!(
            "delete from sign_in_failure where at <= now() - make_interval(secs => $1)",
            self.window.as_secs_f64()
        )
        .execute(pool)
        .await?
        .rows_affected())
    }
}

/// A limit as the query takes it (at least one failure).
fn limit(value: usize) -> i64 {
    i64::try_from(value.max(1)).unwrap_or(i64::MAX)
}
