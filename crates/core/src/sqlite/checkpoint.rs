//! Checkpoints of the write-ahead log on a thread of their own.
//!
//! By default SQLite checkpoints in the commit that pushes the log past 1,000 pages, so that
//! one write waits while the checkpoint copies pages into the database file and syncs it.
//! The store raises that threshold on the writer and runs checkpoints from this thread
//! instead. They are passive in SQLite's sense: each copies the pages that no reader still
//! needs without waiting for readers or writers, and its syncs stay off the write path.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// How often the thread checkpoints. A checkpoint with nothing to copy reads the log's index
/// and returns, so an idle store costs almost nothing.
const INTERVAL: Duration = Duration::from_millis(250);

/// The log size, in pages, at which the writer still checkpoints by itself, in case this
/// thread falls behind or has stopped. SQLite's default is 1,000 pages.
pub(super) const WRITER_FALLBACK_PAGES: u32 = 20_000;

/// The handle of the checkpoint thread. Dropping it stops the thread and waits for it.
pub(super) struct Checkpointer {
    /// Never sent on. Dropping it disconnects the thread's receiver, which ends the thread.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection to the database at `path` and starts the thread.
    pub(super) fn start(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(busy_timeout)?;

        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    checkpoint(&conn);
                }
            })
            .map_err(|err| {
                super::pool::internal_error(format!(
                    "starting the thread sqlite-checkpoint failed: {err}"
                ))
            })?;

        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("the checkpoint thread panicked");
        }
    }
}

/// Runs one passive checkpoint. A failure is logged and left to the next round.
fn checkpoint(conn: &Connection) {
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });

    match outcome {
        Ok((log_pages, copied_pages)) => {
            log::trace!("checkpoint copied {copied_pages} of {log_pages} log pages");
        }
        Err(err) => log::warn!("checkpoint of the write-ahead log failed: {err}"),
    }
}
