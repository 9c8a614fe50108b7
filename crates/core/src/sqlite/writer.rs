//! The read-write connection, and group commit of the writes that queue for it.
//!
//! Every write runs in its own savepoint, one at a time. With group commit on, the first
//! write of a batch opens a transaction. When a write finishes while others wait for the
//! connection, it leaves the transaction open for them and waits itself. The last write of
//! the batch, the one that finds no other waiting or the [`MAX_BATCH`]th, commits for all of
//! them. So one commit serves several writes, and no call returns before its batch is
//! committed. A write that fails rolls back its own savepoint
//! only, unless SQLite rolled back the whole transaction, as it may after an I/O error or a
//! full disk. Then the batch ends at once and every write in it fails.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The maximum number of writes that one commit serves, which bounds how long the first
/// write of a batch waits for its commit.
const MAX_BATCH: usize = 32;

/// The read-write connection of a store.
pub(super) struct Writer {
    state: Mutex<State>,
    /// Signalled after every commit of a batch.
    batch_done: Condvar,
    /// Writes waiting to take the connection.
    queued: AtomicUsize,
    /// Whether writes are grouped into batches. Off for a store whose reads share this
    /// connection: they would see the open transaction of a batch that might still fail.
    group_commit: bool,
}

struct State {
    conn: Connection,
    /// The batch whose transaction is open.
    open: Option<Batch>,
    next_batch: u64,
    /// Every batch up to this id has committed or failed.
    finished_through: u64,
    /// The failed batches whose waiting members have not read the failure yet.
    failures: HashMap<u64, Failure>,
}

struct Batch {
    id: u64,
    members: usize,
}

/// The error of a batch that failed to commit, kept for the members still waiting.
struct Failure {
    message: String,
    code: rusqlite::ffi::Error,
    unread: usize,
}

impl Failure {
    fn to_error(&self) -> Error {
        Error::Storage(rusqlite::Error::SqliteFailure(
            self.code,
            Some(format!(
                "committing a batch of writes failed: {}",
                self.message
            )),
        ))
    }
}

impl Writer {
    pub(super) fn new(conn: Connection, group_commit: bool) -> Self {
        Self {
            state: Mutex::new(State {
                conn,
                open: None,
                next_batch: 1,
                finished_through: 0,
                failures: HashMap::new(),
            }),
            batch_done: Condvar::new(),
            queued: AtomicUsize::new(0),
            group_commit,
        }
    }

    /// Returns the connection for a read, for stores without read-only connections.
    ///
    /// Group commit is off for those stores, so no batch is open when the read runs.
    pub(super) fn lock(&self) -> WriterGuard<'_> {
        WriterGuard(self.lock_state())
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves nothing half-done: `write` finishes the
        // batch of a call that panics, and an open savepoint is rolled back when dropped.
        // So a poisoned lock is safe to take over.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one write, which must do its work in a savepoint of the connection, and returns
    /// once the write is committed or has failed.
    ///
    /// # Errors
    ///
    /// Returns the write's own error, or [`Error::Storage`] when its batch failed to begin
    /// or to commit.
    pub(super) fn write<T>(&self, call: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        if !self.group_commit {
            return call(&mut self.lock_state().conn);
        }

        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut state = self.lock_state();
        self.queued.fetch_sub(1, Ordering::SeqCst);

        let batch = join_batch(&mut state)?;
        let outcome = catch_unwind(AssertUnwindSafe(|| call(&mut state.conn)));

        let members = state.open.as_ref().map_or(1, |open| open.members);
        let others_queued = self.queued.load(Ordering::SeqCst) > 0;
        // A write that joined a batch whose transaction SQLite had rolled back would commit
        // on its own and still be told that its batch failed.
        let transaction_lost = state.conn.is_autocommit();
        if outcome.is_ok() && !transaction_lost && others_queued && members < MAX_BATCH {
            return self.wait_for_commit(state, batch, outcome);
        }

        let committed = commit_batch(&mut state, batch, members);
        drop(state);
        self.batch_done.notify_all();

        let result = match outcome {
            Ok(result) => result,
            Err(panic) => resume_unwind(panic),
        };
        match (result, committed) {
            (Err(err), _) => Err(err),
            (Ok(_), Err(err)) => Err(err),
            (Ok(value), Ok(())) => Ok(value),
        }
    }

    /// Leaves the batch's transaction open for the queued writes, and waits until one of
    /// them commits it.
    fn wait_for_commit<T>(
        &self,
        mut state: MutexGuard<'_, State>,
        batch: u64,
        outcome: std::thread::Result<Result<T>>,
    ) -> Result<T> {
        while state.finished_through < batch {
            state = self
                .batch_done
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }

        let failure = match state.failures.get_mut(&batch) {
            Some(failure) => {
                failure.unread -= 1;
                let err = failure.to_error();
                if failure.unread == 0 {
                    state.failures.remove(&batch);
                }
                Some(err)
            }
            None => None,
        };
        drop(state);

        // `write` waits only after a call that returned.
        let result = outcome.unwrap_or_else(|panic| resume_unwind(panic));
        match (result, failure) {
            (Err(err), _) => Err(err),
            (Ok(_), Some(err)) => Err(err),
            (Ok(value), None) => Ok(value),
        }
    }
}

/// The read-write connection, lent out for a read.
pub(super) struct WriterGuard<'a>(MutexGuard<'a, State>);

impl Deref for WriterGuard<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

/// Adds a write to the open batch, or opens one; returns the batch's id.
fn join_batch(state: &mut State) -> Result<u64> {
    if state.open.is_none() {
        state.conn.execute_batch("BEGIN IMMEDIATE")?;
        state.open = Some(Batch {
            id: state.next_batch,
            members: 0,
        });
        state.next_batch += 1;
    }

    let open = state.open.as_mut().expect("a batch is open");
    open.members += 1;
    Ok(open.id)
}

/// Commits the open batch, or rolls it back when the commit fails, and records a failure
/// for the `members - 1` writes that wait for it.
fn commit_batch(state: &mut State, batch: u64, members: usize) -> Result<()> {
    state.open = None;
    state.finished_through = batch;

    let committed = if state.conn.is_autocommit() {
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some("SQLite rolled back the transaction after an error in one of its writes".into()),
        ))
    } else {
        state.conn.execute_batch("COMMIT")
    };
    let Err(err) = committed else {
        return Ok(());
    };
    log::error!("committing a batch of {members} write(s) failed: {err}");
    if !state.conn.is_autocommit()
        && let Err(rollback) = state.conn.execute_batch("ROLLBACK")
    {
        log::error!("rolling back the failed batch failed: {rollback}");
    }

    if members > 1 {
        let code = match &err {
            rusqlite::Error::SqliteFailure(code, _) => *code,
            _ => rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        };
        state.failures.insert(
            batch,
            Failure {
                message: err.to_string(),
                code,
                unread: members - 1,
            },
        );
    }
    Err(Error::Storage(err))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// Inserts `name` into the test table in a savepoint, as every store write does.
    fn insert(conn: &mut Connection, name: &str) -> Result<()> {
        let savepoint = conn.savepoint()?;
        savepoint.execute("INSERT INTO names (name) VALUES (?1)", [name])?;
        savepoint.commit()?;
        Ok(())
    }

    fn stored_names(writer: &Writer) -> Vec<String> {
        let conn = writer.lock();
        let mut statement = conn
            .prepare("SELECT name FROM names ORDER BY name")
            .expect("prepare");
        statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .map(|row| row.expect("row"))
            .collect()
    }

    /// Waits until the open batch has `members` writes, all waiting for its commit.
    fn wait_for_members(writer: &Writer, members: usize) {
        loop {
            let state = writer.lock_state();
            if state
                .open
                .as_ref()
                .is_some_and(|open| open.members == members)
            {
                return;
            }
            drop(state);
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn lost_transaction_fails_its_batch() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE names (name TEXT NOT NULL)")
            .expect("create table");
        let writer = Arc::new(Writer::new(conn, true));
        // A waiter that never comes keeps each write waiting for the next one.
        writer.queued.fetch_add(1, Ordering::SeqCst);

        let first = {
            let writer = Arc::clone(&writer);
            thread::spawn(move || writer.write(|conn| insert(conn, "first")))
        };
        wait_for_members(&writer, 1);
        let (lost_sent, lost_received) = mpsc::channel();
        {
            let writer = Arc::clone(&writer);
            thread::spawn(move || {
                // SQLite rolls back the whole transaction after some errors, as here.
                let result = writer.write(|conn| Ok(conn.execute_batch("ROLLBACK")?));
                lost_sent.send(result).expect("send");
            });
        }
        let lost = lost_received.recv_timeout(Duration::from_secs(5));
        writer.queued.fetch_sub(1, Ordering::SeqCst);
        let after = writer.write(|conn| insert(conn, "after"));

        assert!(first.join().expect("first thread").is_err());
        assert!(
            matches!(lost, Ok(Err(_))),
            "the write that lost the transaction returned {lost:?}"
        );
        assert!(after.is_ok(), "the next write returned {after:?}");
        assert_eq!(stored_names(&writer), ["after"]);
    }
}
