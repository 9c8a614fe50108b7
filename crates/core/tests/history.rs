//! A tree's history: what each write appends, in which order, and what it leaves out.

mod common;

use common::{CTX, add, all_history, chain, evidence, link, new_link, open, tree};
use ost_linker_core::{
    DeleteMode, Error, EvidenceStore, HistoryEntry, LinkPatch, NewNode, NodeKind, NodePatch,
    PageRequest, Relation, TreeId, TreePatch, TreeStore, WriteContext,
};
use serde_json::json;

fn as_actor(actor: &str) -> WriteContext {
    WriteContext {
        actor: Some(actor.into()),
        idempotency: None,
    }
}

/// Returns each entry as (action, entity type, entity id), in listing order.
fn summary(entries: &[HistoryEntry]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry.action.clone(),
                entry.entity_type.clone(),
                entry.entity_id.clone(),
            )
        })
        .collect()
}

fn step(action: &str, entity_type: &str, id: impl ToString) -> (String, String, String) {
    (action.into(), entity_type.into(), id.to_string())
}

#[test]
fn history_records_writes_newest_first() {
    let store = open();
    let ctx = as_actor("maria@example.com");
    let created = store
        .create_tree(&ctx, common::new_tree("Trial retention"))
        .expect("create tree");
    let first = store
        .create_node(
            &ctx,
            created.tree.id,
            NewNode::new(created.root.id, NodeKind::Opportunity, "first"),
        )
        .expect("create first");
    let second = store
        .create_node(
            &ctx,
            created.tree.id,
            NewNode::new(created.root.id, NodeKind::Opportunity, "second"),
        )
        .expect("create second");
    store
        .update_node(
            &ctx,
            first.id,
            NodePatch {
                title: Some("first, renamed".into()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("rename");
    store
        .update_node(
            &ctx,
            second.id,
            NodePatch {
                parent_id: Some(first.id),
                ..NodePatch::default()
            },
            None,
        )
        .expect("move");
    let quote = evidence(&store, "Quote");
    let linked = store
        .create_link(&ctx, second.id, new_link(&quote, Relation::Supports))
        .expect("link");
    store
        .update_link(
            &ctx,
            linked.id,
            LinkPatch {
                strength: Some(Some(3)),
                ..LinkPatch::default()
            },
            None,
        )
        .expect("update link");
    store
        .delete_link(&ctx, linked.id, None)
        .expect("delete link");
    store
        .update_tree(
            &ctx,
            created.tree.id,
            TreePatch {
                title: Some("Trial retention, H2".into()),
                description: None,
            },
            None,
        )
        .expect("update tree");
    store
        .delete_node(&ctx, second.id, DeleteMode::LeafOnly, None)
        .expect("delete node");

    let entries = all_history(&store, created.tree.id);

    assert_eq!(
        summary(&entries),
        [
            step("delete", "node", second.id),
            step("update", "tree", created.tree.id),
            step("unlink", "link", linked.id),
            step("update", "link", linked.id),
            step("link", "link", linked.id),
            step("move", "node", second.id),
            step("update", "node", first.id),
            step("create", "node", second.id),
            step("create", "node", first.id),
            step("create", "node", created.root.id),
            step("create", "tree", created.tree.id),
        ],
        "entries, newest first"
    );
    assert!(
        entries.windows(2).all(|pair| pair[0].seq > pair[1].seq),
        "seq falls down the list"
    );
    assert!(
        entries.windows(2).all(|pair| pair[0].at >= pair[1].at),
        "timestamps fall down the list"
    );
    for entry in &entries {
        assert_eq!(
            entry.actor.as_deref(),
            Some("maria@example.com"),
            "actor of {} {}",
            entry.action,
            entry.entity_type
        );
        assert_eq!(
            entry.tree_id, created.tree.id,
            "tree of {} {}",
            entry.action, entry.entity_type
        );
    }
}

#[test]
fn history_actor_absent_without_context() {
    let store = open();
    let created = tree(&store, "Trial retention");

    let entries = all_history(&store, created.tree.id);

    assert_eq!(entries.len(), 2, "tree and root created");
    for entry in &entries {
        assert_eq!(entry.actor, None, "{} {}", entry.action, entry.entity_type);
    }
}

#[test]
fn history_create_and_delete_hold_whole_entity() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let node = add(
        &store,
        &created.root,
        NodeKind::Opportunity,
        "Setup is slow",
    );
    store
        .delete_node(CTX, node.id, DeleteMode::LeafOnly, None)
        .expect("delete");

    let entries = all_history(&store, created.tree.id);
    let deleted = &entries[0];
    let added = &entries[1];
    let tree_created = &entries[3];

    assert_eq!(added.before, None, "create: no before");
    assert_eq!(
        added.after,
        Some(serde_json::to_value(&node).expect("node as JSON")),
        "create: after is the node"
    );
    assert_eq!(
        deleted.before,
        Some(serde_json::to_value(&node).expect("node as JSON")),
        "delete: before is the node"
    );
    assert_eq!(deleted.after, None, "delete: no after");
    assert_eq!(
        tree_created.after,
        Some(serde_json::to_value(&created.tree).expect("tree as JSON")),
        "tree create: after is the tree"
    );
}

#[test]
fn history_update_holds_changed_fields() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.solution, &quote);
    store
        .update_node(
            CTX,
            chain.experiment.id,
            NodePatch {
                title: Some("Fake door v2".into()),
                description: Some(String::new()),
                result: Some(Some("9 of 120 clicked".into())),
                ..NodePatch::default()
            },
            None,
        )
        .expect("update node");
    store
        .update_tree(
            CTX,
            chain.tree_id(),
            TreePatch {
                title: None,
                description: Some("Paying after 90 days".into()),
            },
            None,
        )
        .expect("update tree");
    store
        .update_link(
            CTX,
            linked.id,
            LinkPatch {
                relation: Some(Relation::Contradicts),
                strength: None,
                note: Some(String::new()),
            },
            None,
        )
        .expect("update link");

    let entries = all_history(&store, chain.tree_id());
    let [link_update, tree_update, node_update] = [&entries[0], &entries[1], &entries[2]];

    assert_eq!(
        node_update.before,
        Some(json!({ "title": "Fake door", "result": null })),
        "node: before"
    );
    assert_eq!(
        node_update.after,
        Some(json!({ "title": "Fake door v2", "result": "9 of 120 clicked" })),
        "node: after"
    );
    assert_eq!(
        tree_update.before,
        Some(json!({ "description": "Trial accounts that still pay after 90 days" })),
        "tree: before"
    );
    assert_eq!(
        tree_update.after,
        Some(json!({ "description": "Paying after 90 days" })),
        "tree: after"
    );
    assert_eq!(
        link_update.before,
        Some(json!({ "relation": "supports" })),
        "link: before"
    );
    assert_eq!(
        link_update.after,
        Some(json!({ "relation": "contradicts" })),
        "link: after"
    );
}

#[test]
fn history_records_cleared_result() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    for result in [Some("9 of 120 clicked".to_owned()), None] {
        store
            .update_node(
                CTX,
                chain.experiment.id,
                NodePatch {
                    result: Some(result),
                    ..NodePatch::default()
                },
                None,
            )
            .expect("update result");
    }

    let cleared = all_history(&store, chain.tree_id()).remove(0);

    assert_eq!(
        cleared.before,
        Some(json!({ "result": "9 of 120 clicked" })),
        "before"
    );
    assert_eq!(cleared.after, Some(json!({ "result": null })), "after");
}

#[test]
fn history_move_holds_parent_and_position() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let left = add(&store, &created.root, NodeKind::Opportunity, "left");
    let right = add(&store, &created.root, NodeKind::Opportunity, "right");
    add(&store, &right, NodeKind::Opportunity, "already there");
    let moved = add(&store, &left, NodeKind::Opportunity, "moved");

    store
        .update_node(
            CTX,
            moved.id,
            NodePatch {
                parent_id: Some(right.id),
                position: Some(0),
                ..NodePatch::default()
            },
            None,
        )
        .expect("move");
    store
        .update_node(
            CTX,
            left.id,
            NodePatch {
                position: Some(1),
                ..NodePatch::default()
            },
            None,
        )
        .expect("reorder");

    let entries = all_history(&store, created.tree.id);
    let [reorder, change_parent] = [&entries[0], &entries[1]];

    assert_eq!(change_parent.action, "move", "parent change is a move");
    assert_eq!(
        change_parent.before,
        Some(json!({ "parent_id": left.id.to_string() })),
        "parent change: before"
    );
    assert_eq!(
        change_parent.after,
        Some(json!({ "parent_id": right.id.to_string() })),
        "parent change: after, position 0 unchanged"
    );
    assert_eq!(reorder.action, "move", "reorder is a move");
    assert_eq!(
        reorder.before,
        Some(json!({ "position": 0 })),
        "reorder: before"
    );
    assert_eq!(
        reorder.after,
        Some(json!({ "position": 1 })),
        "reorder: after"
    );
}

#[test]
fn history_update_omits_bookkeeping() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    store
        .update_node(CTX, chain.opportunity.id, NodePatch::default(), None)
        .expect("empty patch");
    store
        .update_node(
            CTX,
            chain.opportunity.id,
            NodePatch {
                title: Some(chain.opportunity.title.clone()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("same title");

    let entries = all_history(&store, chain.tree_id());

    for entry in &entries[..2] {
        assert_eq!(entry.action, "update", "seq {}: action", entry.seq);
        assert_eq!(entry.before, Some(json!({})), "seq {}: before", entry.seq);
        assert_eq!(entry.after, Some(json!({})), "seq {}: after", entry.seq);
    }
}

#[test]
fn history_pages_with_cursor() {
    let store = open();
    let created = tree(&store, "Trial retention");
    for n in 0..5 {
        add(
            &store,
            &created.root,
            NodeKind::Opportunity,
            &format!("Need {n}"),
        );
    }
    let everything = all_history(&store, created.tree.id);

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_history(created.tree.id, PageRequest { limit: 3, after })
            .expect("list page");
        pages += 1;
        assert!(page.items.len() <= 3, "page {pages} respects the limit");
        seen.extend(page.items);
        match page.next_cursor {
            Some(cursor) => after = Some(cursor.parse::<i64>().expect("cursor is a seq")),
            None => break,
        }
    }

    assert_eq!(everything.len(), 7, "tree, root and five nodes");
    assert_eq!(seen, everything, "pages together equal the whole history");
    assert_eq!(pages, 3, "seven entries in pages of three");
}

#[test]
fn history_pages_stay_within_tree() {
    let store = open();
    let first = tree(&store, "Trial retention");
    let second = tree(&store, "Expansion revenue");
    add(&store, &first.root, NodeKind::Opportunity, "first need");
    add(&store, &second.root, NodeKind::Opportunity, "second need");

    let page = store
        .list_history(
            first.tree.id,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .expect("first page");
    let cursor = page.next_cursor.expect("cursor").parse().expect("seq");
    let rest = store
        .list_history(
            first.tree.id,
            PageRequest {
                limit: 2,
                after: Some(cursor),
            },
        )
        .expect("second page");

    for entry in page.items.iter().chain(&rest.items) {
        assert_eq!(entry.tree_id, first.tree.id, "seq {}: tree", entry.seq);
    }
    assert_eq!(rest.items.len(), 1, "three entries in the first tree");
    assert_eq!(rest.next_cursor, None, "no cursor after the last page");
}

#[test]
fn history_unchanged_by_failed_writes() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let linked = link(&store, &chain.opportunity, &quote);
    let before = all_history(&store, chain.tree_id());

    let failures: Vec<(&str, Error)> = vec![
        (
            "node under wrong parent",
            store
                .create_node(
                    CTX,
                    chain.tree_id(),
                    NewNode::new(chain.tree.root.id, NodeKind::Solution, "s"),
                )
                .expect_err("accepted"),
        ),
        (
            "blank node title",
            store
                .update_node(
                    CTX,
                    chain.solution.id,
                    NodePatch {
                        title: Some(" ".into()),
                        ..NodePatch::default()
                    },
                    None,
                )
                .expect_err("accepted"),
        ),
        (
            "move into a cycle",
            store
                .update_node(
                    CTX,
                    chain.opportunity.id,
                    NodePatch {
                        parent_id: Some(chain.opportunity.id),
                        ..NodePatch::default()
                    },
                    None,
                )
                .expect_err("accepted"),
        ),
        (
            "move past the end",
            store
                .update_node(
                    CTX,
                    chain.opportunity.id,
                    NodePatch {
                        position: Some(1),
                        ..NodePatch::default()
                    },
                    None,
                )
                .expect_err("accepted"),
        ),
        (
            "duplicate link",
            store
                .create_link(
                    CTX,
                    chain.opportunity.id,
                    new_link(&quote, Relation::Supports),
                )
                .expect_err("accepted"),
        ),
        (
            "link strength out of range",
            store
                .update_link(
                    CTX,
                    linked.id,
                    LinkPatch {
                        strength: Some(Some(0)),
                        ..LinkPatch::default()
                    },
                    None,
                )
                .expect_err("accepted"),
        ),
        (
            "delete node with children",
            store
                .delete_node(CTX, chain.opportunity.id, DeleteMode::LeafOnly, None)
                .expect_err("accepted"),
        ),
        (
            "delete linked evidence",
            store
                .delete_evidence(CTX, quote.id, false, None)
                .expect_err("accepted"),
        ),
        (
            "stale tree version",
            store
                .delete_tree(CTX, chain.tree_id(), Some(7))
                .expect_err("accepted"),
        ),
        (
            "blank tree title",
            store
                .update_tree(
                    CTX,
                    chain.tree_id(),
                    TreePatch {
                        title: Some(String::new()),
                        description: None,
                    },
                    None,
                )
                .expect_err("accepted"),
        ),
    ];
    let after = all_history(&store, chain.tree_id());

    for (case, err) in &failures {
        assert!(
            !matches!(err, Error::Storage(_)),
            "{case}: rejected by a rule, not the database: {err:?}"
        );
    }
    assert_eq!(after, before, "no entry appended by failed writes");
}

#[test]
fn history_subtree_delete_records_each_removal() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let on_experiment = link(&store, &chain.experiment, &quote);
    let on_opportunity = link(&store, &chain.opportunity, &quote);
    let before = all_history(&store, chain.tree_id()).len();

    store
        .delete_node(CTX, chain.opportunity.id, DeleteMode::Subtree, None)
        .expect("delete subtree");
    let entries = all_history(&store, chain.tree_id());
    let appended = &entries[..entries.len() - before];

    // Deepest first, each node's links before the node, newest at the top of the list.
    assert_eq!(
        summary(appended),
        [
            step("delete", "node", chain.opportunity.id),
            step("unlink", "link", on_opportunity.id),
            step("delete", "node", chain.solution.id),
            step("delete", "node", chain.experiment.id),
            step("unlink", "link", on_experiment.id),
        ],
        "appended entries, newest first"
    );
}

#[test]
fn history_evidence_delete_records_unlinks() {
    let store = open();
    let first = chain(&store, "Trial retention");
    let second = chain(&store, "Expansion revenue");
    let quote = evidence(&store, "Quote");
    let in_first = link(&store, &first.solution, &quote);
    let in_second = link(&store, &second.solution, &quote);

    store
        .delete_evidence(&as_actor("maria@example.com"), quote.id, true, None)
        .expect("delete with links");

    for (chain, linked) in [(&first, &in_first), (&second, &in_second)] {
        let newest = all_history(&store, chain.tree_id()).remove(0);

        assert_eq!(
            (newest.action.as_str(), newest.entity_id.clone()),
            ("unlink", linked.id.to_string()),
            "{}: newest entry",
            chain.tree.tree.title
        );
        assert_eq!(
            newest.actor.as_deref(),
            Some("maria@example.com"),
            "{}: actor",
            chain.tree.tree.title
        );
    }
}

#[test]
fn history_survives_tree_delete() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let before = all_history(&store, chain.tree_id());

    store
        .delete_tree(&as_actor("maria@example.com"), chain.tree_id(), None)
        .expect("delete tree");
    let entries = all_history(&store, chain.tree_id());

    assert_eq!(entries.len(), before.len() + 1, "one entry appended");
    assert_eq!(
        summary(&entries[..1]),
        [step("delete", "tree", chain.tree_id())],
        "newest entry"
    );
    assert_eq!(
        entries[0].before,
        Some(serde_json::to_value(&chain.tree.tree).expect("tree as JSON")),
        "delete: before is the tree"
    );
    assert_eq!(entries[1..], before[..], "older entries kept");
}

#[test]
fn history_of_unknown_tree_not_found() {
    let store = open();
    tree(&store, "Trial retention");
    let missing = TreeId::generate();

    let err = store
        .list_history(
            missing,
            PageRequest {
                limit: 10,
                after: None,
            },
        )
        .expect_err("listed history of a tree that never existed");

    assert!(
        matches!(&err, Error::NotFound { entity: "tree", id } if *id == missing.to_string()),
        "{err:?}"
    );
}
