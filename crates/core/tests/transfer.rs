//! Tree documents against the SQLite store: export, import, and validation of every rule.

use std::collections::HashMap;
use std::io::{self, Write};

use ost_linker_core::{
    Customer, DocumentEvidence, DocumentLink, DocumentNode, DocumentTree, Error, EvidenceFilter,
    EvidenceKind, EvidenceStore, ExperimentStatus, IdempotencyKey, Metric, NewEvidence, NewLink,
    NewNode, NewTree, Node, NodeKind, NodePatch, OutlineNode, OutlineRequest, PageRequest,
    Relation, Source, SqliteStore, TransferStore, TreeDocument, TreeId, TreeStore, ViewStore,
    WriteContext,
};

const CTX: &WriteContext = &WriteContext {
    actor: None,
    idempotency: None,
};

fn add(store: &SqliteStore, parent: &Node, new: NewNode) -> Node {
    store
        .create_node(CTX, parent.tree_id, new)
        .unwrap_or_else(|err| panic!("adding a node under {}: {err}", parent.title))
}

fn evidence(kind: EvidenceKind, title: &str, source: Option<(&str, &str)>) -> NewEvidence {
    NewEvidence {
        kind,
        title: title.into(),
        content: format!("Content of {title}"),
        source: Source {
            system: source.map(|(system, _)| system.into()),
            external_id: source.map(|(_, id)| id.into()),
            url: None,
        },
        occurred_at: None,
        customer: None,
        tags: vec![],
        metric: None,
    }
}

fn link(
    store: &SqliteStore,
    node: &Node,
    evidence_id: ost_linker_core::EvidenceId,
    relation: Relation,
) {
    store
        .create_link(
            CTX,
            node.id,
            NewLink {
                evidence_id,
                relation,
                strength: Some(4),
                note: format!("{relation} {}", node.title),
            },
        )
        .expect("link");
}

/// Builds a tree with every kind of node, nested opportunities, experiment fields, and links
/// of both relations to evidence with and without a source. A second tree gets evidence of
/// its own, which the first tree's export must leave out.
fn sample_tree(store: &SqliteStore) -> TreeId {
    let created = store
        .create_tree(
            CTX,
            NewTree {
                title: "Trial retention".into(),
                description: "Q2 focus".into(),
                outcome_title: "Raise 90-day trial retention from 18% to 26%".into(),
                outcome_description: "Per monthly cohort".into(),
            },
        )
        .expect("create tree");
    let root = &created.root;
    let setup = add(
        store,
        root,
        NewNode::new(root.id, NodeKind::Opportunity, "Setup is long"),
    );
    let import = add(
        store,
        &setup,
        NewNode::new(setup.id, NodeKind::Opportunity, "Staff lists are retyped"),
    );
    let adoption = add(
        store,
        root,
        NewNode::new(root.id, NodeKind::Opportunity, "Staff ignore the app"),
    );
    let csv = add(
        store,
        &import,
        NewNode::new(import.id, NodeKind::Solution, "Spreadsheet import"),
    );
    add(
        store,
        &csv,
        NewNode {
            status: Some(ExperimentStatus::Succeeded),
            result: Some("41% clicked".into()),
            description: "Fake door on the staff page".into(),
            ..NewNode::new(csv.id, NodeKind::Experiment, "Fake door")
        },
    );
    add(
        store,
        &csv,
        NewNode::new(csv.id, NodeKind::Experiment, "Concierge import"),
    );

    let interview = store
        .create_evidence(
            CTX,
            NewEvidence {
                occurred_at: Some("2026-07-03T16:20:00+02:00".into()),
                customer: Some(Customer {
                    segment: Some("smb-hospitality".into()),
                    account: Some("Bramblewick Bakehouse".into()),
                }),
                tags: vec!["onboarding".into(), "data-entry".into()],
                source: Source {
                    system: Some("research-notes".into()),
                    external_id: Some("INT-1".into()),
                    url: Some("https://research.example.com/notes/1?a=1&b=2".into()),
                },
                ..evidence(
                    EvidenceKind::InterviewSnippet,
                    "Sunday spent retyping",
                    None,
                )
            },
        )
        .expect("interview");
    let metric = store
        .create_evidence(
            CTX,
            NewEvidence {
                metric: Some(Metric {
                    name: "trial_d90_retention".into(),
                    value: 18.4,
                    unit: "percent".into(),
                    period: "2026-04-01/2026-06-30".into(),
                }),
                ..evidence(EvidenceKind::Metric, "Baseline", Some(("analytics", "d90")))
            },
        )
        .expect("metric");
    let note = store
        .create_evidence(
            CTX,
            evidence(EvidenceKind::Document, "Unsourced note", None),
        )
        .expect("note");

    link(store, &import, interview.id, Relation::Supports);
    link(store, &setup, interview.id, Relation::Supports);
    link(store, root, metric.id, Relation::Supports);
    link(store, &csv, note.id, Relation::Contradicts);
    link(store, &adoption, note.id, Relation::Supports);

    let other = store
        .create_tree(
            CTX,
            NewTree {
                title: "Other".into(),
                outcome_title: "Other outcome".into(),
                ..NewTree::default()
            },
        )
        .expect("other tree");
    let unrelated = store
        .create_evidence(
            CTX,
            evidence(EvidenceKind::Document, "Unrelated", Some(("wiki", "x"))),
        )
        .expect("unrelated");
    link(store, &other.root, unrelated.id, Relation::Supports);

    created.tree.id
}

/// Replaces every ref by the entry's place in the document, so documents of different trees
/// compare equal when only their ids differ.
fn without_refs(document: &TreeDocument) -> TreeDocument {
    let nodes: HashMap<String, String> = document
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| (node.reference.clone(), format!("node {index}")))
        .collect();
    let items: HashMap<String, String> = document
        .evidence
        .iter()
        .enumerate()
        .map(|(index, item)| (item.reference.clone(), format!("evidence {index}")))
        .collect();

    let mut renamed = document.clone();
    for node in &mut renamed.nodes {
        node.reference = nodes[&node.reference].clone();
        node.parent_ref = node.parent_ref.as_ref().map(|parent| nodes[parent].clone());
    }
    for item in &mut renamed.evidence {
        item.reference = items[&item.reference].clone();
    }
    for link in &mut renamed.links {
        link.node_ref = nodes[&link.node_ref].clone();
        link.evidence_ref = items[&link.evidence_ref].clone();
    }
    renamed
}

#[test]
fn export_holds_tree_nodes_links_and_their_evidence() {
    let store = SqliteStore::open_in_memory().expect("open");
    let tree_id = sample_tree(&store);

    let document = store.export_tree(tree_id).expect("export");

    assert_eq!(document.format, "ost-linker/tree");
    assert_eq!(document.version, 1);
    assert_eq!(document.tree.title, "Trial retention");
    assert_eq!(document.tree.description, "Q2 focus");
    let titles: Vec<&str> = document
        .nodes
        .iter()
        .map(|node| node.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Raise 90-day trial retention from 18% to 26%",
            "Setup is long",
            "Staff lists are retyped",
            "Spreadsheet import",
            "Fake door",
            "Concierge import",
            "Staff ignore the app",
        ]
    );
    assert_eq!(document.nodes[0].parent_ref, None);
    assert_eq!(document.nodes[0].kind, NodeKind::Outcome);
    assert_eq!(
        document.nodes[6].parent_ref.as_deref(),
        Some(document.nodes[0].reference.as_str())
    );
    assert_eq!(document.nodes[6].position, Some(1));
    assert_eq!(document.nodes[4].status, Some(ExperimentStatus::Succeeded));
    assert_eq!(document.nodes[4].result.as_deref(), Some("41% clicked"));
    assert_eq!(document.nodes[5].status, Some(ExperimentStatus::Planned));
    assert_eq!(document.nodes[1].status, None);

    // Evidence in the order the node-ordered links first use it; the other tree's is left out.
    let evidence: Vec<&str> = document
        .evidence
        .iter()
        .map(|item| item.title.as_str())
        .collect();
    assert_eq!(
        evidence,
        ["Baseline", "Sunday spent retyping", "Unsourced note"]
    );
    assert_eq!(document.links.len(), 5);
    assert_eq!(document.links[0].node_ref, document.nodes[0].reference);
    assert_eq!(document.links[4].relation, Relation::Supports);
    assert_eq!(document.links[3].relation, Relation::Contradicts);
    assert_eq!(document.links[3].strength, Some(4));

    let interview = &document.evidence[1];
    assert_eq!(
        interview.occurred_at.as_deref(),
        Some("2026-07-03T14:20:00.000Z")
    );
    assert_eq!(interview.tags, ["data-entry", "onboarding"]);
    assert_eq!(
        interview
            .customer
            .as_ref()
            .and_then(|customer| customer.account.as_deref()),
        Some("Bramblewick Bakehouse")
    );
    assert_eq!(
        document.evidence[0]
            .metric
            .as_ref()
            .map(|metric| metric.value),
        Some(18.4)
    );
}

#[test]
fn export_import_export_changes_only_ids() {
    let store = SqliteStore::open_in_memory().expect("open");
    let tree_id = sample_tree(&store);
    let first = store.export_tree(tree_id).expect("export");

    let imported = store.import_tree(CTX, first.clone()).expect("import");
    let second = store.export_tree(imported.tree.id).expect("export again");

    assert_ne!(imported.tree.id, tree_id);
    assert_eq!(without_refs(&second), without_refs(&first));
    assert_eq!(imported.counts.nodes_created, 7);
    assert_eq!(imported.counts.links_created, 5);
    // Two items have a source and are reused; the unsourced note is created again.
    assert_eq!(imported.counts.evidence_reused, 2);
    assert_eq!(imported.counts.evidence_created, 1);
    assert_eq!(second.evidence[0].reference, first.evidence[0].reference);
    assert_ne!(second.evidence[2].reference, first.evidence[2].reference);
}

#[test]
fn import_into_empty_store_round_trips() {
    let source = SqliteStore::open_in_memory().expect("open");
    let first = source.export_tree(sample_tree(&source)).expect("export");
    let target = SqliteStore::open_in_memory().expect("open target");

    let imported = target.import_tree(CTX, first.clone()).expect("import");
    let second = target.export_tree(imported.tree.id).expect("export again");

    assert_eq!(without_refs(&second), without_refs(&first));
    assert_eq!(imported.counts.evidence_created, 3);
    assert_eq!(imported.counts.evidence_reused, 0);
    assert_eq!(imported.node_ids.len(), 7);
    assert_eq!(imported.evidence_ids.len(), 3);
    let root_ref = &first.nodes[0].reference;
    assert_eq!(imported.node_ids[root_ref], imported.tree.root_node_id);
}

#[test]
fn import_records_history_and_response() {
    let store = SqliteStore::open_in_memory().expect("open");
    let document = store.export_tree(sample_tree(&store)).expect("export");
    let ctx = WriteContext {
        actor: Some("importer".into()),
        idempotency: Some(IdempotencyKey {
            key: "import-1".into(),
            request_digest: "digest".into(),
        }),
    };

    let imported = store.import_tree(&ctx, document).expect("import");

    let history = store
        .list_history(
            imported.tree.id,
            PageRequest {
                limit: 100,
                after: None,
            },
        )
        .expect("history");
    let count = |action: &str, entity: &str| {
        history
            .items
            .iter()
            .filter(|entry| entry.action == action && entry.entity_type == entity)
            .count()
    };
    assert_eq!(count("create", "tree"), 1);
    assert_eq!(count("create", "node"), 7);
    assert_eq!(count("link", "link"), 5);
    assert!(
        history
            .items
            .iter()
            .all(|entry| entry.actor.as_deref() == Some("importer"))
    );

    let stored = store
        .find_stored_response("import-1")
        .expect("find")
        .expect("stored response");
    assert_eq!(stored.status, 201);
    let body: serde_json::Value = serde_json::from_str(&stored.body).expect("json");
    assert_eq!(body["id"], imported.tree.id.to_string());
    assert_eq!(body["nodes_created"], 7);
}

fn node(reference: &str, parent: Option<&str>, kind: NodeKind, title: &str) -> DocumentNode {
    DocumentNode {
        reference: reference.into(),
        parent_ref: parent.map(str::to_owned),
        kind,
        title: title.into(),
        description: String::new(),
        position: None,
        status: None,
        result: None,
    }
}

fn item(reference: &str, kind: EvidenceKind, source: Option<(&str, &str)>) -> DocumentEvidence {
    let new = evidence(kind, &format!("Item {reference}"), source);
    DocumentEvidence {
        reference: reference.into(),
        kind,
        title: new.title,
        content: new.content,
        source: new.source,
        occurred_at: None,
        customer: None,
        tags: vec![],
        metric: None,
    }
}

fn document_link(node_ref: &str, evidence_ref: &str) -> DocumentLink {
    DocumentLink {
        node_ref: node_ref.into(),
        evidence_ref: evidence_ref.into(),
        relation: Relation::Supports,
        strength: None,
        note: String::new(),
    }
}

fn document(
    nodes: Vec<DocumentNode>,
    evidence: Vec<DocumentEvidence>,
    links: Vec<DocumentLink>,
) -> TreeDocument {
    TreeDocument {
        format: "ost-linker/tree".into(),
        version: 1,
        tree: DocumentTree {
            title: "Imported".into(),
            description: String::new(),
        },
        nodes,
        evidence,
        links,
    }
}

/// Builds a document that breaks many rules at once, and lists the pointer and code of each
/// problem.
fn broken_document() -> (TreeDocument, Vec<(&'static str, &'static str)>) {
    let mut blank = node("blank", Some("root"), NodeKind::Opportunity, "  ");
    blank.status = Some(ExperimentStatus::Running);
    let mut misplaced = node(
        "late-child",
        Some("late-parent"),
        NodeKind::Solution,
        "Solution",
    );
    misplaced.position = Some(0);
    let mut shifted = node("shifted", Some("root"), NodeKind::Opportunity, "Shifted");
    shifted.position = Some(5);
    let mut metric_without = item("metric", EvidenceKind::Metric, None);
    metric_without.tags = vec!["Bad Tag".into()];
    metric_without.occurred_at = Some("yesterday".into());
    let mut bad_link = document_link("root", "nowhere");
    bad_link.strength = Some(9);

    let document = TreeDocument {
        tree: DocumentTree {
            title: String::new(),
            description: String::new(),
        },
        ..document(
            vec![
                node("root", None, NodeKind::Outcome, "Outcome"),
                blank,
                node("root", Some("blank"), NodeKind::Opportunity, "Twin"),
                misplaced,
                node("late-parent", Some("root"), NodeKind::Opportunity, "Late"),
                node("exp", Some("root"), NodeKind::Experiment, "Experiment"),
                node("loop-a", Some("loop-b"), NodeKind::Opportunity, "A"),
                node("loop-b", Some("loop-a"), NodeKind::Opportunity, "B"),
                node("orphan", Some("ghost"), NodeKind::Opportunity, "Orphan"),
                node("second-outcome", None, NodeKind::Outcome, "Second"),
                shifted,
            ],
            vec![
                metric_without,
                item("e1", EvidenceKind::Document, Some(("wiki", "page"))),
                item("e2", EvidenceKind::Document, Some(("wiki", "page"))),
            ],
            vec![
                document_link("exp", "e1"),
                document_link("exp", "e1"),
                document_link("ghost", "e2"),
                bad_link,
            ],
        )
    };
    let expected = vec![
        ("/tree/title", "empty_value"),
        ("/nodes/2/ref", "duplicate_ref"),
        ("/nodes/1/title", "empty_value"),
        ("/nodes/1/status", "experiment_field_not_allowed"),
        ("/nodes/3/parent_ref", "parent_after_child"),
        ("/nodes/5/parent_ref", "invalid_parent_kind"),
        ("/nodes/6/parent_ref", "node_cycle"),
        ("/nodes/8/parent_ref", "unknown_ref"),
        ("/nodes/9/kind", "kind_not_creatable"),
        ("/nodes/9/parent_ref", "missing_parent"),
        ("/nodes/10/position", "position_mismatch"),
        ("/evidence/0/metric", "metric_required"),
        ("/evidence/0/occurred_at", "invalid_timestamp"),
        ("/evidence/0/tags/0", "invalid_tag"),
        ("/evidence/2/source/external_id", "duplicate_source"),
        ("/links/1", "duplicate_link"),
        ("/links/2/node_ref", "unknown_ref"),
        ("/links/3/evidence_ref", "unknown_ref"),
        ("/links/3/strength", "out_of_range"),
    ];
    (document, expected)
}

#[test]
fn check_reports_every_problem_with_pointer() {
    let store = SqliteStore::open_in_memory().expect("open");
    let (document, expected) = broken_document();

    let check = store.check_import(&document).expect("check");

    assert!(!check.valid);
    let found: Vec<(&str, &str)> = check
        .problems
        .iter()
        .map(|problem| (problem.pointer.as_str(), problem.code))
        .collect();
    for pair in &expected {
        assert!(found.contains(pair), "missing {pair:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for problem in &check.problems {
        assert!(problem.detail.ends_with('.'), "{problem:?}");
    }
}

#[test]
fn problem_details_name_value_and_pointer() {
    let store = SqliteStore::open_in_memory().expect("open");
    let (document, _) = broken_document();

    let check = store.check_import(&document).expect("check");
    let detail = |pointer: &str| {
        check
            .problems
            .iter()
            .find(|problem| problem.pointer == pointer)
            .map(|problem| problem.detail.clone())
            .unwrap_or_default()
    };

    assert!(
        detail("/nodes/1/title").starts_with("`/nodes/1/title` is empty"),
        "{}",
        detail("/nodes/1/title")
    );
    assert!(
        detail("/nodes/3/parent_ref").contains("late-parent"),
        "{}",
        detail("/nodes/3/parent_ref")
    );
    assert!(
        detail("/nodes/3/parent_ref").contains("/nodes/4"),
        "{}",
        detail("/nodes/3/parent_ref")
    );
    assert!(
        detail("/nodes/8/parent_ref").contains("ghost"),
        "{}",
        detail("/nodes/8/parent_ref")
    );
    assert!(detail("/evidence/2/source/external_id").contains("/evidence/1"));
    assert!(detail("/links/1").contains("/links/0"));
}

#[test]
fn invalid_import_writes_nothing() {
    let store = SqliteStore::open_in_memory().expect("open");
    let (document, expected) = broken_document();

    let err = store.import_tree(CTX, document).expect_err("imported");

    let Error::InvalidDocument { problems } = err else {
        panic!("expected InvalidDocument, got {err:?}");
    };
    assert_eq!(problems.len(), expected.len());
    let trees = store
        .list_trees(PageRequest {
            limit: 10,
            after: None,
        })
        .expect("trees");
    assert!(trees.items.is_empty());
    let evidence = store
        .list_evidence(
            &EvidenceFilter::default(),
            PageRequest {
                limit: 10,
                after: None,
            },
        )
        .expect("evidence");
    assert!(evidence.items.is_empty());
}

#[test]
fn valid_document_checks_clean_and_counts_reuse() {
    let store = SqliteStore::open_in_memory().expect("open");
    store
        .create_evidence(
            CTX,
            evidence(EvidenceKind::Document, "Stored", Some(("wiki", "page"))),
        )
        .expect("stored");
    let document = document(
        vec![
            node("root", None, NodeKind::Outcome, "Outcome"),
            node("need", Some("root"), NodeKind::Opportunity, "Need"),
        ],
        vec![
            item("reused", EvidenceKind::Document, Some(("wiki", " page "))),
            item("new", EvidenceKind::Document, Some(("wiki", "other"))),
        ],
        vec![
            document_link("need", "reused"),
            document_link("root", "new"),
        ],
    );

    let check = store.check_import(&document).expect("check");
    let imported = store.import_tree(CTX, document).expect("import");

    assert!(check.valid, "{:?}", check.problems);
    assert_eq!(check.counts, imported.counts);
    assert_eq!(imported.counts.evidence_reused, 1);
    assert_eq!(imported.counts.evidence_created, 1);
    assert_eq!(imported.counts.nodes_created, 2);
    assert_eq!(imported.counts.links_created, 2);
}

#[test]
fn root_must_be_outcome_without_parent() {
    let store = SqliteStore::open_in_memory().expect("open");
    let document = document(
        vec![node("first", Some("first"), NodeKind::Opportunity, "Need")],
        vec![],
        vec![],
    );

    let check = store.check_import(&document).expect("check");

    let codes: Vec<(&str, &str)> = check
        .problems
        .iter()
        .map(|problem| (problem.pointer.as_str(), problem.code))
        .collect();
    assert_eq!(
        codes,
        [
            ("/nodes/0/kind", "root_not_outcome"),
            ("/nodes/0/parent_ref", "root_has_parent"),
        ]
    );
    let empty = store
        .check_import(&self::document(vec![], vec![], vec![]))
        .expect("check");
    assert_eq!(empty.problems[0].code, "missing_outcome");
}

#[test]
fn other_format_or_version_is_rejected() {
    let store = SqliteStore::open_in_memory().expect("open");
    let valid = document(
        vec![node("root", None, NodeKind::Outcome, "Outcome")],
        vec![],
        vec![],
    );

    let other_format = TreeDocument {
        format: "other/tree".into(),
        ..valid.clone()
    };
    let other_version = TreeDocument {
        version: 2,
        ..valid.clone()
    };

    assert!(matches!(
        store.import_tree(CTX, other_format.clone()),
        Err(Error::UnsupportedFormat { format }) if format == "other/tree"
    ));
    assert!(matches!(
        store.check_import(&other_version),
        Err(Error::UnsupportedVersion { version: 2 })
    ));
    assert!(matches!(
        store.check_import(&other_format),
        Err(Error::UnsupportedFormat { .. })
    ));
    assert!(store.import_tree(CTX, valid).is_ok());
}

#[test]
fn export_of_missing_tree_is_not_found() {
    let store = SqliteStore::open_in_memory().expect("open");

    let err = store.export_tree(TreeId::generate()).expect_err("exported");

    assert!(
        matches!(err, Error::NotFound { entity: "tree", .. }),
        "{err:?}"
    );
}

/// Appends the ids of `node` and its descendants, depth-first, children in outline order.
fn outline_order(node: &OutlineNode, order: &mut Vec<String>) {
    order.push(node.id.to_string());
    for child in &node.children {
        outline_order(child, order);
    }
}

#[test]
fn export_orders_nodes_depth_first_by_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("export.db")).expect("open");
    let created = store
        .create_tree(
            CTX,
            NewTree {
                title: "Wide tree".into(),
                outcome_title: "Grow weekly bookings".into(),
                ..NewTree::default()
            },
        )
        .expect("create tree");
    let root = &created.root;
    // Twelve siblings, so an order that compared positions as text would put 10 and 11
    // between 1 and 2.
    let opportunities: Vec<Node> = (0..12)
        .map(|index| {
            let title = format!("Opportunity {index}");
            add(
                &store,
                root,
                NewNode::new(root.id, NodeKind::Opportunity, &title),
            )
        })
        .collect();
    for index in 0..3 {
        let title = format!("Nested {index}");
        let parent = &opportunities[1];
        add(
            &store,
            parent,
            NewNode::new(parent.id, NodeKind::Opportunity, &title),
        );
    }
    // Moves make creation order differ from position order.
    let last = &opportunities[11];
    let moved_first = NodePatch {
        position: Some(0),
        ..NodePatch::default()
    };
    store
        .update_node(CTX, last.id, moved_first, None)
        .expect("move to the front");
    let moved_under = NodePatch {
        parent_id: Some(last.id),
        ..NodePatch::default()
    };
    store
        .update_node(CTX, opportunities[4].id, moved_under, None)
        .expect("move under another opportunity");

    let document = store.export_tree(created.tree.id).expect("export");

    let exported: Vec<String> = document
        .nodes
        .iter()
        .map(|node| node.reference.clone())
        .collect();
    let outline = store
        .outline(created.tree.id, OutlineRequest::default())
        .expect("outline");
    let mut expected = Vec::new();
    outline_order(&outline.root, &mut expected);
    assert_eq!(exported, expected);
    assert_eq!(document.nodes.len(), 16);
    assert_eq!(document.nodes[1].title, "Opportunity 11");
    assert_eq!(document.nodes[2].title, "Opportunity 4");
    assert_eq!(document.nodes[15].title, "Opportunity 10");
}

#[test]
fn write_export_matches_serialized_document() {
    let store = SqliteStore::open_in_memory().expect("open");
    let tree_id = sample_tree(&store);

    let mut written = Vec::new();
    store
        .write_export(tree_id, &mut written)
        .expect("write export");

    let document: TreeDocument = serde_json::from_slice(&written).expect("parse export");
    let serialized = serde_json::to_vec(&document).expect("serialize");
    assert_eq!(written, serialized);
    assert_eq!(document.nodes.len(), 7);
    assert_eq!(document.evidence.len(), 3);
    assert_eq!(document.links.len(), 5);
}

#[test]
fn write_export_of_missing_tree_writes_nothing() {
    let store = SqliteStore::open_in_memory().expect("open");

    let mut written = Vec::new();
    let err = store
        .write_export(TreeId::generate(), &mut written)
        .expect_err("exported");

    assert!(
        matches!(err, Error::NotFound { entity: "tree", .. }),
        "{err:?}"
    );
    assert!(written.is_empty());
}

/// An output that accepts `limit` bytes and then fails, as a client that goes away does.
struct FailingOutput {
    accepted: usize,
    limit: usize,
}

impl Write for FailingOutput {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.accepted + bytes.len() > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "client went away",
            ));
        }
        self.accepted += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_export_reports_failed_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("export.db")).expect("open");
    let tree_id = sample_tree(&store);

    let mut output = FailingOutput {
        accepted: 0,
        limit: 300,
    };
    let err = store
        .write_export(tree_id, &mut output)
        .expect_err("export into a failing output");

    assert!(
        matches!(&err, Error::Output(cause) if cause.kind() == io::ErrorKind::BrokenPipe),
        "{err:?}"
    );
    // Failed exports give their connections back: more of them than the store has
    // export connections still run.
    for _ in 0..3 {
        let document = store
            .export_tree(tree_id)
            .expect("export after a failed one");
        assert_eq!(document.nodes.len(), 7);
    }
}

/// An output that signals its first write and then waits until its release is sent, as a
/// client that stops reading does.
struct StalledOutput {
    started: std::sync::mpsc::Sender<()>,
    release: std::sync::mpsc::Receiver<()>,
}

impl Write for StalledOutput {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let _ = self.started.send(());
        let _ = self.release.recv();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn export_reports_busy_when_exports_hold_every_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("export.db")).expect("open");
    let tree_id = sample_tree(&store);

    std::thread::scope(|scope| {
        let (started, first_writes) = std::sync::mpsc::channel();
        let mut releases = Vec::new();
        let mut stalled = Vec::new();
        for _ in 0..2 {
            let (release, released) = std::sync::mpsc::channel();
            releases.push(release);
            let mut output = StalledOutput {
                started: started.clone(),
                release: released,
            };
            let store = &store;
            stalled.push(scope.spawn(move || store.write_export(tree_id, &mut output)));
        }
        for _ in 0..2 {
            first_writes.recv().expect("a stalled export started");
        }

        let busy = store.write_export(tree_id, &mut Vec::new());

        for release in releases {
            drop(release);
        }
        for export in stalled {
            export.join().expect("join").expect("stalled export");
        }
        assert!(
            matches!(busy, Err(Error::ExportsBusy { connections: 2, .. })),
            "{busy:?}"
        );
    });
    let after = store
        .export_tree(tree_id)
        .expect("export after the others ended");
    assert_eq!(after.nodes.len(), 7);
}
