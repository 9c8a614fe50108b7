//! Read-only views of one tree, its outline and its gap report, and the [`ViewStore`]
//! implementation, whose search lives in [`super::search`].
//!
//! Both views read the tree with two queries in one snapshot: the depth-first node listing
//! and one grouped count of each node's links by relation.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use super::{SqliteStore, history, nodes, search, trees};
use crate::error::{Error, Result};
use crate::id::{NodeId, TreeId};
use crate::model::{
    ExperimentStatus, GapNode, Gaps, Node, NodeKind, OUTLINE_MAX_DEPTH, Outline, OutlineNode,
    OutlineRequest, SearchQuery, SearchResults, Tree, TreeSummary,
};
use crate::store::ViewStore;

impl ViewStore for SqliteStore {
    fn outline(&self, tree_id: TreeId, request: OutlineRequest) -> Result<Outline> {
        outline(&mut self.read(), tree_id, request)
    }

    fn gaps(&self, tree_id: TreeId) -> Result<Gaps> {
        gaps(&mut self.read(), tree_id)
    }

    fn tree_revision(&self, tree_id: TreeId) -> Result<Option<i64>> {
        history::revision(&self.read(), tree_id)
    }

    fn evidence_revision(&self) -> Result<i64> {
        counter(&self.read(), "evidence")
    }

    fn search_revision(&self) -> Result<i64> {
        counter(&self.read(), "search")
    }

    fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        match &self.searchers {
            Some(searchers) => {
                let query = query.clone();
                searchers.run(move |conn| search::search(conn, &query))
            }
            None => search::search(&mut self.read(), query),
        }
    }
}

/// The value of one of the counters that triggers move on every change to what it covers.
pub(super) const COUNTER_SQL: &str = "SELECT value FROM revisions WHERE name = ?1";

/// Reads the counter `name` of the `revisions` table.
fn counter(conn: &Connection, name: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(COUNTER_SQL)?
        .query_row([name], |row| row.get(0))?)
}

/// The number of links from one node, by relation.
#[derive(Debug, Default, Clone, Copy)]
struct LinkCounts {
    supporting: u64,
    contradicting: u64,
}

/// A tree with its nodes in depth-first order and the link counts of the nodes that have
/// links.
struct CountedTree {
    tree: Tree,
    nodes: Vec<Node>,
    counts: HashMap<NodeId, LinkCounts>,
}

impl CountedTree {
    fn counts_of(&self, id: NodeId) -> LinkCounts {
        self.counts.get(&id).copied().unwrap_or_default()
    }
}

fn read_counted(conn: &mut Connection, tree_id: TreeId) -> Result<CountedTree> {
    let tx = conn.transaction()?;
    let tree = trees::get(&tx, tree_id)?;
    let nodes = nodes::list_in(&tx, tree_id)?;
    let counts = link_counts(&tx, tree_id)?;
    tx.commit()?;

    Ok(CountedTree {
        tree,
        nodes,
        counts,
    })
}

/// The number of links of each node of a tree that has links, by relation.
pub(super) const LINK_COUNTS_SQL: &str = "SELECT links.node_id,
            sum(links.relation = 'supports'),
            sum(links.relation = 'contradicts')
     FROM links JOIN nodes ON nodes.id = links.node_id
     WHERE nodes.tree_id = ?1
     GROUP BY links.node_id";

fn link_counts(conn: &Connection, tree_id: TreeId) -> Result<HashMap<NodeId, LinkCounts>> {
    let counts = conn
        .prepare_cached(LINK_COUNTS_SQL)?
        .query_map([tree_id], |row| {
            let counts = LinkCounts {
                supporting: row.get(1)?,
                contradicting: row.get(2)?,
            };
            Ok((row.get(0)?, counts))
        })?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;

    Ok(counts)
}

fn outline(conn: &mut Connection, tree_id: TreeId, request: OutlineRequest) -> Result<Outline> {
    let counted = read_counted(conn, tree_id)?;
    let start_id = request.start.unwrap_or(counted.tree.root_node_id);
    let Some(start) = counted.nodes.iter().find(|node| node.id == start_id) else {
        return Err(Error::NodeNotInTree {
            id: start_id.to_string(),
            tree_id: tree_id.to_string(),
        });
    };

    let depth = request.depth.min(OUTLINE_MAX_DEPTH);
    let children = children_by_parent(&counted.nodes);
    let root = outline_node(&counted, &children, start, depth);

    Ok(Outline {
        tree: TreeSummary {
            id: counted.tree.id,
            title: counted.tree.title.clone(),
        },
        depth,
        root,
    })
}

/// Groups nodes under their parents. The depth-first input keeps siblings in position order.
fn children_by_parent(nodes: &[Node]) -> HashMap<NodeId, Vec<&Node>> {
    let mut children: HashMap<NodeId, Vec<&Node>> = HashMap::new();
    for node in nodes {
        if let Some(parent_id) = node.parent_id {
            children.entry(parent_id).or_default().push(node);
        }
    }

    children
}

/// Builds the outline of `node` and its descendants down to `depth` more levels.
///
/// The recursion is at most [`OUTLINE_MAX_DEPTH`] calls deep, because the caller caps `depth`.
fn outline_node(
    counted: &CountedTree,
    children: &HashMap<NodeId, Vec<&Node>>,
    node: &Node,
    depth: u32,
) -> OutlineNode {
    let own_children = children
        .get(&node.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let (shown_children, omitted_children) = if depth == 0 {
        (Vec::new(), own_children.len() as u32)
    } else {
        let shown_children = own_children
            .iter()
            .map(|child| outline_node(counted, children, child, depth - 1))
            .collect();
        (shown_children, 0)
    };

    let counts = counted.counts_of(node.id);
    OutlineNode {
        id: node.id,
        kind: node.kind,
        title: node.title.clone(),
        status: node.status,
        result: node.result.clone(),
        position: node.position,
        supporting: counts.supporting,
        contradicting: counts.contradicting,
        omitted_children,
        children: shown_children,
    }
}

fn gaps(conn: &mut Connection, tree_id: TreeId) -> Result<Gaps> {
    let counted = read_counted(conn, tree_id)?;
    let tested_solutions: HashSet<NodeId> = counted
        .nodes
        .iter()
        .filter(|node| node.kind == NodeKind::Experiment)
        .filter_map(|node| node.parent_id)
        .collect();

    let mut gaps = Gaps::default();
    for node in &counted.nodes {
        let counts = counted.counts_of(node.id);
        let list = match node.kind {
            NodeKind::Opportunity if counts.supporting == 0 && counts.contradicting == 0 => {
                &mut gaps.opportunities_without_support
            }
            NodeKind::Opportunity if counts.supporting == 0 => {
                &mut gaps.opportunities_only_contradicted
            }
            NodeKind::Solution if !tested_solutions.contains(&node.id) => {
                &mut gaps.solutions_without_experiments
            }
            NodeKind::Experiment if lacks_result(node) => {
                &mut gaps.finished_experiments_without_result
            }
            _ => continue,
        };
        list.push(gap_node(node, counts));
    }

    Ok(gaps)
}

/// Returns whether `node` is a finished experiment whose result is missing or blank.
fn lacks_result(node: &Node) -> bool {
    let finished = node.status.is_some_and(ExperimentStatus::is_finished);
    let blank = node
        .result
        .as_deref()
        .is_none_or(|result| result.trim().is_empty());

    finished && blank
}

fn gap_node(node: &Node, counts: LinkCounts) -> GapNode {
    GapNode {
        id: node.id,
        kind: node.kind,
        title: node.title.clone(),
        status: node.status,
        supporting: counts.supporting,
        contradicting: counts.contradicting,
    }
}
