//! PostgreSQL notifications (`LISTEN`/`NOTIFY`) between replicas: a queued job wakes the idle
//! workers, a cancel reaches the replica running the job, a replica waiting for an appliance's
//! SSH session place asks the others to close their idle sessions to it.

use sqlx::PgPool;
use std::time::Duration;

/// Calls `on(channel, payload)` for every notification on `channels`, for ever. The connection
/// comes back by itself after the database does (notifications sent meanwhile are lost: each
/// user also polls).
pub async fn listen(pool: PgPool, channels: &[&str], mut on: impl FnMut(&str, &str) + Send) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%error, "listening for notifications; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen_all(channels.iter().copied()).await {
            tracing::debug!(%error, "listening for notifications; retrying in 5 s");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(message) => on(message.channel(), message.payload()),
                Err(error) => {
                    tracing::debug!(%error, "the notification listener's connection ended");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    break;
                }
            }
        }
    }
}
