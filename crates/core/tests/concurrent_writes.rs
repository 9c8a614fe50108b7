//! Writes from many threads to a store in a file, where they run beside read-only
//! connections and are committed in groups: each call returns only once its write is
//! committed, and a failed write leaves the others intact.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{CTX, new_tree};
use ost_linker_core::{
    Error, IdempotencyKey, NewNode, NodeId, NodeKind, SqliteStore, TreeStore, WriteContext,
};

const THREADS: usize = 8;
const WRITES_PER_THREAD: usize = 40;

fn file_store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("concurrent.db")).expect("open store");
    (dir, Arc::new(store))
}

/// Runs `write(thread, index)` `WRITES_PER_THREAD` times on each of `THREADS` threads, all
/// started together, and returns every result.
fn run_concurrently<T: Send + 'static>(
    write: impl Fn(usize, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let write = Arc::new(write);
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let write = Arc::clone(&write);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..WRITES_PER_THREAD)
                    .map(|index| write(thread, index))
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    handles
        .into_iter()
        .flat_map(|handle| handle.join().expect("writer thread"))
        .collect()
}

#[test]
fn concurrent_creates_are_all_visible() {
    let (_dir, store) = file_store();
    let tree = store
        .create_tree(CTX, new_tree("Concurrent"))
        .expect("tree");
    let root = tree.root.id;

    let writer = Arc::clone(&store);
    let created = run_concurrently(move |thread, index| {
        let title = format!("Opportunity {thread}.{index}");
        let node = writer
            .create_node(
                CTX,
                tree.tree.id,
                NewNode::new(root, NodeKind::Opportunity, title),
            )
            .expect("create");
        // The call returned, so its write is committed and a read-only connection reads it.
        let read = writer.get_node(node.id).expect("read back");
        assert_eq!(read.title, node.title);
        node.id
    });

    let nodes = store.list_nodes(tree.tree.id).expect("list");
    assert_eq!(nodes.len(), THREADS * WRITES_PER_THREAD + 1);
    let mut positions: Vec<u32> = nodes.iter().skip(1).map(|node| node.position).collect();
    positions.sort_unstable();
    let expected: Vec<u32> = (0..(THREADS * WRITES_PER_THREAD) as u32).collect();
    assert_eq!(positions, expected, "sibling positions are not dense");
    assert_eq!(created.len(), THREADS * WRITES_PER_THREAD);
}

#[test]
fn failed_write_leaves_others_committed() {
    let (_dir, store) = file_store();
    let tree = store
        .create_tree(CTX, new_tree("Concurrent"))
        .expect("tree");
    let root = tree.root.id;
    let missing = NodeId::generate();

    let writer = Arc::clone(&store);
    let results = run_concurrently(move |thread, index| {
        // Every third write names a parent that does not exist.
        let parent = if index % 3 == 0 { missing } else { root };
        let title = format!("Opportunity {thread}.{index}");
        writer.create_node(
            CTX,
            tree.tree.id,
            NewNode::new(parent, NodeKind::Opportunity, title),
        )
    });

    let failed = results.iter().filter(|result| result.is_err()).count();
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::UnknownReference { .. }),
                "unexpected error: {err}"
            );
        }
    }
    let nodes = store.list_nodes(tree.tree.id).expect("list");
    assert_eq!(failed, THREADS * WRITES_PER_THREAD.div_ceil(3));
    assert_eq!(nodes.len(), results.len() - failed + 1);
}

#[test]
fn concurrent_retries_store_one_create() {
    let (_dir, store) = file_store();
    let tree = store
        .create_tree(CTX, new_tree("Concurrent"))
        .expect("tree");
    let root = tree.root.id;

    let writer = Arc::clone(&store);
    let results = run_concurrently(move |_, index| {
        let ctx = WriteContext {
            actor: None,
            idempotency: Some(IdempotencyKey {
                key: format!("retry-{index}"),
                request_digest: format!("digest-{index}"),
            }),
        };
        let title = format!("Opportunity {index}");
        writer.create_node(
            &ctx,
            tree.tree.id,
            NewNode::new(root, NodeKind::Opportunity, title),
        )
    });

    let created = results.iter().filter(|result| result.is_ok()).count();
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::IdempotencyKeyTaken { .. }),
                "unexpected error: {err}"
            );
        }
    }
    assert_eq!(created, WRITES_PER_THREAD, "one create per key");
    for index in 0..WRITES_PER_THREAD {
        let stored = store
            .find_stored_response(&format!("retry-{index}"))
            .expect("find");
        assert!(stored.is_some(), "key retry-{index} has no stored response");
    }
    let nodes = store.list_nodes(tree.tree.id).expect("list");
    assert_eq!(nodes.len(), WRITES_PER_THREAD + 1);
}
