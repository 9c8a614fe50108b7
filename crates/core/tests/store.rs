//! The SQLite store against the domain rules, in memory and on a file.

mod common;

use common::{CTX, add, chain, new_tree};
use ost_linker_core::sqlite::SCHEMA_VERSION;
use ost_linker_core::{
    DeleteMode, Error, FieldError, NewNode, NewTree, Node, NodeId, NodeKind, NodePatch,
    PageRequest, SqliteStore, TreeId, TreePatch, TreeStore,
};

fn try_add(store: &SqliteStore, parent: &Node, kind: NodeKind) -> Result<Node, Error> {
    store.create_node(CTX, parent.tree_id, NewNode::new(parent.id, kind, "x"))
}

#[test]
fn tree_is_created_with_outcome_root() {
    let store = SqliteStore::open_in_memory().expect("open");

    let created = store
        .create_tree(CTX, new_tree("  Trial retention  "))
        .expect("create");

    assert_eq!(created.tree.title, "Trial retention");
    assert_eq!(created.tree.root_node_id, created.root.id);
    assert_eq!(created.root.kind, NodeKind::Outcome);
    assert_eq!(created.root.parent_id, None);
    assert_eq!(created.root.tree_id, created.tree.id);
    assert_eq!(
        store.list_nodes(created.tree.id).expect("list"),
        vec![created.root]
    );
}

#[test]
fn parent_rules_allow_each_kind_under_its_parents() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");

    let nested = add(
        &store,
        &chain.opportunity,
        NodeKind::Opportunity,
        "Nested need",
    );

    assert_eq!(nested.parent_id, Some(chain.opportunity.id));
    assert_eq!(chain.experiment.parent_id, Some(chain.solution.id));
}

#[test]
fn parent_rules_reject_wrong_kinds() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");
    let root = &chain.tree.root;

    // (parent, child kind, parent kind)
    let cases = [
        (root, NodeKind::Solution, NodeKind::Outcome),
        (root, NodeKind::Experiment, NodeKind::Outcome),
        (
            &chain.opportunity,
            NodeKind::Experiment,
            NodeKind::Opportunity,
        ),
        (&chain.solution, NodeKind::Opportunity, NodeKind::Solution),
        (&chain.solution, NodeKind::Solution, NodeKind::Solution),
        (
            &chain.experiment,
            NodeKind::Experiment,
            NodeKind::Experiment,
        ),
        (
            &chain.experiment,
            NodeKind::Opportunity,
            NodeKind::Experiment,
        ),
    ];
    for (parent, child, parent_kind) in cases {
        let err = try_add(&store, parent, child).expect_err("wrong parent accepted");

        assert!(
            matches!(err, Error::InvalidParentKind { child: c, parent: p, .. } if c == child && p == parent_kind),
            "{child} under {parent_kind}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(child.as_str()), "{message}");
        assert!(message.contains(parent_kind.as_str()), "{message}");
    }
}

#[test]
fn outcome_cannot_be_created_as_node() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");

    let err = try_add(&store, &chain.opportunity, NodeKind::Outcome).expect_err("accepted");

    assert!(matches!(err, Error::KindNotCreatable { .. }), "{err:?}");
}

#[test]
fn parent_from_other_tree_is_rejected() {
    let store = SqliteStore::open_in_memory().expect("open");
    let first = chain(&store, "Trial retention");
    let second = store.create_tree(CTX, new_tree("Other")).expect("create");

    let err = store
        .create_node(
            CTX,
            second.tree.id,
            NewNode::new(first.opportunity.id, NodeKind::Solution, "x"),
        )
        .expect_err("accepted");

    assert!(matches!(err, Error::ParentInOtherTree { .. }), "{err:?}");
}

#[test]
fn missing_parent_is_unknown_reference() {
    let store = SqliteStore::open_in_memory().expect("open");
    let created = store.create_tree(CTX, new_tree("T")).expect("create");

    let err = store
        .create_node(
            CTX,
            created.tree.id,
            NewNode::new(NodeId::generate(), NodeKind::Opportunity, "x"),
        )
        .expect_err("accepted");

    assert!(
        matches!(
            err,
            Error::UnknownReference {
                field: "/parent_id",
                entity: "node",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn field_rules_are_enforced() {
    let store = SqliteStore::open_in_memory().expect("open");

    let blank = store
        .create_tree(CTX, new_tree("   "))
        .expect_err("blank title accepted");
    let long_outcome = store
        .create_tree(
            CTX,
            NewTree {
                outcome_title: "o".repeat(201),
                ..new_tree("T")
            },
        )
        .expect_err("long outcome title accepted");
    let long_description = store
        .create_tree(
            CTX,
            NewTree {
                description: "d".repeat(10_001),
                ..new_tree("T")
            },
        )
        .expect_err("long description accepted");

    assert!(
        matches!(
            blank,
            Error::Field(FieldError::Empty {
                field: "/title",
                ..
            })
        ),
        "{blank:?}"
    );
    assert!(
        matches!(
            long_outcome,
            Error::Field(FieldError::TooLong {
                field: "/outcome/title",
                length: 201,
                max: 200
            })
        ),
        "{long_outcome:?}"
    );
    assert!(
        matches!(
            long_description,
            Error::Field(FieldError::TooLong {
                field: "/description",
                ..
            })
        ),
        "{long_description:?}"
    );
}

#[test]
fn siblings_get_dense_positions_in_depth_first_listing() {
    let store = SqliteStore::open_in_memory().expect("open");
    let created = store.create_tree(CTX, new_tree("T")).expect("create");
    let first = add(&store, &created.root, NodeKind::Opportunity, "first");
    let second = add(&store, &created.root, NodeKind::Opportunity, "second");
    let nested = add(&store, &first, NodeKind::Opportunity, "nested");
    let solution = add(&store, &second, NodeKind::Solution, "solution");

    let titles: Vec<_> = store
        .list_nodes(created.tree.id)
        .expect("list")
        .into_iter()
        .map(|node| (node.title, node.position))
        .collect();

    assert_eq!(
        titles,
        [
            (created.root.title.clone(), 0),
            ("first".into(), 0),
            ("nested".into(), 0),
            ("second".into(), 1),
            ("solution".into(), 0),
        ]
    );
    assert_eq!(nested.position, 0);
    assert_eq!(solution.position, 0);
}

#[test]
fn node_with_children_needs_subtree_delete() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");

    let refused = store
        .delete_node(CTX, chain.opportunity.id, DeleteMode::LeafOnly, None)
        .expect_err("deleted a node with children");
    let deleted = store
        .delete_node(CTX, chain.opportunity.id, DeleteMode::Subtree, None)
        .expect("subtree delete");

    assert!(
        matches!(refused, Error::NodeHasChildren { children: 1, .. }),
        "{refused:?}"
    );
    assert_eq!(deleted, 3);
    for id in [chain.opportunity.id, chain.solution.id, chain.experiment.id] {
        assert!(
            matches!(store.get_node(id), Err(Error::NotFound { .. })),
            "{id} survived"
        );
    }
}

#[test]
fn leaf_delete_closes_position_gap() {
    let store = SqliteStore::open_in_memory().expect("open");
    let created = store.create_tree(CTX, new_tree("T")).expect("create");
    let first = add(&store, &created.root, NodeKind::Opportunity, "first");
    let second = add(&store, &created.root, NodeKind::Opportunity, "second");
    let third = add(&store, &created.root, NodeKind::Opportunity, "third");

    store
        .delete_node(CTX, first.id, DeleteMode::LeafOnly, None)
        .expect("delete");

    assert_eq!(store.get_node(second.id).expect("second").position, 0);
    assert_eq!(store.get_node(third.id).expect("third").position, 1);
}

#[test]
fn root_outcome_cannot_be_deleted_alone() {
    let store = SqliteStore::open_in_memory().expect("open");
    let created = store.create_tree(CTX, new_tree("T")).expect("create");

    let err = store
        .delete_node(CTX, created.root.id, DeleteMode::Subtree, None)
        .expect_err("deleted the root");

    assert!(matches!(err, Error::RootNodeDelete { .. }), "{err:?}");
}

#[test]
fn tree_delete_removes_its_nodes() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");

    store
        .delete_tree(CTX, chain.tree.tree.id, None)
        .expect("delete tree");

    assert!(matches!(
        store.get_tree(chain.tree.tree.id),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.get_node(chain.experiment.id),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_tree(CTX, chain.tree.tree.id, None),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn updates_change_only_given_fields() {
    let store = SqliteStore::open_in_memory().expect("open");
    let chain = chain(&store, "Trial retention");

    let tree = store
        .update_tree(
            CTX,
            chain.tree.tree.id,
            TreePatch {
                title: Some(" Renamed ".into()),
                description: None,
            },
            None,
        )
        .expect("update tree");
    let node = store
        .update_node(
            CTX,
            chain.solution.id,
            NodePatch {
                title: None,
                description: Some("Paste rows from a spreadsheet".into()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("update node");
    let invalid = store
        .update_node(
            CTX,
            chain.solution.id,
            NodePatch {
                title: Some(String::new()),
                ..NodePatch::default()
            },
            None,
        )
        .expect_err("blank title accepted");

    assert_eq!(tree.title, "Renamed");
    assert_eq!(tree.description, chain.tree.tree.description);
    assert_eq!(node.title, chain.solution.title);
    assert_eq!(node.description, "Paste rows from a spreadsheet");
    assert!(matches!(invalid, Error::Field(_)), "{invalid:?}");
    assert_eq!(
        store.get_node(chain.solution.id).expect("get").title,
        chain.solution.title
    );
}

#[test]
fn tree_listing_pages_with_cursor() {
    let store = SqliteStore::open_in_memory().expect("open");
    let ids: Vec<TreeId> = (0..5)
        .map(|n| {
            store
                .create_tree(CTX, new_tree(&format!("T{n}")))
                .expect("create")
                .tree
                .id
        })
        .collect();

    let first = store
        .list_trees(PageRequest {
            limit: 2,
            after: None,
        })
        .expect("page 1");
    let cursor = TreeId::parse(first.next_cursor.as_deref().expect("cursor")).expect("parse");
    let second = store
        .list_trees(PageRequest {
            limit: 3,
            after: Some(cursor),
        })
        .expect("page 2");

    let seen: Vec<TreeId> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|tree| tree.id)
        .collect();
    assert_eq!(seen, ids);
    assert_eq!(second.next_cursor, None);
}

#[test]
fn file_store_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ost.db");
    let chain = {
        let store = SqliteStore::open(&path).expect("open");
        chain(&store, "Trial retention")
    };

    let reopened = SqliteStore::open(&path).expect("reopen");

    assert_eq!(reopened.schema_version().expect("version"), SCHEMA_VERSION);
    assert_eq!(
        reopened.get_tree(chain.tree.tree.id).expect("tree"),
        chain.tree.tree
    );
    assert_eq!(
        reopened.get_node(chain.experiment.id).expect("node"),
        chain.experiment
    );
    assert_eq!(
        reopened.list_nodes(chain.tree.tree.id).expect("list").len(),
        4
    );
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ost.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("open raw");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("set version");
    }

    let err = SqliteStore::open(&path).expect_err("opened a newer schema");

    assert!(matches!(err, Error::SchemaTooNew { .. }), "{err:?}");
}
