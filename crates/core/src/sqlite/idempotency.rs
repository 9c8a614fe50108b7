//! Stored responses of create requests that carried an idempotency key.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{StoredResponse, WriteContext};
use crate::time;

pub(super) const INSERT_SQL: &str =
    "INSERT INTO idempotency_keys (key, request_digest, status, body, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (key) DO NOTHING";
pub(super) const FIND_SQL: &str =
    "SELECT request_digest, status, body FROM idempotency_keys WHERE key = ?1";

/// Stores the response of a create request, in the transaction of its write, when the
/// request carried an idempotency key.
///
/// # Errors
///
/// Returns [`Error::IdempotencyKeyTaken`] when a concurrent request stored the same key
/// first, which rolls this write back.
pub(super) fn record(
    conn: &Connection,
    ctx: &WriteContext,
    status: u16,
    body: &impl Serialize,
) -> Result<()> {
    let Some(key) = &ctx.idempotency else {
        return Ok(());
    };

    // Serializing the crate's own entities can't fail: they have string keys and no custom
    // serializers that error.
    let body = serde_json::to_string(body).unwrap_or_default();
    let inserted = conn.prepare_cached(INSERT_SQL)?.execute(params![
        key.key,
        key.request_digest,
        status,
        body,
        time::now()
    ])?;
    if inserted == 0 {
        return Err(Error::IdempotencyKeyTaken {
            key: key.key.clone(),
        });
    }

    Ok(())
}

/// Returns the response stored for a key, if any.
pub(super) fn find(conn: &Connection, key: &str) -> Result<Option<StoredResponse>> {
    Ok(conn
        .prepare_cached(FIND_SQL)?
        .query_row([key], |row| {
            Ok(StoredResponse {
                request_digest: row.get(0)?,
                status: row.get(1)?,
                body: row.get(2)?,
            })
        })
        .optional()?)
}
