//! The sample data layout of `samples/README.md`, and its conversion to a tree document.
//!
//! The outcome becomes the document's first node, keys become refs, and the tree's title is
//! the outcome's title.

use ost_linker_core::{
    Customer, DOCUMENT_FORMAT, DOCUMENT_VERSION, DocumentEvidence, DocumentLink, DocumentNode,
    DocumentTree, EvidenceKind, ExperimentStatus, Metric, NodeKind, Relation, Source, TreeDocument,
};
use serde::Deserialize;

use crate::extract::{parse, parse_value};

/// Converts the bytes of a sample file to a tree document.
///
/// # Errors
///
/// Returns a message naming the JSON pointer of the first member that does not fit the
/// sample layout, or the position of a JSON syntax error.
pub fn to_document(bytes: &[u8]) -> Result<TreeDocument, String> {
    let json = parse_value(bytes).map_err(|err| err.to_string())?;
    let sample: SampleFile = parse(&json).map_err(|err| err.to_string())?;

    Ok(sample.into_document())
}

/// A sample data file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleFile {
    outcome: SampleOutcome,
    nodes: Vec<SampleNode>,
    evidence: Vec<SampleEvidence>,
    links: Vec<SampleLink>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleOutcome {
    key: String,
    title: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleNode {
    key: String,
    parent_key: String,
    kind: NodeKind,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    status: Option<ExperimentStatus>,
    #[serde(default)]
    result: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleEvidence {
    key: String,
    kind: EvidenceKind,
    title: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    source: Source,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    customer: Option<Customer>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metric: Option<Metric>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleLink {
    node_key: String,
    evidence_key: String,
    relation: Relation,
    #[serde(default)]
    strength: Option<i64>,
    #[serde(default)]
    note: String,
}

impl SampleFile {
    fn into_document(self) -> TreeDocument {
        let root = DocumentNode {
            reference: self.outcome.key,
            parent_ref: None,
            kind: NodeKind::Outcome,
            title: self.outcome.title.clone(),
            description: self.outcome.description,
            position: None,
            status: None,
            result: None,
        };
        let nodes = std::iter::once(root)
            .chain(self.nodes.into_iter().map(|node| DocumentNode {
                reference: node.key,
                parent_ref: Some(node.parent_key),
                kind: node.kind,
                title: node.title,
                description: node.description,
                position: None,
                status: node.status,
                result: node.result,
            }))
            .collect();

        TreeDocument {
            format: DOCUMENT_FORMAT.to_owned(),
            version: DOCUMENT_VERSION,
            tree: DocumentTree {
                title: self.outcome.title,
                description: String::new(),
            },
            nodes,
            evidence: self.evidence.into_iter().map(evidence_entry).collect(),
            links: self.links.into_iter().map(link_entry).collect(),
        }
    }
}

fn evidence_entry(item: SampleEvidence) -> DocumentEvidence {
    DocumentEvidence {
        reference: item.key,
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

fn link_entry(link: SampleLink) -> DocumentLink {
    DocumentLink {
        node_ref: link.node_key,
        evidence_ref: link.evidence_key,
        relation: link.relation,
        strength: link.strength,
        note: link.note,
    }
}

/// Returns the pointer into the sample file of a member the service names by its pointer
/// into the converted document.
///
/// The document's first node is the file's `outcome`, so its node `i` is the file's node
/// `i - 1`. The member `ref` is `key`, and `parent_ref`, `node_ref` and `evidence_ref` are the
/// matching `_key` members. The tree's title is the outcome's.
pub fn file_pointer(document_pointer: &str) -> String {
    let mut segments: Vec<String> = document_pointer
        .split('/')
        .skip(1)
        .map(str::to_owned)
        .collect();

    match segments.as_slice() {
        [section, member] if section == "tree" && member == "title" => {
            return "/outcome/title".to_owned();
        }
        [section, index, ..] if section == "nodes" => match index.parse::<usize>() {
            Ok(0) => {
                segments.drain(..2);
                segments.insert(0, "outcome".to_owned());
            }
            Ok(index) => segments[1] = (index - 1).to_string(),
            Err(_) => {}
        },
        _ => {}
    }

    for segment in &mut segments {
        let renamed = match segment.as_str() {
            "ref" => "key",
            "parent_ref" => "parent_key",
            "node_ref" => "node_key",
            "evidence_ref" => "evidence_key",
            _ => continue,
        };
        *segment = renamed.to_owned();
    }

    segments
        .iter()
        .fold(String::new(), |pointer, segment| pointer + "/" + segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_pointer_maps_document_members() {
        let cases = [
            ("/tree/title", "/outcome/title"),
            ("/nodes/0/title", "/outcome/title"),
            ("/nodes/0/ref", "/outcome/key"),
            ("/nodes/4/parent_ref", "/nodes/3/parent_key"),
            ("/nodes/1/kind", "/nodes/0/kind"),
            ("/evidence/2/ref", "/evidence/2/key"),
            ("/evidence/2/source/url", "/evidence/2/source/url"),
            ("/links/7/node_ref", "/links/7/node_key"),
            ("/links/7/evidence_ref", "/links/7/evidence_key"),
            ("/links/7", "/links/7"),
        ];
        for (document, file) in cases {
            assert_eq!(file_pointer(document), file, "{document}");
        }
    }

    #[test]
    fn conversion_names_pointer_of_bad_member() {
        let body = br#"{"outcome":{"key":"o","title":"O"},"nodes":[{"key":"n","parent_key":"o","kind":"idea","title":"N"}],"evidence":[],"links":[]}"#;

        let err = to_document(body).expect_err("converted");

        assert!(err.contains("/nodes/0/kind"), "{err}");
    }

    #[test]
    fn conversion_puts_outcome_first() {
        let body = br#"{"outcome":{"key":"o","title":"Outcome","description":"D"},
            "nodes":[{"key":"n","parent_key":"o","kind":"opportunity","title":"N","description":""}],
            "evidence":[{"key":"e","kind":"document","title":"E","content":"C","source":{"system":"wiki","external_id":"1","url":null},"occurred_at":null,"customer":null,"tags":[]}],
            "links":[{"node_key":"o","evidence_key":"e","relation":"supports","strength":3,"note":"x"}]}"#;

        let document = to_document(body).expect("converted");

        assert_eq!(document.tree.title, "Outcome");
        assert_eq!(document.nodes.len(), 2);
        assert_eq!(document.nodes[0].kind, NodeKind::Outcome);
        assert_eq!(document.nodes[0].parent_ref, None);
        assert_eq!(document.nodes[0].description, "D");
        assert_eq!(document.nodes[1].parent_ref.as_deref(), Some("o"));
        assert_eq!(document.evidence[0].reference, "e");
        assert_eq!(document.links[0].node_ref, "o");
        assert_eq!(document.links[0].strength, Some(3));
    }
}
