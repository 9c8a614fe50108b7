//! Tree documents: export of one tree, and import of a document as a new tree in one
//! transaction.

pub(super) mod export;
mod validate;

use std::collections::BTreeMap;
use std::io::Write;

use rusqlite::Connection;

use super::history::{self, Change};
use super::{SqliteStore, evidence, idempotency, links, nodes, trees};
use crate::error::{Error, Result};
use crate::id::{EvidenceId, NodeId, TreeId};
use crate::model::{
    DocumentEvidence, DocumentLink, DocumentProblem, ImportCheck, ImportCounts, ImportedTree,
    NewLink, NewNode, NewTree, Node, Tree, TreeDocument, WriteContext,
};
use crate::store::TransferStore;

impl TransferStore for SqliteStore {
    fn write_export(&self, id: TreeId, out: &mut dyn Write) -> Result<()> {
        export::write_document(&mut *self.export_connection()?, id, out)
    }

    fn check_import(&self, document: &TreeDocument) -> Result<ImportCheck> {
        check(&self.read(), document)
    }

    fn import_tree(&self, ctx: &WriteContext, document: TreeDocument) -> Result<ImportedTree> {
        self.writer.write(|conn| import(conn, ctx, &document))
    }
}

fn check(conn: &Connection, document: &TreeDocument) -> Result<ImportCheck> {
    validate::check_format(document)?;
    let problems = validate::problems(document);

    let mut counts = ImportCounts {
        nodes_created: document.nodes.len() as u64,
        links_created: document.links.len() as u64,
        ..ImportCounts::default()
    };
    for item in &document.evidence {
        if stored_source_match(conn, item)?.is_some() {
            counts.evidence_reused += 1;
        } else {
            counts.evidence_created += 1;
        }
    }

    Ok(ImportCheck {
        valid: problems.is_empty(),
        problems,
        counts,
    })
}

/// Returns the stored item with the same source system and external id as a document's
/// item, if any.
fn stored_source_match(conn: &Connection, item: &DocumentEvidence) -> Result<Option<EvidenceId>> {
    let (Some(system), Some(external_id)) = (&item.source.system, &item.source.external_id) else {
        return Ok(None);
    };

    // The store keeps both trimmed, as the field rules return them.
    evidence::find_by_source(conn, system.trim(), external_id.trim())
}

fn import(
    conn: &mut Connection,
    ctx: &WriteContext,
    document: &TreeDocument,
) -> Result<ImportedTree> {
    validate::check_format(document)?;
    let problems = validate::problems(document);
    if !problems.is_empty() {
        return Err(Error::InvalidDocument { problems });
    }

    let tx = conn.savepoint()?;
    let mut counts = ImportCounts::default();
    let (tree, node_ids) = insert_nodes(&tx, ctx, document, &mut counts)?;
    let evidence_ids = insert_evidence(&tx, &document.evidence, &mut counts)?;
    insert_links(
        &tx,
        ctx,
        &document.links,
        &node_ids,
        &evidence_ids,
        &mut counts,
    )?;

    let imported = ImportedTree {
        tree,
        counts,
        node_ids,
        evidence_ids,
    };
    idempotency::record(&tx, ctx, 201, &imported)?;
    tx.commit()?;

    Ok(imported)
}

/// Creates the tree with its root outcome from the first node, then the other nodes in
/// document order, each appended to its parent's children. Returns the tree and the id of
/// each node by its ref.
fn insert_nodes(
    tx: &Connection,
    ctx: &WriteContext,
    document: &TreeDocument,
    counts: &mut ImportCounts,
) -> Result<(Tree, BTreeMap<String, NodeId>)> {
    // Validation has checked that the first node is the outcome.
    let Some((root, children)) = document.nodes.split_first() else {
        return Err(unresolved("/nodes".to_owned(), "the root outcome"));
    };
    let created = trees::insert_new(
        tx,
        NewTree {
            title: document.tree.title.clone(),
            description: document.tree.description.clone(),
            outcome_title: root.title.clone(),
            outcome_description: root.description.clone(),
        },
    )?;
    let tree_id = created.tree.id;
    history::record(
        tx,
        ctx,
        Change::created(tree_id, "tree", tree_id.to_string(), &created.tree),
    )?;
    record_node(tx, ctx, &created.root)?;

    let mut node_ids = BTreeMap::from([(root.reference.clone(), created.root.id)]);
    for (index, child) in children.iter().enumerate() {
        // Validation has checked that every parent ref names an earlier node.
        let parent_ref = child.parent_ref.as_deref().unwrap_or_default();
        let pointer = format!("/nodes/{}/parent_ref", index + 1);
        let parent_id = id_of(&node_ids, pointer, parent_ref)?;
        let node = nodes::insert_new(
            tx,
            tree_id,
            NewNode {
                parent_id,
                kind: child.kind,
                title: child.title.clone(),
                description: child.description.clone(),
                position: None,
                status: child.status,
                result: child.result.clone(),
            },
        )?;
        record_node(tx, ctx, &node)?;
        node_ids.insert(child.reference.clone(), node.id);
    }
    counts.nodes_created = node_ids.len() as u64;

    Ok((created.tree, node_ids))
}

/// Creates each evidence item, or reuses the stored item with the same source system and
/// external id. Returns the id of each item by its ref.
fn insert_evidence(
    tx: &Connection,
    items: &[DocumentEvidence],
    counts: &mut ImportCounts,
) -> Result<BTreeMap<String, EvidenceId>> {
    let mut evidence_ids = BTreeMap::new();
    for item in items {
        let id = match stored_source_match(tx, item)? {
            Some(existing) => {
                counts.evidence_reused += 1;
                existing
            }
            None => {
                counts.evidence_created += 1;
                evidence::insert_new(tx, validate::to_new_evidence(item))?.id
            }
        };
        evidence_ids.insert(item.reference.clone(), id);
    }

    Ok(evidence_ids)
}

fn insert_links(
    tx: &Connection,
    ctx: &WriteContext,
    document_links: &[DocumentLink],
    node_ids: &BTreeMap<String, NodeId>,
    evidence_ids: &BTreeMap<String, EvidenceId>,
    counts: &mut ImportCounts,
) -> Result<()> {
    for (index, entry) in document_links.iter().enumerate() {
        // Validation has checked that both refs name entries of the document.
        let node_id = id_of(
            node_ids,
            format!("/links/{index}/node_ref"),
            &entry.node_ref,
        )?;
        let new = NewLink {
            evidence_id: id_of(
                evidence_ids,
                format!("/links/{index}/evidence_ref"),
                &entry.evidence_ref,
            )?,
            relation: entry.relation,
            strength: entry.strength,
            note: entry.note.clone(),
        };
        let (link, tree_id) = links::insert_new(tx, node_id, new)?;
        history::record(
            tx,
            ctx,
            Change::created(tree_id, "link", link.id.to_string(), &link).into_link(),
        )?;
        counts.links_created += 1;
    }

    Ok(())
}

fn record_node(tx: &Connection, ctx: &WriteContext, node: &Node) -> Result<()> {
    history::record(
        tx,
        ctx,
        Change::created(node.tree_id, "node", node.id.to_string(), node),
    )
}

/// Returns the id created or reused for a ref earlier in this import.
fn id_of<T: Copy>(ids: &BTreeMap<String, T>, pointer: String, reference: &str) -> Result<T> {
    ids.get(reference)
        .copied()
        .ok_or_else(|| unresolved(pointer, &format!("`{reference}`")))
}

/// The error for a ref that validation should have rejected, so the transaction rolls back
/// instead of the import panicking.
fn unresolved(pointer: String, what: &str) -> Error {
    Error::InvalidDocument {
        problems: vec![DocumentProblem {
            detail: format!("{what} is missing from the document, so nothing was imported."),
            pointer,
            code: "unknown_ref",
        }],
    }
}
