//! The rules of a document's nodes: the root outcome first, refs, parents that come earlier
//! and are of an allowed kind, positions, and each node's fields.

use std::collections::HashMap;

use super::{Problems, index_refs};
use crate::error::Error;
use crate::model::{DocumentNode, NodeKind};
use crate::rules;

/// Checks every node and returns the index of each node by its ref.
pub(super) fn check_nodes<'a>(
    problems: &mut Problems,
    nodes: &'a [DocumentNode],
) -> HashMap<&'a str, usize> {
    let refs = index_refs(
        problems,
        "nodes",
        nodes.iter().map(|node| node.reference.as_str()),
    );
    if nodes.is_empty() {
        problems.push(
            "/nodes".to_owned(),
            "missing_outcome",
            "`/nodes` is empty: the first node must be the tree's outcome, with `parent_ref` null"
                .to_owned(),
        );
    }

    // How many children each parent ref has had so far, to check positions.
    let mut children: HashMap<&str, u32> = HashMap::new();
    for (index, node) in nodes.iter().enumerate() {
        let prefix = format!("/nodes/{index}");
        check_node_fields(problems, &prefix, node);
        if index == 0 {
            check_root(problems, node);
            continue;
        }

        if node.kind == NodeKind::Outcome {
            problems.push(
                format!("{prefix}/kind"),
                "kind_not_creatable",
                "a tree has one outcome, the document's first node: make this node an \
                 opportunity, solution or experiment"
                    .to_owned(),
            );
        }
        let Some(parent_ref) = &node.parent_ref else {
            problems.push(
                format!("{prefix}/parent_ref"),
                "missing_parent",
                format!(
                    "node `{}` has no parent_ref, and only the first node, the outcome, may \
                     have none: give the ref of an earlier node",
                    node.reference
                ),
            );
            continue;
        };

        if check_parent(problems, &prefix, nodes, &refs, index) {
            let position = children.entry(parent_ref.as_str()).or_insert(0);
            check_position(problems, &prefix, node, parent_ref, *position);
            *position += 1;
        }
    }

    refs
}

/// Checks the fields every node has, and the experiment-only ones.
fn check_node_fields(problems: &mut Problems, prefix: &str, node: &DocumentNode) {
    problems.check(prefix, rules::title("/title", &node.title).map(drop));
    problems.check(
        prefix,
        rules::description("/description", &node.description).map(drop),
    );

    let is_experiment = node.kind == NodeKind::Experiment;
    for (field, given) in [
        ("/status", node.status.is_some()),
        ("/result", node.result.is_some()),
    ] {
        if given && !is_experiment {
            let err = Error::ExperimentFieldOnOtherKind {
                field,
                kind: node.kind,
            };
            problems.push(
                format!("{prefix}{field}"),
                "experiment_field_not_allowed",
                format!("{err}. Remove the member"),
            );
        }
    }
    if let (true, Some(result)) = (is_experiment, &node.result) {
        problems.check(prefix, rules::description("/result", result).map(drop));
    }
}

/// Checks that the first node is the root outcome.
fn check_root(problems: &mut Problems, node: &DocumentNode) {
    if node.kind != NodeKind::Outcome {
        problems.push(
            "/nodes/0/kind".to_owned(),
            "root_not_outcome",
            format!(
                "the first node is a {}, but a tree starts with its outcome: put the outcome first",
                node.kind
            ),
        );
    }
    if let Some(parent_ref) = &node.parent_ref {
        problems.push(
            "/nodes/0/parent_ref".to_owned(),
            "root_has_parent",
            format!("the first node, the root outcome, names parent `{parent_ref}`: set `parent_ref` to null"),
        );
    }
    if let Some(position) = node.position.filter(|position| *position != 0) {
        problems.push(
            "/nodes/0/position".to_owned(),
            "position_mismatch",
            format!("the root outcome has position {position}: set it to 0 or leave it out"),
        );
    }
}

/// Checks that a node's parent exists, comes earlier, and is of an allowed kind; returns
/// whether it does all three.
fn check_parent(
    problems: &mut Problems,
    prefix: &str,
    nodes: &[DocumentNode],
    refs: &HashMap<&str, usize>,
    index: usize,
) -> bool {
    let node = &nodes[index];
    let Some(parent_ref) = node.parent_ref.as_deref() else {
        return false;
    };
    let pointer = format!("{prefix}/parent_ref");

    let Some(&parent_index) = refs.get(parent_ref) else {
        problems.push(
            pointer,
            "unknown_ref",
            format!("parent `{parent_ref}` names no node of the document: use the ref of an earlier node"),
        );
        return false;
    };
    if parent_index >= index {
        let (code, detail) = if leads_back(nodes, refs, parent_index, index) {
            (
                "node_cycle",
                format!(
                    "node `{}` is its own ancestor through parent `{parent_ref}`: choose a parent outside its subtree",
                    node.reference
                ),
            )
        } else {
            (
                "parent_after_child",
                format!(
                    "parent `{parent_ref}` comes later, at /nodes/{parent_index}: list every parent before its children"
                ),
            )
        };
        problems.push(pointer, code, detail);
        return false;
    }

    let parent_kind = nodes[parent_index].kind;
    if !node.kind.may_have_parent(parent_kind) {
        let err = Error::InvalidParentKind {
            child: node.kind,
            parent_id: parent_ref.to_owned(),
            parent: parent_kind,
        };
        problems.push(
            pointer,
            "invalid_parent_kind",
            format!("{err}. Choose a parent of an allowed kind"),
        );
        return false;
    }

    true
}

/// Returns whether following parents up from `start` reaches `target`.
fn leads_back(
    nodes: &[DocumentNode],
    refs: &HashMap<&str, usize>,
    start: usize,
    target: usize,
) -> bool {
    let mut cursor = start;
    // Each step moves to another node, so a walk longer than the node count is in a loop
    // that does not contain `target`.
    for _ in 0..=nodes.len() {
        if cursor == target {
            return true;
        }
        let parent = nodes[cursor].parent_ref.as_deref();
        match parent.and_then(|parent| refs.get(parent)) {
            Some(&next) => cursor = next,
            None => return false,
        }
    }

    false
}

/// Checks that a given position equals the node's place among its parent's children.
fn check_position(
    problems: &mut Problems,
    prefix: &str,
    node: &DocumentNode,
    parent_ref: &str,
    expected: u32,
) {
    let Some(position) = node.position.filter(|position| *position != expected) else {
        return;
    };

    problems.push(
        format!("{prefix}/position"),
        "position_mismatch",
        format!(
            "position {position} differs from the node's place among the children of \
             `{parent_ref}` in document order, {expected}: set it to {expected}, leave it \
             out, or reorder the nodes"
        ),
    );
}
