//! Links between nodes and evidence: rules, listings from both ends, changes and deletes.

mod common;

use common::{CTX, chain, evidence, field_of, link, new_link, open};
use ost_linker_core::{
    DeleteMode, Error, EvidenceFilter, EvidenceId, EvidenceKind, EvidenceStore, FieldError, Link,
    LinkId, LinkPatch, NewLink, NodeId, NodeKind, PageRequest, Relation, TreeStore,
};

fn link_ids<T>(links: &[T], link_of: impl Fn(&T) -> &Link) -> Vec<LinkId> {
    links.iter().map(|item| link_of(item).id).collect()
}

#[test]
fn link_create_each_relation() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");

    for (node, relation) in [
        (&chain.opportunity, Relation::Supports),
        (&chain.solution, Relation::Contradicts),
    ] {
        let created = store
            .create_link(
                CTX,
                node.id,
                NewLink {
                    strength: Some(4),
                    note: "Said twice in one interview".into(),
                    ..new_link(&quote, relation)
                },
            )
            .unwrap_or_else(|err| panic!("{relation}: {err}"));
        let stored = store.get_link(created.id).expect("get link");

        assert_eq!(created.relation, relation, "{relation}: relation");
        assert_eq!(created.node_id, node.id, "{relation}: node");
        assert_eq!(created.evidence_id, quote.id, "{relation}: evidence");
        assert_eq!(created.strength, Some(4), "{relation}: strength");
        assert_eq!(
            created.note, "Said twice in one interview",
            "{relation}: note"
        );
        assert_eq!(created.version, 1, "{relation}: version");
        assert_eq!(stored, created, "{relation}: stored link equals created");
    }
}

#[test]
fn link_strength_range() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let nodes = [&chain.tree.root, &chain.opportunity];

    for (node, strength) in nodes.into_iter().zip([1, 5]) {
        let quote = evidence(&store, "Quote");
        let created = store.create_link(
            CTX,
            node.id,
            NewLink {
                strength: Some(strength),
                ..new_link(&quote, Relation::Supports)
            },
        );

        assert_eq!(
            created.map(|link| link.strength).ok(),
            Some(u8::try_from(strength).ok()),
            "strength {strength} accepted"
        );
    }
    for strength in [0, 6, -1, 256] {
        let quote = evidence(&store, "Quote");
        let err = store
            .create_link(
                CTX,
                chain.solution.id,
                NewLink {
                    strength: Some(strength),
                    ..new_link(&quote, Relation::Supports)
                },
            )
            .expect_err("strength out of range accepted");

        assert!(
            matches!(
                err,
                Error::Field(FieldError::OutOfRange {
                    field: "/strength",
                    value,
                    min: 1,
                    max: 5
                }) if value == strength
            ),
            "strength {strength}: {err:?}"
        );
    }
    assert_eq!(
        store
            .list_node_links(chain.solution.id)
            .expect("list")
            .len(),
        0,
        "no link stored for rejected strengths"
    );
}

#[test]
fn link_note_limit() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");

    let at_limit = store.create_link(
        CTX,
        chain.opportunity.id,
        NewLink {
            note: "n".repeat(1_000),
            ..new_link(&quote, Relation::Supports)
        },
    );
    let over_limit = store
        .create_link(
            CTX,
            chain.solution.id,
            NewLink {
                note: "n".repeat(1_001),
                ..new_link(&quote, Relation::Supports)
            },
        )
        .expect_err("note of 1,001 characters accepted");

    assert!(at_limit.is_ok(), "note of 1,000 characters: {at_limit:?}");
    assert!(
        matches!(
            over_limit,
            Error::Field(FieldError::TooLong {
                field: "/note",
                length: 1_001,
                max: 1_000
            })
        ),
        "note of 1,001 characters: {over_limit:?}"
    );
}

#[test]
fn link_duplicate_names_existing() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let existing = link(&store, &chain.opportunity, &quote);

    let err = store
        .create_link(
            CTX,
            chain.opportunity.id,
            new_link(&quote, Relation::Contradicts),
        )
        .expect_err("second link for the same pair accepted");

    match &err {
        Error::DuplicateLink {
            node_id,
            evidence_id,
            existing_id,
        } => {
            assert_eq!(node_id, &chain.opportunity.id.to_string(), "node named");
            assert_eq!(evidence_id, &quote.id.to_string(), "evidence named");
            assert_eq!(existing_id, &existing.id.to_string(), "existing link named");
        }
        other => panic!("expected DuplicateLink, got {other:?}"),
    }
    assert_eq!(
        link_ids(
            &store.list_node_links(chain.opportunity.id).expect("list"),
            |item| &item.link
        ),
        [existing.id],
        "only the first link stored"
    );
}

#[test]
fn link_missing_evidence_rejected() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let missing = EvidenceId::generate();

    let err = store
        .create_link(
            CTX,
            chain.opportunity.id,
            NewLink {
                evidence_id: missing,
                relation: Relation::Supports,
                strength: None,
                note: String::new(),
            },
        )
        .expect_err("link to missing evidence accepted");

    assert!(
        matches!(
            &err,
            Error::UnknownReference {
                field: "/evidence_id",
                entity: "evidence",
                id
            } if *id == missing.to_string()
        ),
        "{err:?}"
    );
}

#[test]
fn link_missing_node_not_found() {
    let store = open();
    let quote = evidence(&store, "Quote");
    let missing = NodeId::generate();

    let err = store
        .create_link(CTX, missing, new_link(&quote, Relation::Supports))
        .expect_err("link from missing node accepted");

    assert!(
        matches!(
            &err,
            Error::NotFound { entity: "node", id } if *id == missing.to_string()
        ),
        "{err:?}"
    );
}

#[test]
fn node_links_carry_evidence_summary() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let measured = store
        .create_evidence(
            CTX,
            common::new_evidence(EvidenceKind::Metric, "Day-90 retention"),
        )
        .expect("metric");
    let first = link(&store, &chain.opportunity, &quote);
    let second = store
        .create_link(
            CTX,
            chain.opportunity.id,
            new_link(&measured, Relation::Contradicts),
        )
        .expect("second link");

    let listed = store
        .list_node_links(chain.opportunity.id)
        .expect("list node links");
    let empty = store
        .list_node_links(chain.solution.id)
        .expect("list unlinked node");

    assert_eq!(listed.len(), 2, "two links");
    assert_eq!(listed[0].link, first, "first link");
    assert_eq!(listed[0].evidence.id, quote.id, "first evidence id");
    assert_eq!(listed[0].evidence.title, "Quote", "first evidence title");
    assert_eq!(
        listed[0].evidence.kind,
        EvidenceKind::InterviewSnippet,
        "first evidence kind"
    );
    assert_eq!(listed[1].link, second, "second link");
    assert_eq!(
        listed[1].evidence.kind,
        EvidenceKind::Metric,
        "second evidence kind"
    );
    assert_eq!(empty.len(), 0, "node without links");
}

#[test]
fn evidence_links_span_trees() {
    let store = open();
    let first = chain(&store, "Trial retention");
    let second = chain(&store, "Expansion revenue");
    let quote = evidence(&store, "Quote");
    let in_first = link(&store, &first.solution, &quote);
    let in_second = link(&store, &second.opportunity, &quote);

    let listed = store
        .list_evidence_links(quote.id)
        .expect("list evidence links");

    assert_eq!(listed.len(), 2, "one link per tree");
    assert_eq!(listed[0].link, in_first, "first link");
    assert_eq!(listed[0].node.id, first.solution.id, "first node id");
    assert_eq!(listed[0].node.kind, NodeKind::Solution, "first node kind");
    assert_eq!(
        listed[0].node.title, first.solution.title,
        "first node title"
    );
    assert_eq!(listed[0].tree.id, first.tree_id(), "first tree id");
    assert_eq!(listed[0].tree.title, "Trial retention", "first tree title");
    assert_eq!(listed[1].link, in_second, "second link");
    assert_eq!(
        listed[1].node.kind,
        NodeKind::Opportunity,
        "second node kind"
    );
    assert_eq!(listed[1].tree.id, second.tree_id(), "second tree id");
    assert_eq!(
        listed[1].tree.title, "Expansion revenue",
        "second tree title"
    );
}

#[test]
fn link_listings_of_missing_not_found() {
    let store = open();

    let node = store
        .list_node_links(NodeId::generate())
        .expect_err("listed links of a missing node");
    let evidence = store
        .list_evidence_links(EvidenceId::generate())
        .expect_err("listed links of missing evidence");

    assert!(
        matches!(node, Error::NotFound { entity: "node", .. }),
        "missing node: {node:?}"
    );
    assert!(
        matches!(
            evidence,
            Error::NotFound {
                entity: "evidence",
                ..
            }
        ),
        "missing evidence: {evidence:?}"
    );
}

#[test]
fn link_update_changes_given_fields() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let created = store
        .create_link(
            CTX,
            chain.opportunity.id,
            NewLink {
                strength: Some(2),
                note: "Weak signal".into(),
                ..new_link(&quote, Relation::Supports)
            },
        )
        .expect("create link");

    let relation = store
        .update_link(
            CTX,
            created.id,
            LinkPatch {
                relation: Some(Relation::Contradicts),
                ..LinkPatch::default()
            },
            None,
        )
        .expect("change relation");
    let cleared = store
        .update_link(
            CTX,
            created.id,
            LinkPatch {
                strength: Some(None),
                note: Some("Read again: it argues against".into()),
                ..LinkPatch::default()
            },
            None,
        )
        .expect("clear strength, change note");
    let invalid = store
        .update_link(
            CTX,
            created.id,
            LinkPatch {
                strength: Some(Some(6)),
                ..LinkPatch::default()
            },
            None,
        )
        .expect_err("strength 6 accepted in patch");
    let long_note = store
        .update_link(
            CTX,
            created.id,
            LinkPatch {
                note: Some("n".repeat(1_001)),
                ..LinkPatch::default()
            },
            None,
        )
        .expect_err("note of 1,001 characters accepted in patch");
    let stored = store.get_link(created.id).expect("get link");

    assert_eq!(relation.relation, Relation::Contradicts, "relation changed");
    assert_eq!(relation.strength, Some(2), "strength kept");
    assert_eq!(relation.note, "Weak signal", "note kept");
    assert_eq!(cleared.strength, None, "strength cleared");
    assert_eq!(
        cleared.note, "Read again: it argues against",
        "note changed"
    );
    assert_eq!(
        field_of(&invalid, "patched strength"),
        "/strength",
        "patched strength"
    );
    assert_eq!(
        field_of(&long_note, "patched note"),
        "/note",
        "patched note"
    );
    assert_eq!(stored, cleared, "rejected patches change nothing");
}

#[test]
fn link_delete_keeps_node_and_evidence() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let created = link(&store, &chain.opportunity, &quote);

    store
        .delete_link(CTX, created.id, None)
        .expect("delete link");
    let again = store
        .delete_link(CTX, created.id, None)
        .expect_err("deleted twice");

    assert!(
        matches!(store.get_link(created.id), Err(Error::NotFound { .. })),
        "link gone"
    );
    assert!(
        matches!(again, Error::NotFound { entity: "link", .. }),
        "second delete: {again:?}"
    );
    assert!(store.get_node(chain.opportunity.id).is_ok(), "node kept");
    assert!(store.get_evidence(quote.id).is_ok(), "evidence kept");
    assert_eq!(
        link(&store, &chain.opportunity, &quote).version,
        1,
        "pair can be linked again"
    );
}

#[test]
fn node_delete_removes_links_keeps_evidence() {
    let store = open();
    let chain = chain(&store, "Trial retention");
    let quote = evidence(&store, "Quote");
    let on_experiment = link(&store, &chain.experiment, &quote);
    let on_solution = link(&store, &chain.solution, &quote);
    let on_root = link(&store, &chain.tree.root, &quote);

    store
        .delete_node(CTX, chain.experiment.id, DeleteMode::LeafOnly, None)
        .expect("delete leaf");
    let after_leaf = store.list_evidence_links(quote.id).expect("list");
    store
        .delete_node(CTX, chain.opportunity.id, DeleteMode::Subtree, None)
        .expect("delete subtree");
    let after_subtree = store.list_evidence_links(quote.id).expect("list");

    assert_eq!(
        link_ids(&after_leaf, |item| &item.link),
        [on_solution.id, on_root.id],
        "leaf delete removes only the leaf's link"
    );
    assert_eq!(
        link_ids(&after_subtree, |item| &item.link),
        [on_root.id],
        "subtree delete removes the descendants' links"
    );
    for deleted_link in [on_experiment.id, on_solution.id] {
        assert!(
            matches!(store.get_link(deleted_link), Err(Error::NotFound { .. })),
            "link {deleted_link} gone"
        );
    }
    assert!(store.get_evidence(quote.id).is_ok(), "evidence kept");
}

#[test]
fn tree_delete_removes_links_keeps_evidence() {
    let store = open();
    let doomed = chain(&store, "Trial retention");
    let other_tree = chain(&store, "Expansion revenue");
    let quote = evidence(&store, "Quote");
    let in_doomed = link(&store, &doomed.solution, &quote);
    let in_other_tree = link(&store, &other_tree.solution, &quote);

    store
        .delete_tree(CTX, doomed.tree_id(), None)
        .expect("delete tree");
    let remaining = store.list_evidence_links(quote.id).expect("list");
    let linked = store
        .list_evidence(
            &EvidenceFilter {
                linked: Some(true),
                ..EvidenceFilter::default()
            },
            PageRequest {
                limit: 10,
                after: None,
            },
        )
        .expect("list linked evidence");

    assert!(
        matches!(store.get_link(in_doomed.id), Err(Error::NotFound { .. })),
        "link in deleted tree gone"
    );
    assert_eq!(
        link_ids(&remaining, |item| &item.link),
        [in_other_tree.id],
        "link in other tree kept"
    );
    assert!(store.get_evidence(quote.id).is_ok(), "evidence kept");
    assert_eq!(linked.items.len(), 1, "evidence still counts as linked");
}
