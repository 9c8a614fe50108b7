//! Helpers shared by the store tests: a write context, and small builders for trees, nodes,
//! evidence and links.

// Each test file compiles this module on its own and uses only some of the helpers.
#![allow(dead_code)]

use ost_linker_core::{
    Error, Evidence, EvidenceKind, EvidenceStore, Link, Metric, NewEvidence, NewLink, NewNode,
    NewTree, Node, NodeId, NodeKind, PageRequest, Relation, Source, SqliteStore, TreeId, TreeStore,
    TreeWithRoot, WriteContext,
};

pub const CTX: &WriteContext = &WriteContext {
    actor: None,
    idempotency: None,
};

pub fn open() -> SqliteStore {
    SqliteStore::open_in_memory().expect("open in-memory store")
}

pub fn new_tree(title: &str) -> NewTree {
    NewTree {
        title: title.into(),
        description: "Trial accounts that still pay after 90 days".into(),
        outcome_title: "Raise 90-day trial retention from 18% to 26%".into(),
        outcome_description: String::new(),
    }
}

pub fn tree(store: &SqliteStore, title: &str) -> TreeWithRoot {
    store
        .create_tree(CTX, new_tree(title))
        .unwrap_or_else(|err| panic!("creating tree {title:?}: {err}"))
}

pub fn add(store: &SqliteStore, parent: &Node, kind: NodeKind, title: &str) -> Node {
    store
        .create_node(CTX, parent.tree_id, NewNode::new(parent.id, kind, title))
        .unwrap_or_else(|err| panic!("adding {kind} {title:?}: {err}"))
}

/// A tree with an outcome, one opportunity, one solution and one experiment.
pub struct Chain {
    pub tree: TreeWithRoot,
    pub opportunity: Node,
    pub solution: Node,
    pub experiment: Node,
}

impl Chain {
    pub fn tree_id(&self) -> TreeId {
        self.tree.tree.id
    }
}

pub fn chain(store: &SqliteStore, title: &str) -> Chain {
    let tree = tree(store, title);
    let opportunity = add(
        store,
        &tree.root,
        NodeKind::Opportunity,
        "Setup takes too long",
    );
    let solution = add(
        store,
        &opportunity,
        NodeKind::Solution,
        "Spreadsheet import",
    );
    let experiment = add(store, &solution, NodeKind::Experiment, "Fake door");
    Chain {
        tree,
        opportunity,
        solution,
        experiment,
    }
}

/// A valid new evidence item of `kind`, with a metric only for [`EvidenceKind::Metric`].
pub fn new_evidence(kind: EvidenceKind, title: &str) -> NewEvidence {
    NewEvidence {
        kind,
        title: title.into(),
        content: "Took me a whole afternoon to enter our shifts.".into(),
        source: Source::default(),
        occurred_at: None,
        customer: None,
        tags: Vec::new(),
        metric: (kind == EvidenceKind::Metric).then(metric),
    }
}

pub fn metric() -> Metric {
    Metric {
        name: "trial_d90_retention".into(),
        value: 18.4,
        unit: "percent".into(),
        period: "2026-04-01/2026-06-30".into(),
    }
}

pub fn source(system: &str, external_id: &str) -> Source {
    Source {
        system: Some(system.into()),
        external_id: Some(external_id.into()),
        url: None,
    }
}

pub fn evidence(store: &SqliteStore, title: &str) -> Evidence {
    store
        .create_evidence(CTX, new_evidence(EvidenceKind::InterviewSnippet, title))
        .unwrap_or_else(|err| panic!("creating evidence {title:?}: {err}"))
}

pub fn new_link(evidence: &Evidence, relation: Relation) -> NewLink {
    NewLink {
        evidence_id: evidence.id,
        relation,
        strength: None,
        note: String::new(),
    }
}

pub fn link(store: &SqliteStore, node: &Node, evidence: &Evidence) -> Link {
    store
        .create_link(CTX, node.id, new_link(evidence, Relation::Supports))
        .unwrap_or_else(|err| panic!("linking {} to {}: {err}", node.id, evidence.id))
}

/// Returns the children of `parent` as (title, position) pairs, in listing order.
pub fn children(store: &SqliteStore, parent: &Node) -> Vec<(String, u32)> {
    store
        .list_nodes(parent.tree_id)
        .expect("list nodes")
        .into_iter()
        .filter(|node| node.parent_id == Some(parent.id))
        .map(|node| (node.title, node.position))
        .collect()
}

/// Returns the ids of every node of a tree, in listing order.
pub fn node_ids(store: &SqliteStore, tree_id: TreeId) -> Vec<NodeId> {
    store
        .list_nodes(tree_id)
        .expect("list nodes")
        .into_iter()
        .map(|node| node.id)
        .collect()
}

/// Returns the whole history of a tree, newest first.
pub fn all_history(store: &SqliteStore, tree_id: TreeId) -> Vec<ost_linker_core::HistoryEntry> {
    store
        .list_history(
            tree_id,
            PageRequest {
                limit: 1_000,
                after: None,
            },
        )
        .expect("list history")
        .items
}

/// Returns the JSON pointer of a field error, or panics naming `case`.
pub fn field_of(err: &Error, case: &str) -> String {
    match err {
        Error::Field(field) => field.field(),
        other => panic!("{case}: expected a field error, got {other:?}"),
    }
}
