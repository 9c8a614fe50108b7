//! Write guards: entity versions checked against `expected_version`, and idempotency keys
//! whose stored response is written with the create.

mod common;

use common::{CTX, add, all_history, chain, evidence, link, new_evidence, new_link, open, tree};
use ost_linker_core::{
    DeleteMode, Error, EvidenceFilter, EvidenceKind, EvidencePatch, EvidenceStore, IdempotencyKey,
    LinkPatch, NewNode, NewTree, NodeKind, NodePatch, PageRequest, Relation, SqliteStore,
    TreePatch, TreeStore, WriteContext,
};

fn with_key(key: &str) -> WriteContext {
    WriteContext {
        actor: None,
        idempotency: Some(IdempotencyKey {
            key: key.into(),
            request_digest: format!("digest of {key}"),
        }),
    }
}

fn tree_count(store: &SqliteStore) -> usize {
    store
        .list_trees(PageRequest {
            limit: 1_000,
            after: None,
        })
        .expect("list trees")
        .items
        .len()
}

fn evidence_count(store: &SqliteStore) -> usize {
    store
        .list_evidence(
            &EvidenceFilter::default(),
            PageRequest {
                limit: 1_000,
                after: None,
            },
        )
        .expect("list evidence")
        .items
        .len()
}

fn rename(title: &str) -> NodePatch {
    NodePatch {
        title: Some(title.into()),
        ..NodePatch::default()
    }
}

fn is_mismatch(err: &Error, entity: &str, expected: u64, current: u64) -> bool {
    matches!(
        err,
        Error::VersionMismatch { entity: e, expected: x, current: c, .. }
            if *e == entity && *x == expected && *c == current
    )
}

#[test]
fn version_bumps_on_every_update() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.opportunity, &quote);

    for expected in 2..=4 {
        let tree = store
            .update_tree(CTX, chain.tree_id(), TreePatch::default(), None)
            .expect("update tree");
        let node = store
            .update_node(CTX, chain.solution.id, rename("Import"), None)
            .expect("update node");
        let evidence = store
            .update_evidence(CTX, quote.id, EvidencePatch::default(), None)
            .expect("update evidence");
        let link = store
            .update_link(CTX, linked.id, LinkPatch::default(), None)
            .expect("update link");

        assert_eq!(tree.version, expected, "tree, update {}", expected - 1);
        assert_eq!(node.version, expected, "node, update {}", expected - 1);
        assert_eq!(
            evidence.version,
            expected,
            "evidence, update {}",
            expected - 1
        );
        assert_eq!(link.version, expected, "link, update {}", expected - 1);
    }
    assert_eq!(
        store.get_tree(chain.tree_id()).expect("tree").version,
        4,
        "stored tree"
    );
    assert_eq!(
        store.get_node(chain.solution.id).expect("node").version,
        4,
        "stored node"
    );
    assert_eq!(
        store.get_evidence(quote.id).expect("evidence").version,
        4,
        "stored evidence"
    );
    assert_eq!(
        store.get_link(linked.id).expect("link").version,
        4,
        "stored link"
    );
}

#[test]
fn version_bumps_on_move() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let first = add(&store, &created.root, NodeKind::Opportunity, "first");
    let second = add(&store, &created.root, NodeKind::Opportunity, "second");

    let moved = store
        .update_node(
            CTX,
            second.id,
            NodePatch {
                parent_id: Some(first.id),
                ..NodePatch::default()
            },
            Some(1),
        )
        .expect("move");

    assert_eq!(moved.version, 2, "moved node");
}

#[test]
fn version_stale_update_rejected() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.opportunity, &quote);
    store
        .update_node(CTX, chain.solution.id, rename("Import v2"), None)
        .expect("first update");
    let node = store.get_node(chain.solution.id).expect("node");
    let history = all_history(&store, chain.tree_id());

    let tree_err = store
        .update_tree(
            CTX,
            chain.tree_id(),
            TreePatch {
                title: Some("Renamed".into()),
                description: None,
            },
            Some(2),
        )
        .expect_err("stale tree version accepted");
    let node_err = store
        .update_node(CTX, chain.solution.id, rename("Import v3"), Some(1))
        .expect_err("stale node version accepted");
    let evidence_err = store
        .update_evidence(
            CTX,
            quote.id,
            EvidencePatch {
                title: Some("Renamed".into()),
                ..EvidencePatch::default()
            },
            Some(0),
        )
        .expect_err("stale evidence version accepted");
    let link_err = store
        .update_link(
            CTX,
            linked.id,
            LinkPatch {
                relation: Some(Relation::Contradicts),
                ..LinkPatch::default()
            },
            Some(5),
        )
        .expect_err("stale link version accepted");
    let move_err = store
        .update_node(
            CTX,
            chain.experiment.id,
            NodePatch {
                position: Some(0),
                ..NodePatch::default()
            },
            Some(3),
        )
        .expect_err("stale version accepted for a move");

    assert!(
        is_mismatch(&tree_err, "tree", 2, 1),
        "tree update: {tree_err:?}"
    );
    assert!(
        is_mismatch(&node_err, "node", 1, 2),
        "node update: {node_err:?}"
    );
    assert!(
        is_mismatch(&evidence_err, "evidence", 0, 1),
        "evidence update: {evidence_err:?}"
    );
    assert!(
        is_mismatch(&link_err, "link", 5, 1),
        "link update: {link_err:?}"
    );
    assert!(
        is_mismatch(&move_err, "node", 3, 1),
        "node move: {move_err:?}"
    );
    assert_eq!(
        store.get_tree(chain.tree_id()).expect("tree"),
        chain.tree.tree,
        "tree unchanged"
    );
    assert_eq!(
        store.get_node(chain.solution.id).expect("node"),
        node,
        "node unchanged"
    );
    assert_eq!(
        store.get_evidence(quote.id).expect("evidence"),
        quote,
        "evidence unchanged"
    );
    assert_eq!(
        store.get_link(linked.id).expect("link"),
        linked,
        "link unchanged"
    );
    assert_eq!(
        all_history(&store, chain.tree_id()),
        history,
        "history unchanged"
    );
}

#[test]
fn version_stale_delete_rejected() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.opportunity, &quote);

    let tree_err = store
        .delete_tree(CTX, chain.tree_id(), Some(2))
        .expect_err("stale tree version accepted");
    let node_err = store
        .delete_node(CTX, chain.experiment.id, DeleteMode::LeafOnly, Some(2))
        .expect_err("stale node version accepted");
    let evidence_err = store
        .delete_evidence(CTX, quote.id, true, Some(2))
        .expect_err("stale evidence version accepted");
    let link_err = store
        .delete_link(CTX, linked.id, Some(2))
        .expect_err("stale link version accepted");

    for (case, err, entity) in [
        ("tree delete", &tree_err, "tree"),
        ("node delete", &node_err, "node"),
        ("evidence delete", &evidence_err, "evidence"),
        ("link delete", &link_err, "link"),
    ] {
        assert!(is_mismatch(err, entity, 2, 1), "{case}: {err:?}");
    }
    assert!(store.get_tree(chain.tree_id()).is_ok(), "tree kept");
    assert!(store.get_node(chain.experiment.id).is_ok(), "node kept");
    assert!(store.get_evidence(quote.id).is_ok(), "evidence kept");
    assert!(store.get_link(linked.id).is_ok(), "link kept");
}

#[test]
fn version_current_accepted() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.opportunity, &quote);

    let tree = store
        .update_tree(CTX, chain.tree_id(), TreePatch::default(), Some(1))
        .expect("update tree at version 1");
    let node = store
        .update_node(CTX, chain.solution.id, rename("Import v2"), Some(1))
        .expect("update node at version 1");
    let node_again = store
        .update_node(CTX, chain.solution.id, rename("Import v3"), Some(2))
        .expect("update node at version 2");
    let evidence = store
        .update_evidence(CTX, quote.id, EvidencePatch::default(), Some(1))
        .expect("update evidence at version 1");
    let link = store
        .update_link(CTX, linked.id, LinkPatch::default(), Some(1))
        .expect("update link at version 1");

    assert_eq!(tree.version, 2, "tree");
    assert_eq!(node.version, 2, "node");
    assert_eq!(node_again.version, 3, "node again");
    assert_eq!(evidence.version, 2, "evidence");
    assert_eq!(link.version, 2, "link");

    store
        .delete_link(CTX, linked.id, Some(2))
        .expect("delete link at version 2");
    store
        .delete_evidence(CTX, quote.id, false, Some(2))
        .expect("delete evidence at version 2");
    store
        .delete_node(CTX, chain.experiment.id, DeleteMode::LeafOnly, Some(1))
        .expect("delete node at version 1");
    store
        .delete_tree(CTX, chain.tree_id(), Some(2))
        .expect("delete tree at version 2");

    assert!(
        matches!(store.get_tree(chain.tree_id()), Err(Error::NotFound { .. })),
        "tree deleted"
    );
}

#[test]
fn version_none_skips_check() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    for title in ["v2", "v3", "v4"] {
        store
            .update_node(CTX, chain.solution.id, rename(title), None)
            .expect("update");
    }

    let deleted = store.delete_node(CTX, chain.solution.id, DeleteMode::Subtree, None);

    assert_eq!(deleted.ok(), Some(2), "deleted without a version");
}

#[test]
fn idempotent_tree_create_stores_response() {
    let store = open();
    let ctx = with_key("create-tree-1");

    let created = store
        .create_tree(&ctx, common::new_tree("Trial retention"))
        .expect("create");
    let stored = store
        .find_stored_response("create-tree-1")
        .expect("find")
        .expect("response stored");

    assert_eq!(stored.status, 201, "status");
    assert_eq!(stored.request_digest, "digest of create-tree-1", "digest");
    assert_eq!(
        stored.body,
        serde_json::to_string(&created).expect("tree as JSON"),
        "body is the created tree"
    );
    assert_eq!(
        store.find_stored_response("other-key").expect("find"),
        None,
        "unknown key"
    );
}

#[test]
fn idempotent_creates_store_entity_json() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");

    let node = store
        .create_node(
            &with_key("node"),
            chain.tree_id(),
            NewNode::new(chain.opportunity.id, NodeKind::Solution, "Templates"),
        )
        .expect("create node");
    let item = store
        .create_evidence(
            &with_key("evidence"),
            new_evidence(EvidenceKind::Metric, "Day-90 retention"),
        )
        .expect("create evidence");
    let linked = store
        .create_link(
            &with_key("link"),
            node.id,
            new_link(&quote, Relation::Supports),
        )
        .expect("create link");

    for (key, body) in [
        ("node", serde_json::to_string(&node)),
        ("evidence", serde_json::to_string(&item)),
        ("link", serde_json::to_string(&linked)),
    ] {
        let stored = store
            .find_stored_response(key)
            .expect("find")
            .unwrap_or_else(|| panic!("{key}: no response stored"));

        assert_eq!(stored.status, 201, "{key}: status");
        assert_eq!(stored.body, body.expect("JSON"), "{key}: body");
    }
}

#[test]
fn idempotency_key_reuse_writes_nothing() {
    let store = open();
    let ctx = with_key("create-1");
    let first = store
        .create_tree(&ctx, common::new_tree("Trial retention"))
        .expect("first create");
    let history = all_history(&store, first.tree.id);

    let tree_err = store
        .create_tree(&ctx, common::new_tree("Trial retention"))
        .expect_err("second tree create with the key");
    let node_err = store
        .create_node(
            &ctx,
            first.tree.id,
            NewNode::new(first.root.id, NodeKind::Opportunity, "Setup is slow"),
        )
        .expect_err("node create with the key");
    let evidence_err = store
        .create_evidence(&ctx, new_evidence(EvidenceKind::InterviewSnippet, "Quote"))
        .expect_err("evidence create with the key");
    let stored = store
        .find_stored_response("create-1")
        .expect("find")
        .expect("stored");

    for (case, err) in [
        ("tree", &tree_err),
        ("node", &node_err),
        ("evidence", &evidence_err),
    ] {
        assert!(
            matches!(err, Error::IdempotencyKeyTaken { key } if key == "create-1"),
            "{case}: {err:?}"
        );
    }
    assert_eq!(tree_count(&store), 1, "one tree");
    assert_eq!(
        store.list_nodes(first.tree.id).expect("nodes").len(),
        1,
        "only the root node"
    );
    assert_eq!(evidence_count(&store), 0, "no evidence");
    assert_eq!(
        all_history(&store, first.tree.id),
        history,
        "history unchanged"
    );
    assert_eq!(
        stored.body,
        serde_json::to_string(&first).expect("JSON"),
        "first response kept"
    );
}

#[test]
fn idempotency_failed_create_stores_nothing() {
    let store = open();
    let ctx = with_key("create-1");

    let err = store
        .create_tree(
            &ctx,
            NewTree {
                title: "  ".into(),
                ..common::new_tree("x")
            },
        )
        .expect_err("blank title accepted");
    let after_failure = store.find_stored_response("create-1").expect("find");
    let retried = store.create_tree(&ctx, common::new_tree("Trial retention"));

    assert!(matches!(err, Error::Field(_)), "failed create: {err:?}");
    assert_eq!(after_failure, None, "no response stored for a failure");
    assert!(retried.is_ok(), "key free after a failure: {retried:?}");
    assert_eq!(tree_count(&store), 1, "one tree");
}

#[test]
fn idempotency_failed_node_create_stores_nothing() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let ctx = with_key("node-1");

    let err = store
        .create_node(
            &ctx,
            created.tree.id,
            NewNode::new(created.root.id, NodeKind::Experiment, "x"),
        )
        .expect_err("experiment under outcome accepted");

    assert!(
        matches!(err, Error::InvalidParentKind { .. }),
        "failed create: {err:?}"
    );
    assert_eq!(
        store.find_stored_response("node-1").expect("find"),
        None,
        "no response stored"
    );
}

#[test]
fn idempotency_key_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ost.db");
    let ctx = with_key("create-tree-1");
    let created = {
        let store = SqliteStore::open(&path).expect("open");
        store
            .create_tree(&ctx, common::new_tree("Trial retention"))
            .expect("create")
    };

    let reopened = SqliteStore::open(&path).expect("reopen");
    let stored = reopened
        .find_stored_response("create-tree-1")
        .expect("find")
        .expect("response kept");
    let again = reopened
        .create_tree(&ctx, common::new_tree("Trial retention"))
        .expect_err("key reused after reopen");

    assert_eq!(stored.status, 201, "status");
    assert_eq!(
        stored.body,
        serde_json::to_string(&created).expect("JSON"),
        "body"
    );
    assert!(
        matches!(again, Error::IdempotencyKeyTaken { .. }),
        "reuse after reopen: {again:?}"
    );
    assert_eq!(tree_count(&reopened), 1, "one tree after reopen");
}
