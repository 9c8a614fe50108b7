//! Export of one tree as a document written entry by entry, so memory does not grow with the
//! tree's text.
//!
//! One query walks the tree from its root depth-first, siblings by position, and each node
//! is written before the next is read. The export keeps the ids of the nodes that have
//! links, and then reads the evidence and the links node by node in the same order. All
//! reads share one read transaction. The only state kept in Rust is those node ids and the
//! set of evidence ids already written.

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::LazyLock;

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::super::{evidence, links, nodes, qualified, trees};
use crate::error::{Error, Result};
use crate::id::{NodeId, TreeId};
use crate::model::{
    DOCUMENT_FORMAT, DOCUMENT_VERSION, DocumentEvidence, DocumentLink, DocumentNode, DocumentTree,
    Evidence, Link, Node,
};

/// The tree's nodes depth-first, siblings by position, each with whether it has links.
///
/// The `ORDER BY` of the recursive part turns SQLite's queue of nodes to visit into a
/// priority queue that yields the deepest node first, and among siblings the lowest
/// position (<https://sqlite.org/lang_with.html>). The queue then contains only siblings of
/// the nodes on the current path, and the walk yields nodes depth-first. `CROSS JOIN` makes
/// SQLite read the walk first, in that order, and look each node up by id.
///
/// NOTE: SQLite's documentation shows a depth-first walk read in this order without an
/// outer `ORDER BY`, but does not promise the order. `export_orders_nodes_depth_first_by_position`
/// checks it with the bundled SQLite (3.50.2).
pub(in crate::sqlite) static NODES_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE walk (id, depth, position) AS (
             SELECT ?1, 0, 0
             UNION ALL
             SELECT nodes.id, walk.depth + 1, nodes.position
             FROM walk JOIN nodes ON nodes.parent_id = walk.id
             ORDER BY 2 DESC, 3
         )
         SELECT {}, EXISTS (SELECT 1 FROM links WHERE links.node_id = nodes.id)
         FROM walk CROSS JOIN nodes ON nodes.id = walk.id",
        qualified("nodes", nodes::COLUMNS)
    )
});

/// The column of [`NODES_SQL`] that is true when the node has links.
const HAS_LINKS_COLUMN: usize = 12;

/// Writes the document of tree `id` to `out` as compact JSON, in the member order of
/// [`crate::model::TreeDocument`].
///
/// Fails with [`Error::NotFound`] before it writes anything when there is no such tree, and
/// with [`Error::Output`] when `out` fails.
pub(in crate::sqlite) fn write_document(
    conn: &mut Connection,
    id: TreeId,
    out: &mut dyn Write,
) -> Result<()> {
    // Read the tree, its nodes, links and evidence in one snapshot.
    let tx = conn.transaction()?;
    let tree = trees::get(&tx, id)?;
    let root = tree.root_node_id;

    let mut document = DocumentWriter { out };
    document.raw(b"{\"format\":")?;
    document.value(DOCUMENT_FORMAT)?;
    document.raw(format!(",\"version\":{DOCUMENT_VERSION},\"tree\":").as_bytes())?;
    document.value(&DocumentTree {
        title: tree.title,
        description: tree.description,
    })?;

    document.raw(b",\"nodes\":[")?;
    let linked_nodes = write_nodes(&tx, root, &mut document)?;
    document.raw(b"],\"evidence\":[")?;
    write_evidence(&tx, &linked_nodes, &mut document)?;
    document.raw(b"],\"links\":[")?;
    write_links(&tx, &linked_nodes, &mut document)?;
    document.raw(b"]}")?;

    document.out.flush().map_err(Error::Output)?;
    tx.commit()?;
    Ok(())
}

/// Writes the nodes and returns the ids of those with links, in document order.
fn write_nodes(
    tx: &Transaction<'_>,
    root: NodeId,
    document: &mut DocumentWriter<'_>,
) -> Result<Vec<NodeId>> {
    let mut statement = tx.prepare_cached(&NODES_SQL)?;
    let mut rows = statement.query([root])?;
    let mut linked_nodes = Vec::new();
    let mut separator = Separator::default();
    while let Some(row) = rows.next()? {
        let node = nodes::from_row(row)?;
        if row.get(HAS_LINKS_COLUMN)? {
            linked_nodes.push(node.id);
        }

        document.raw(separator.next())?;
        document.value(&node_entry(node))?;
    }
    Ok(linked_nodes)
}

/// Writes each evidence item that a link points to, once, where a link first uses it.
fn write_evidence(
    tx: &Transaction<'_>,
    linked_nodes: &[NodeId],
    document: &mut DocumentWriter<'_>,
) -> Result<()> {
    let mut written = HashSet::new();
    let mut separator = Separator::default();
    for &node_id in linked_nodes {
        for link in links::of_node(tx, node_id)? {
            if !written.insert(link.evidence_id) {
                continue;
            }

            let item = evidence::get(tx, link.evidence_id)?;
            document.raw(separator.next())?;
            document.value(&evidence_entry(item))?;
        }
    }
    Ok(())
}

fn write_links(
    tx: &Transaction<'_>,
    linked_nodes: &[NodeId],
    document: &mut DocumentWriter<'_>,
) -> Result<()> {
    let mut separator = Separator::default();
    for &node_id in linked_nodes {
        for link in links::of_node(tx, node_id)? {
            document.raw(separator.next())?;
            document.value(&link_entry(link))?;
        }
    }
    Ok(())
}

/// The output of one export, with its write errors mapped to [`Error::Output`].
struct DocumentWriter<'a> {
    out: &'a mut dyn Write,
}

impl DocumentWriter<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(Error::Output)
    }

    fn value(&mut self, value: &(impl Serialize + ?Sized)) -> Result<()> {
        // Document entries contain only strings, numbers and string-keyed maps, so the
        // only error serde_json can return here is one of `out`.
        serde_json::to_writer(&mut *self.out, value)
            .map_err(|err| Error::Output(io::Error::from(err)))
    }
}

/// The text before each element of a JSON array: nothing before the first, then commas.
#[derive(Default)]
struct Separator {
    started: bool,
}

impl Separator {
    fn next(&mut self) -> &'static [u8] {
        if std::mem::replace(&mut self.started, true) {
            b","
        } else {
            b""
        }
    }
}

fn node_entry(node: Node) -> DocumentNode {
    DocumentNode {
        reference: node.id.to_string(),
        parent_ref: node.parent_id.map(|id| id.to_string()),
        kind: node.kind,
        title: node.title,
        description: node.description,
        position: Some(node.position),
        status: node.status,
        result: node.result,
    }
}

fn evidence_entry(item: Evidence) -> DocumentEvidence {
    DocumentEvidence {
        reference: item.id.to_string(),
        kind: item.kind,
        title: item.title,
        content: item.content,
        source: item.source,
        occurred_at: item.occurred_at,
        customer: item.customer,
        tags: item.tags,
        metric: item.metric,
    }
}

fn link_entry(link: Link) -> DocumentLink {
    DocumentLink {
        node_ref: link.node_id.to_string(),
        evidence_ref: link.evidence_id.to_string(),
        relation: link.relation,
        strength: link.strength.map(i64::from),
        note: link.note,
    }
}
