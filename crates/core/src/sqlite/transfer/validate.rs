//! Validation of a tree document before import: every rule of the entities it creates, plus
//! the rules of the document itself (refs, parent order, positions), each problem reported
//! with a JSON pointer so that one response lists them all.

mod evidence;
mod nodes;

use std::collections::HashMap;

use self::evidence::check_evidence;
pub(super) use self::evidence::to_new_evidence;
use self::nodes::check_nodes;
use crate::error::{Error, FieldError, Result};
use crate::model::{
    DOCUMENT_FORMAT, DOCUMENT_VERSION, DocumentLink, DocumentProblem, TreeDocument,
};
use crate::rules;

/// The maximum length of a `ref`, in characters.
pub(super) const REF_MAX_CHARS: usize = 200;

/// Fails unless the document's format and version are the ones this build reads.
///
/// # Errors
///
/// Returns [`Error::UnsupportedFormat`] or [`Error::UnsupportedVersion`].
pub(super) fn check_format(document: &TreeDocument) -> Result<()> {
    if document.format != DOCUMENT_FORMAT {
        return Err(Error::UnsupportedFormat {
            format: document.format.clone(),
        });
    }
    if document.version != DOCUMENT_VERSION {
        return Err(Error::UnsupportedVersion {
            version: document.version,
        });
    }

    Ok(())
}

/// Returns every problem of a document in document order; an empty list means an import
/// will succeed.
pub(super) fn problems(document: &TreeDocument) -> Vec<DocumentProblem> {
    let mut problems = Problems::default();

    problems.check(
        "/tree",
        rules::title("/title", &document.tree.title).map(drop),
    );
    problems.check(
        "/tree",
        rules::description("/description", &document.tree.description).map(drop),
    );
    let node_refs = check_nodes(&mut problems, &document.nodes);
    let evidence_refs = check_evidence(&mut problems, &document.evidence);
    check_links(&mut problems, &document.links, &node_refs, &evidence_refs);

    problems.0
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<DocumentProblem>);

impl Problems {
    /// Records a problem; `detail` is a sentence without its capital and final period.
    fn push(&mut self, pointer: String, code: &'static str, detail: String) {
        let mut characters = detail.chars();
        let first = characters
            .next()
            .map(|first| first.to_uppercase().to_string());
        self.0.push(DocumentProblem {
            pointer,
            code,
            detail: format!("{}{}.", first.unwrap_or_default(), characters.as_str()),
        });
    }

    /// Records a field rule's error, if any, under `prefix`, such as `/nodes/3`.
    fn check(&mut self, prefix: &str, checked: Result<(), FieldError>) {
        if let Err(err) = checked {
            self.field(prefix, &err);
        }
    }

    fn field(&mut self, prefix: &str, err: &FieldError) {
        let relative = err.field();
        let pointer = format!("{prefix}{relative}");
        // The rule names the field relative to its entity; the detail names it in the
        // document, as the pointer does.
        let detail = err
            .to_string()
            .replacen(&format!("`{relative}`"), &format!("`{pointer}`"), 1);
        self.push(pointer, err.code(), detail);
    }
}

/// Checks a `ref` and returns whether it is usable.
fn check_ref(problems: &mut Problems, pointer: String, value: &str) -> bool {
    if value.trim().is_empty() {
        problems.push(
            pointer.clone(),
            "empty_value",
            format!("`{pointer}` is empty: give it a name of 1 to {REF_MAX_CHARS} characters"),
        );
        return false;
    }

    let length = value.chars().count();
    if length > REF_MAX_CHARS {
        problems.push(
            pointer.clone(),
            "value_too_long",
            format!("`{pointer}` has {length} characters: shorten it to at most {REF_MAX_CHARS}"),
        );
        return false;
    }

    true
}

/// Maps each ref to the index of its first use, reporting empty and repeated refs.
fn index_refs<'a>(
    problems: &mut Problems,
    section: &str,
    refs: impl Iterator<Item = &'a str>,
) -> HashMap<&'a str, usize> {
    let mut first_use = HashMap::new();
    for (index, reference) in refs.enumerate() {
        let pointer = format!("/{section}/{index}/ref");
        if !check_ref(problems, pointer.clone(), reference) {
            continue;
        }
        if let Some(first) = first_use.get(reference) {
            problems.push(
                pointer,
                "duplicate_ref",
                format!(
                    "ref `{reference}` is already used by /{section}/{first}: give each entry its own ref"
                ),
            );
            continue;
        }
        first_use.insert(reference, index);
    }

    first_use
}

/// Checks every link against the refs of the nodes and evidence.
fn check_links(
    problems: &mut Problems,
    links: &[DocumentLink],
    node_refs: &HashMap<&str, usize>,
    evidence_refs: &HashMap<&str, usize>,
) {
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, link) in links.iter().enumerate() {
        let prefix = format!("/links/{index}");
        let node_known = node_refs.contains_key(link.node_ref.as_str());
        let evidence_known = evidence_refs.contains_key(link.evidence_ref.as_str());
        if !node_known {
            problems.push(
                format!("{prefix}/node_ref"),
                "unknown_ref",
                format!(
                    "node `{}` names no node of the document: use the ref of a node in `/nodes`",
                    link.node_ref
                ),
            );
        }
        if !evidence_known {
            problems.push(
                format!("{prefix}/evidence_ref"),
                "unknown_ref",
                format!(
                    "evidence `{}` names no evidence item of the document: use the ref of an item in `/evidence`",
                    link.evidence_ref
                ),
            );
        }
        if let Some(strength) = link.strength {
            problems.check(&prefix, rules::strength(strength).map(drop));
        }
        problems.check(
            &prefix,
            rules::within_max("/note", &link.note, rules::NOTE_MAX_CHARS).map(drop),
        );

        if !(node_known && evidence_known) {
            continue;
        }
        let pair = (link.node_ref.as_str(), link.evidence_ref.as_str());
        if let Some(first) = pairs.get(&pair) {
            problems.push(
                prefix,
                "duplicate_link",
                format!(
                    "node `{}` is already linked to evidence `{}` by /links/{first}: keep one link per pair",
                    pair.0, pair.1
                ),
            );
            continue;
        }
        pairs.insert(pair, index);
    }
}
