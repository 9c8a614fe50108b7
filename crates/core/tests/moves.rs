//! Node moves and inserts at a position, and the fields only experiments have.

mod common;

use common::{CTX, add, chain, children, field_of, node_ids, open, tree};
use ost_linker_core::{
    Error, ExperimentStatus, NewNode, Node, NodeId, NodeKind, NodePatch, SqliteStore, TreeStore,
};

fn move_to(
    store: &SqliteStore,
    node: &Node,
    parent: Option<&Node>,
    position: Option<u32>,
) -> Result<Node, Error> {
    store.update_node(
        CTX,
        node.id,
        NodePatch {
            parent_id: parent.map(|parent| parent.id),
            position,
            ..NodePatch::default()
        },
        None,
    )
}

/// Returns the expected children listing: the titles with positions 0, 1, 2, …
fn dense(titles: &[&str]) -> Vec<(String, u32)> {
    titles
        .iter()
        .zip(0..)
        .map(|(title, position)| ((*title).to_owned(), position))
        .collect()
}

/// Adds opportunities with the given titles under `parent`.
fn opportunities(store: &SqliteStore, parent: &Node, titles: &[&str]) -> Vec<Node> {
    titles
        .iter()
        .map(|title| add(store, parent, NodeKind::Opportunity, title))
        .collect()
}

#[test]
fn move_carries_subtree() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let [from, to] = <[Node; 2]>::try_from(opportunities(&store, &created.root, &["from", "to"]))
        .expect("two opportunities");
    let stays = add(&store, &from, NodeKind::Opportunity, "stays");
    let moved = add(&store, &from, NodeKind::Opportunity, "moved");
    let solution = add(&store, &moved, NodeKind::Solution, "solution");
    let experiment = add(&store, &solution, NodeKind::Experiment, "experiment");
    let already = add(&store, &to, NodeKind::Opportunity, "already there");

    let result = move_to(&store, &moved, Some(&to), None).expect("move");
    let order = node_ids(&store, created.tree.id);

    assert_eq!(result.parent_id, Some(to.id), "new parent");
    assert_eq!(result.position, 1, "appended after the last child");
    assert_eq!(
        store.get_node(solution.id).expect("solution").parent_id,
        Some(moved.id),
        "child still under the moved node"
    );
    assert_eq!(
        store.get_node(experiment.id).expect("experiment").parent_id,
        Some(solution.id),
        "grandchild still under its parent"
    );
    assert_eq!(
        order,
        [
            created.root.id,
            from.id,
            stays.id,
            to.id,
            already.id,
            moved.id,
            solution.id,
            experiment.id,
        ],
        "depth-first listing follows the move"
    );
    assert_eq!(children(&store, &from), dense(&["stays"]), "old parent");
    assert_eq!(
        children(&store, &to),
        dense(&["already there", "moved"]),
        "new parent"
    );
}

#[test]
fn move_to_other_parent_at_position() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let [left, right] =
        <[Node; 2]>::try_from(opportunities(&store, &created.root, &["left", "right"]))
            .expect("two opportunities");
    let from_left = opportunities(&store, &left, &["l0", "l1", "l2"]);
    opportunities(&store, &right, &["r0", "r1"]);

    let moved = move_to(&store, &from_left[1], Some(&right), Some(1)).expect("move");

    assert_eq!(moved.position, 1, "requested position");
    assert_eq!(children(&store, &left), dense(&["l0", "l2"]), "old parent");
    assert_eq!(
        children(&store, &right),
        dense(&["r0", "l1", "r1"]),
        "new parent"
    );
}

#[test]
fn move_to_other_parent_edges() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let [left, right] =
        <[Node; 2]>::try_from(opportunities(&store, &created.root, &["left", "right"]))
            .expect("two opportunities");
    let from_left = opportunities(&store, &left, &["l0", "l1", "l2"]);
    opportunities(&store, &right, &["r0", "r1"]);

    move_to(&store, &from_left[0], Some(&right), Some(0)).expect("move to the front");
    move_to(&store, &from_left[2], Some(&right), Some(3)).expect("move to the end");

    assert_eq!(children(&store, &left), dense(&["l1"]), "old parent");
    assert_eq!(
        children(&store, &right),
        dense(&["l0", "r0", "r1", "l2"]),
        "new parent"
    );
}

#[test]
fn move_into_empty_parent() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let [left, right] =
        <[Node; 2]>::try_from(opportunities(&store, &created.root, &["left", "right"]))
            .expect("two opportunities");

    let moved = move_to(&store, &left, Some(&right), Some(0)).expect("move");

    assert_eq!(moved.position, 0, "only child");
    assert_eq!(
        children(&store, &created.root),
        dense(&["right"]),
        "old parent"
    );
    assert_eq!(children(&store, &right), dense(&["left"]), "new parent");
}

#[test]
fn reorder_within_parent() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let nodes = opportunities(&store, &created.root, &["a", "b", "c", "d"]);
    let root = &created.root;

    let cases: [(usize, u32, [&str; 4]); 5] = [
        (3, 1, ["a", "d", "b", "c"]),
        (0, 3, ["d", "b", "c", "a"]),
        (2, 2, ["d", "b", "c", "a"]),
        (1, 0, ["b", "d", "c", "a"]),
        (0, 3, ["b", "d", "c", "a"]),
    ];
    for (index, position, expected) in cases {
        let moved = move_to(&store, &nodes[index], None, Some(position))
            .unwrap_or_else(|err| panic!("move {} to {position}: {err}", nodes[index].title));

        assert_eq!(
            moved.position, position,
            "{} to {position}: returned position",
            nodes[index].title
        );
        assert_eq!(
            children(&store, root),
            dense(&expected),
            "{} to {position}: siblings",
            nodes[index].title
        );
    }
}

#[test]
fn reorder_with_same_parent_given() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let nodes = opportunities(&store, &created.root, &["a", "b", "c"]);

    let unmoved = move_to(&store, &nodes[1], Some(&created.root), None).expect("same parent");
    let moved = move_to(&store, &nodes[0], Some(&created.root), Some(2)).expect("reorder");

    assert_eq!(unmoved.position, 1, "same parent without position keeps it");
    assert_eq!(moved.position, 2, "same parent with position moves");
    assert_eq!(
        children(&store, &created.root),
        dense(&["b", "c", "a"]),
        "siblings"
    );
}

#[test]
fn move_position_past_end_rejected() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let nodes = opportunities(&store, &created.root, &["a", "b", "c"]);
    let other = opportunities(&store, &nodes[0], &["x", "y"]);

    let same_parent = move_to(&store, &nodes[0], None, Some(3)).expect_err("past the end");
    let other_parent =
        move_to(&store, &nodes[2], Some(&nodes[0]), Some(3)).expect_err("past the end");
    let at_end = move_to(&store, &nodes[2], Some(&nodes[0]), Some(2));

    assert!(
        matches!(
            same_parent,
            Error::PositionOutOfRange {
                position: 3,
                max: 2
            }
        ),
        "same parent: {same_parent:?}"
    );
    assert!(
        matches!(
            other_parent,
            Error::PositionOutOfRange {
                position: 3,
                max: 2
            }
        ),
        "other parent: {other_parent:?}"
    );
    assert!(at_end.is_ok(), "other parent at the end: {at_end:?}");
    assert_eq!(
        children(&store, &created.root),
        dense(&["a", "b"]),
        "old siblings after the moves"
    );
    assert_eq!(
        children(&store, &nodes[0]),
        dense(&["x", "y", "c"]),
        "new siblings after the moves"
    );
    assert_eq!(other.len(), 2, "two children created");
}

#[test]
fn move_under_itself_is_cycle() {
    let store = open();
    let created = tree(&store, "Trial retention");
    let top = add(&store, &created.root, NodeKind::Opportunity, "top");
    let child = add(&store, &top, NodeKind::Opportunity, "child");
    let grandchild = add(&store, &child, NodeKind::Opportunity, "grandchild");

    for (case, parent) in [
        ("itself", &top),
        ("child", &child),
        ("grandchild", &grandchild),
    ] {
        let err = move_to(&store, &top, Some(parent), None).expect_err("cycle accepted");

        assert!(
            matches!(
                &err,
                Error::NodeCycle { id, parent_id }
                    if *id == top.id.to_string() && *parent_id == parent.id.to_string()
            ),
            "under {case}: {err:?}"
        );
    }
    assert_eq!(
        store.get_node(top.id).expect("top"),
        top,
        "top unchanged after rejected moves"
    );
}

#[test]
fn root_cannot_move() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let root = &chain.tree.root;

    let to_parent = move_to(&store, root, Some(&chain.opportunity), None).expect_err("root moved");
    let to_position = move_to(&store, root, None, Some(0)).expect_err("root reordered");

    for (case, err) in [("new parent", to_parent), ("new position", to_position)] {
        assert!(
            matches!(&err, Error::RootNodeMove { id } if *id == root.id.to_string()),
            "{case}: {err:?}"
        );
    }
}

#[test]
fn move_under_wrong_kind_rejected() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let second = add(
        &store,
        &chain.tree.root,
        NodeKind::Opportunity,
        "Pricing unclear",
    );
    let other_solution = add(&store, &second, NodeKind::Solution, "Price page");

    let cases = [
        (&chain.solution, &chain.tree.root, "solution under outcome"),
        (&chain.experiment, &second, "experiment under opportunity"),
        (
            &chain.opportunity,
            &chain.solution,
            "opportunity under solution",
        ),
        (
            &other_solution,
            &chain.experiment,
            "solution under experiment",
        ),
    ];
    for (node, parent, case) in cases {
        let err = move_to(&store, node, Some(parent), None).expect_err("wrong parent kind");

        assert!(
            matches!(
                &err,
                Error::InvalidParentKind { child, parent_id, parent: parent_kind }
                    if *child == node.kind
                        && *parent_id == parent.id.to_string()
                        && *parent_kind == parent.kind
            ),
            "{case}: {err:?}"
        );
        assert_eq!(
            store.get_node(node.id).expect("node"),
            *node,
            "{case}: node unchanged"
        );
    }
}

#[test]
fn move_to_other_tree_rejected() {
    let store = open();
    let first = chain(&store, "Trial retention");
    let second = chain(&store, "Expansion revenue");

    let err = move_to(&store, &first.solution, Some(&second.opportunity), None)
        .expect_err("moved into another tree");

    assert!(
        matches!(
            &err,
            Error::ParentInOtherTree { parent_id, parent_tree_id, tree_id }
                if *parent_id == second.opportunity.id.to_string()
                    && *parent_tree_id == second.tree_id().to_string()
                    && *tree_id == first.tree_id().to_string()
        ),
        "{err:?}"
    );
    assert_eq!(
        children(&store, &second.opportunity),
        dense(&["Spreadsheet import"]),
        "other tree unchanged"
    );
}

#[test]
fn move_to_missing_parent_rejected() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    let err = store
        .update_node(
            CTX,
            chain.solution.id,
            NodePatch {
                parent_id: Some(NodeId::generate()),
                ..NodePatch::default()
            },
            None,
        )
        .expect_err("moved under a missing node");

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
fn create_at_position_shifts_siblings() {
    let store = open();
    let created = tree(&store, "Trial retention");
    opportunities(&store, &created.root, &["a", "b", "c"]);

    for (title, position, expected) in [
        ("x", 1, vec!["a", "x", "b", "c"]),
        ("y", 0, vec!["y", "a", "x", "b", "c"]),
        ("z", 5, vec!["y", "a", "x", "b", "c", "z"]),
    ] {
        let node = store
            .create_node(
                CTX,
                created.tree.id,
                NewNode {
                    position: Some(position),
                    ..NewNode::new(created.root.id, NodeKind::Opportunity, title)
                },
            )
            .unwrap_or_else(|err| panic!("insert {title} at {position}: {err}"));

        assert_eq!(node.position, position, "{title}: returned position");
        assert_eq!(
            children(&store, &created.root),
            dense(&expected),
            "{title} at {position}: siblings"
        );
    }
}

#[test]
fn create_position_past_end_rejected() {
    let store = open();
    let created = tree(&store, "Trial retention");
    opportunities(&store, &created.root, &["a", "b"]);

    let err = store
        .create_node(
            CTX,
            created.tree.id,
            NewNode {
                position: Some(3),
                ..NewNode::new(created.root.id, NodeKind::Opportunity, "late")
            },
        )
        .expect_err("position past the end accepted");

    assert!(
        matches!(
            err,
            Error::PositionOutOfRange {
                position: 3,
                max: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        children(&store, &created.root),
        dense(&["a", "b"]),
        "siblings unchanged"
    );
}

#[test]
fn experiment_status_defaults_to_planned() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    let stored = store.get_node(chain.experiment.id).expect("experiment");

    assert_eq!(
        chain.experiment.status,
        Some(ExperimentStatus::Planned),
        "created experiment"
    );
    assert_eq!(
        stored.status,
        Some(ExperimentStatus::Planned),
        "stored experiment"
    );
    assert_eq!(stored.result, None, "no result yet");
    for node in [&chain.tree.root, &chain.opportunity, &chain.solution] {
        assert_eq!(node.status, None, "{}: no status", node.kind);
    }
}

#[test]
fn experiment_created_with_status_and_result() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    let node = store
        .create_node(
            CTX,
            chain.tree_id(),
            NewNode {
                status: Some(ExperimentStatus::Succeeded),
                result: Some("31 of 200 trial accounts clicked".into()),
                ..NewNode::new(chain.solution.id, NodeKind::Experiment, "Landing page")
            },
        )
        .expect("create experiment");

    assert_eq!(
        node.status,
        Some(ExperimentStatus::Succeeded),
        "given status"
    );
    assert_eq!(
        node.result.as_deref(),
        Some("31 of 200 trial accounts clicked"),
        "given result"
    );
}

#[test]
fn experiment_fields_rejected_on_create() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    let cases = [
        (
            NewNode {
                status: Some(ExperimentStatus::Running),
                ..NewNode::new(chain.opportunity.id, NodeKind::Solution, "s")
            },
            "/status",
            NodeKind::Solution,
        ),
        (
            NewNode {
                result: Some("done".into()),
                ..NewNode::new(chain.tree.root.id, NodeKind::Opportunity, "o")
            },
            "/result",
            NodeKind::Opportunity,
        ),
    ];
    for (new, pointer, kind) in cases {
        let err = store
            .create_node(CTX, chain.tree_id(), new)
            .expect_err("experiment field accepted");

        assert!(
            matches!(err, Error::ExperimentFieldOnOtherKind { field, kind: k } if field == pointer && k == kind),
            "{pointer} on {kind}: {err:?}"
        );
    }
    assert_eq!(
        node_ids(&store, chain.tree_id()).len(),
        4,
        "no node created"
    );
}

#[test]
fn experiment_fields_rejected_on_patch() {
    let store = open();
    let chain = chain(&store, "Trial retention");

    let cases = [
        (
            &chain.solution,
            NodePatch {
                status: Some(ExperimentStatus::Failed),
                ..NodePatch::default()
            },
            "/status",
        ),
        (
            &chain.opportunity,
            NodePatch {
                title: Some("Renamed".into()),
                result: Some(Some("done".into())),
                ..NodePatch::default()
            },
            "/result",
        ),
        (
            &chain.tree.root,
            NodePatch {
                result: Some(None),
                ..NodePatch::default()
            },
            "/result",
        ),
    ];
    for (node, patch, pointer) in cases {
        let err = store
            .update_node(CTX, node.id, patch, None)
            .expect_err("experiment field accepted");

        assert!(
            matches!(err, Error::ExperimentFieldOnOtherKind { field, kind } if field == pointer && kind == node.kind),
            "{pointer} on {}: {err:?}",
            node.kind
        );
        assert_eq!(
            store.get_node(node.id).expect("node"),
            *node,
            "{pointer} on {}: node unchanged",
            node.kind
        );
    }
}

#[test]
fn experiment_result_set_and_cleared() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let id = chain.experiment.id;

    let finished = store
        .update_node(
            CTX,
            id,
            NodePatch {
                status: Some(ExperimentStatus::Failed),
                result: Some(Some("2 of 200 clicked".into())),
                ..NodePatch::default()
            },
            None,
        )
        .expect("finish");
    let renamed = store
        .update_node(
            CTX,
            id,
            NodePatch {
                title: Some("Fake door, first run".into()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("rename");
    let cleared = store
        .update_node(
            CTX,
            id,
            NodePatch {
                result: Some(None),
                ..NodePatch::default()
            },
            None,
        )
        .expect("clear result");
    let too_long = store
        .update_node(
            CTX,
            id,
            NodePatch {
                result: Some(Some("r".repeat(10_001))),
                ..NodePatch::default()
            },
            None,
        )
        .expect_err("result of 10,001 characters accepted");

    assert_eq!(
        finished.status,
        Some(ExperimentStatus::Failed),
        "status set"
    );
    assert_eq!(
        finished.result.as_deref(),
        Some("2 of 200 clicked"),
        "result set"
    );
    assert_eq!(
        renamed.result.as_deref(),
        Some("2 of 200 clicked"),
        "result kept by an unrelated patch"
    );
    assert_eq!(cleared.result, None, "result cleared by Some(None)");
    assert_eq!(
        cleared.status,
        Some(ExperimentStatus::Failed),
        "status kept when result cleared"
    );
    assert_eq!(field_of(&too_long, "long result"), "/result", "long result");
    assert_eq!(
        store.get_node(id).expect("stored").result,
        None,
        "stored result cleared"
    );
}
