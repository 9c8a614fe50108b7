//! Checkpoints of a store in a file: the store's own thread copies committed writes from the
//! write-ahead log into the database file, without a write having to do it.

mod common;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::{CTX, new_tree};
use ost_linker_core::{NewTree, SqliteStore, TreeStore};

/// How long the test waits for the checkpoint thread. It runs every 250 ms, so this leaves a
/// loaded machine plenty of time.
const PATIENCE: Duration = Duration::from_secs(30);

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

#[test]
fn thread_copies_log_into_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("checkpoint.db");
    let store = SqliteStore::open(&path).expect("open store");
    let before = file_len(&path);

    // About 400 pages of log, far below the writer's own checkpoint threshold.
    for index in 0..200 {
        let new = NewTree {
            description: "x".repeat(2_000),
            ..new_tree(&format!("Tree {index}"))
        };
        store.create_tree(CTX, new).expect("create tree");
    }

    let waited = Instant::now();
    while file_len(&path) <= before && waited.elapsed() < PATIENCE {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        file_len(&path) > before,
        "the database file stayed at {before} bytes: no checkpoint copied the log into it"
    );
}
