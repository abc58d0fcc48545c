//! tower-sessions records kept in PostgreSQL (table `session`), so sessions survive a restart
//! and a destroyed session is gone for every server.

use async_trait::async_trait;
use sqlx::PgPool;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{Error, Result, SessionStore};

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Deletes expired sessions; run periodically.
    pub async fn delete_expired(&self) -> Result<u64> {
        let done = sqlx::query!("delete from session where expiry_date < now()")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

fn backend(error: sqlx::Error) -> Error {
    Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for PgStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh random id; on the (astronomically unlikely) collision, draw again.
        loop {
            let data =
                serde_json::to_value(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            let inserted = sqlx::query!(
                "insert into session (id, data, expiry_date) values ($1, $2, $3) on conflict (id) do nothing",
                record.id.to_string(),
                data,
                record.expiry_date
            )
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_value(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        sqlx::query!(
            "insert into session (id, data, expiry_date) values ($1, $2, $3)
             on conflict (id) do update set data = excluded.data, expiry_date = excluded.expiry_date",
            record.id.to_string(),
            data,
            record.expiry_date
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let row = sqlx::query!(
            "select data, expiry_date from session where id = $1 and expiry_date > now()",
            id.to_string()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data = serde_json::from_value(row.data).map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: row.expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query!("delete from session where id = $1", id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
