//! The read-only views: outlines with evidence counts, gap reports and full-text search, on
//! small hand-built trees and on the bundled sample data set.

use std::collections::HashMap;

use ost_linker_core::store::ViewStore;
use ost_linker_core::{
    Customer, Error, EvidenceId, EvidenceKind, EvidencePatch, EvidenceStore, ExperimentStatus,
    Metric, NewEvidence, NewLink, NewNode, NewTree, Node, NodeId, NodeKind, NodePatch,
    OUTLINE_MAX_DEPTH, OutlineNode, OutlineRequest, Relation, SEARCH_MAX_WORDS,
    SEARCH_RANKED_MATCHES, SEARCH_TEXT_MAX_CHARS, SearchEntity, SearchHit, SearchKind, SearchQuery,
    Source, SqliteStore, TreeId, TreePatch, TreeStore, TreeWithRoot, WriteContext,
};
use serde_json::Value;

const CTX: &WriteContext = &WriteContext {
    actor: None,
    idempotency: None,
};

fn open() -> SqliteStore {
    SqliteStore::open_in_memory().expect("open in-memory store")
}

fn tree(store: &SqliteStore, title: &str) -> TreeWithRoot {
    let new = NewTree {
        title: title.into(),
        outcome_title: "Raise 90-day trial retention from 18% to 26%".into(),
        ..NewTree::default()
    };
    store.create_tree(CTX, new).expect("create tree")
}

fn add(store: &SqliteStore, parent: &Node, kind: NodeKind, title: &str) -> Node {
    store
        .create_node(CTX, parent.tree_id, NewNode::new(parent.id, kind, title))
        .unwrap_or_else(|err| panic!("adding {kind} {title:?}: {err}"))
}

fn experiment(
    store: &SqliteStore,
    solution: &Node,
    title: &str,
    status: ExperimentStatus,
    result: Option<&str>,
) -> Node {
    let new = NewNode {
        status: Some(status),
        result: result.map(str::to_owned),
        ..NewNode::new(solution.id, NodeKind::Experiment, title)
    };
    store
        .create_node(CTX, solution.tree_id, new)
        .unwrap_or_else(|err| panic!("adding experiment {title:?}: {err}"))
}

fn evidence(store: &SqliteStore, title: &str, content: &str, tags: &[&str]) -> EvidenceId {
    let new = NewEvidence {
        kind: EvidenceKind::InterviewSnippet,
        title: title.into(),
        content: content.into(),
        source: Source::default(),
        occurred_at: None,
        customer: None,
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        metric: None,
    };
    store
        .create_evidence(CTX, new)
        .unwrap_or_else(|err| panic!("storing evidence {title:?}: {err}"))
        .id
}

fn link(store: &SqliteStore, node: &Node, evidence_id: EvidenceId, relation: Relation) {
    let new = NewLink {
        evidence_id,
        relation,
        strength: None,
        note: String::new(),
    };
    store
        .create_link(CTX, node.id, new)
        .unwrap_or_else(|err| panic!("linking {} to {evidence_id}: {err}", node.id));
}

fn full_outline(store: &SqliteStore, tree_id: TreeId) -> OutlineNode {
    store
        .outline(tree_id, OutlineRequest::default())
        .expect("outline")
        .root
}

fn search(store: &SqliteStore, text: &str) -> Vec<SearchHit> {
    store
        .search(&SearchQuery::new(text))
        .unwrap_or_else(|err| panic!("searching {text:?}: {err}"))
        .items
}

fn hit_ids(hits: &[SearchHit]) -> Vec<String> {
    hits.iter().map(|hit| hit.id.clone()).collect()
}

/// An outcome with two opportunities; the first has a solution with two experiments.
struct Small {
    tree: TreeWithRoot,
    setup: Node,
    value: Node,
    import: Node,
    fake_door: Node,
    concierge: Node,
}

fn small(store: &SqliteStore) -> Small {
    let tree = tree(store, "Trial retention");
    let setup = add(
        store,
        &tree.root,
        NodeKind::Opportunity,
        "Setup takes too long",
    );
    let value = add(
        store,
        &tree.root,
        NodeKind::Opportunity,
        "Value is invisible",
    );
    let import = add(store, &setup, NodeKind::Solution, "Spreadsheet import");
    let fake_door = experiment(
        store,
        &import,
        "Fake door",
        ExperimentStatus::Succeeded,
        Some("41% clicked"),
    );
    let concierge = experiment(
        store,
        &import,
        "Concierge import",
        ExperimentStatus::Running,
        None,
    );
    Small {
        tree,
        setup,
        value,
        import,
        fake_door,
        concierge,
    }
}

// Outline.

#[test]
fn outline_counts_links_by_relation() {
    let store = open();
    let small = small(&store);
    let first = evidence(&store, "Retyped the staff list", "A whole Sunday", &[]);
    let second = evidence(&store, "Import requested", "Ticket", &[]);
    let third = evidence(&store, "Set up in ten minutes", "No trouble", &[]);
    link(&store, &small.setup, first, Relation::Supports);
    link(&store, &small.setup, second, Relation::Supports);
    link(&store, &small.setup, third, Relation::Contradicts);
    link(&store, &small.fake_door, first, Relation::Supports);

    let root = full_outline(&store, small.tree.tree.id);

    let setup = &root.children[0];
    assert_eq!(setup.id, small.setup.id);
    assert_eq!(setup.supporting, 2);
    assert_eq!(setup.contradicting, 1);
    let fake_door = &setup.children[0].children[0];
    assert_eq!(fake_door.id, small.fake_door.id);
    assert_eq!(fake_door.supporting, 1);
    assert_eq!(fake_door.contradicting, 0);
    assert_eq!(root.supporting, 0);
    assert_eq!(root.children[1].supporting, 0);
    assert_eq!(root.children[1].contradicting, 0);
}

#[test]
fn outline_nests_children_by_position() {
    let store = open();
    let small = small(&store);
    let first = store
        .create_node(
            CTX,
            small.tree.tree.id,
            NewNode {
                position: Some(0),
                ..NewNode::new(small.tree.root.id, NodeKind::Opportunity, "Inserted first")
            },
        )
        .expect("insert at position 0");

    let outline = store
        .outline(small.tree.tree.id, OutlineRequest::default())
        .expect("outline");
    let root = &outline.root;

    assert_eq!(outline.tree.id, small.tree.tree.id);
    assert_eq!(outline.tree.title, "Trial retention");
    assert_eq!(outline.depth, OUTLINE_MAX_DEPTH);
    assert_eq!(root.id, small.tree.root.id);
    assert_eq!(root.kind, NodeKind::Outcome);
    let ids: Vec<NodeId> = root.children.iter().map(|child| child.id).collect();
    assert_eq!(ids, [first.id, small.setup.id, small.value.id]);
    let positions: Vec<u32> = root.children.iter().map(|child| child.position).collect();
    assert_eq!(positions, [0, 1, 2]);
    let experiments = &root.children[1].children[0].children;
    assert_eq!(experiments[0].id, small.fake_door.id);
    assert_eq!(experiments[1].id, small.concierge.id);
    assert_eq!(root.omitted_children, 0);
}

#[test]
fn outline_carries_experiment_fields() {
    let store = open();
    let small = small(&store);

    let root = full_outline(&store, small.tree.tree.id);

    let import = &root.children[0].children[0];
    assert_eq!(import.status, None);
    assert_eq!(import.result, None);
    let fake_door = &import.children[0];
    assert_eq!(fake_door.status, Some(ExperimentStatus::Succeeded));
    assert_eq!(fake_door.result.as_deref(), Some("41% clicked"));
    let concierge = &import.children[1];
    assert_eq!(concierge.status, Some(ExperimentStatus::Running));
    assert_eq!(concierge.result, None);
}

#[test]
fn outline_depth_zero_is_start_only() {
    let store = open();
    let small = small(&store);

    let outline = store
        .outline(
            small.tree.tree.id,
            OutlineRequest {
                start: None,
                depth: 0,
            },
        )
        .expect("outline");

    assert_eq!(outline.depth, 0);
    assert_eq!(outline.root.id, small.tree.root.id);
    assert!(outline.root.children.is_empty());
    assert_eq!(outline.root.omitted_children, 2);
}

#[test]
fn outline_depth_cuts_lower_levels() {
    let store = open();
    let small = small(&store);

    let root = store
        .outline(
            small.tree.tree.id,
            OutlineRequest {
                start: None,
                depth: 2,
            },
        )
        .expect("outline")
        .root;

    let setup = &root.children[0];
    let import = &setup.children[0];
    assert_eq!(import.id, small.import.id);
    assert!(import.children.is_empty());
    assert_eq!(import.omitted_children, 2);
    assert_eq!(setup.omitted_children, 0);
    // A leaf has nothing to omit.
    assert_eq!(root.children[1].omitted_children, 0);
}

#[test]
fn outline_depth_above_max_is_capped() {
    let store = open();
    let small = small(&store);

    let outline = store
        .outline(
            small.tree.tree.id,
            OutlineRequest {
                start: None,
                depth: u32::MAX,
            },
        )
        .expect("outline");

    assert_eq!(outline.depth, OUTLINE_MAX_DEPTH);
    assert_eq!(outline.root.children[0].children[0].children.len(), 2);
}

#[test]
fn outline_deeper_than_max_marks_cut() {
    let store = open();
    let tree = tree(&store, "Deep");
    let mut parent = tree.root.clone();
    for level in 1..=OUTLINE_MAX_DEPTH + 2 {
        parent = add(
            &store,
            &parent,
            NodeKind::Opportunity,
            &format!("Level {level}"),
        );
    }

    let outline = store
        .outline(tree.tree.id, OutlineRequest::default())
        .expect("outline");

    let mut node = &outline.root;
    let mut levels = 0;
    while let Some(child) = node.children.first() {
        node = child;
        levels += 1;
    }
    assert_eq!(levels, OUTLINE_MAX_DEPTH);
    assert_eq!(node.title, format!("Level {OUTLINE_MAX_DEPTH}"));
    assert_eq!(node.omitted_children, 1);
}

#[test]
fn outline_starts_at_given_node() {
    let store = open();
    let small = small(&store);

    let outline = store
        .outline(
            small.tree.tree.id,
            OutlineRequest {
                start: Some(small.import.id),
                depth: 1,
            },
        )
        .expect("outline");

    assert_eq!(outline.root.id, small.import.id);
    assert_eq!(outline.root.kind, NodeKind::Solution);
    let ids: Vec<NodeId> = outline.root.children.iter().map(|c| c.id).collect();
    assert_eq!(ids, [small.fake_door.id, small.concierge.id]);
}

#[test]
fn outline_start_in_other_tree_is_not_found() {
    let store = open();
    let small = small(&store);
    let other = tree(&store, "Other");

    let err = store
        .outline(
            other.tree.id,
            OutlineRequest {
                start: Some(small.setup.id),
                depth: 1,
            },
        )
        .expect_err("node of another tree");

    match err {
        Error::NodeNotInTree { id, tree_id } => {
            assert_eq!(id, small.setup.id.to_string());
            assert_eq!(tree_id, other.tree.id.to_string());
        }
        other => panic!("expected NodeNotInTree, got {other:?}"),
    }
}

#[test]
fn outline_of_missing_tree_is_not_found() {
    let store = open();
    let missing = TreeId::generate();

    let err = store
        .outline(missing, OutlineRequest::default())
        .expect_err("missing tree");

    assert!(
        matches!(err, Error::NotFound { entity: "tree", .. }),
        "{err:?}"
    );
}

#[test]
fn outline_markdown_has_one_line_per_node() {
    let store = open();
    let small = small(&store);
    let quote = evidence(&store, "Retyped the staff list", "A whole Sunday", &[]);
    let praise = evidence(&store, "Setup was quick", "Ten minutes", &[]);
    link(&store, &small.setup, quote, Relation::Supports);
    link(&store, &small.setup, praise, Relation::Contradicts);

    let markdown = store
        .outline(small.tree.tree.id, OutlineRequest::default())
        .expect("outline")
        .to_markdown();

    let expected = format!(
        "# Trial retention ({tree})\n\
         - [outcome] Raise 90-day trial retention from 18% to 26% ({root}) +0 -0\n\
         \x20 - [opportunity] Setup takes too long ({setup}) +1 -1\n\
         \x20   - [solution] Spreadsheet import ({import}) +0 -0\n\
         \x20     - [experiment] Fake door ({fake_door}) succeeded +0 -0\n\
         \x20     - [experiment] Concierge import ({concierge}) running +0 -0\n\
         \x20 - [opportunity] Value is invisible ({value}) +0 -0\n",
        tree = small.tree.tree.id,
        root = small.tree.root.id,
        setup = small.setup.id,
        import = small.import.id,
        fake_door = small.fake_door.id,
        concierge = small.concierge.id,
        value = small.value.id,
    );
    assert_eq!(markdown, expected);
}

#[test]
fn outline_markdown_marks_cut_children() {
    let store = open();
    let small = small(&store);

    let markdown = store
        .outline(
            small.tree.tree.id,
            OutlineRequest {
                start: Some(small.setup.id),
                depth: 1,
            },
        )
        .expect("outline")
        .to_markdown();

    let lines: Vec<&str> = markdown.lines().collect();
    assert_eq!(lines.len(), 3, "{markdown}");
    assert!(
        lines[1].starts_with("- [opportunity] Setup takes too long"),
        "{markdown}"
    );
    assert!(
        lines[2].ends_with("+0 -0 (2 children not shown)"),
        "{markdown}"
    );
}

#[test]
fn outline_markdown_keeps_titles_on_one_line() {
    let store = open();
    let tree = tree(&store, "Line\nbreaks");
    add(
        &store,
        &tree.root,
        NodeKind::Opportunity,
        "First line\n\tsecond   line",
    );

    let markdown = store
        .outline(tree.tree.id, OutlineRequest::default())
        .expect("outline")
        .to_markdown();

    let lines: Vec<&str> = markdown.lines().collect();
    assert_eq!(lines.len(), 3, "{markdown}");
    assert!(lines[0].starts_with("# Line breaks ("), "{markdown}");
    assert!(
        lines[2].starts_with("  - [opportunity] First line second line ("),
        "{markdown}"
    );
}

// Gaps.

#[test]
fn gaps_split_unsupported_opportunities() {
    let store = open();
    let tree = tree(&store, "Gaps");
    let bare = add(
        &store,
        &tree.root,
        NodeKind::Opportunity,
        "No evidence at all",
    );
    let contradicted = add(
        &store,
        &tree.root,
        NodeKind::Opportunity,
        "Only contradicted",
    );
    let mixed = add(&store, &tree.root, NodeKind::Opportunity, "Both relations");
    let supported = add(&store, &tree.root, NodeKind::Opportunity, "Supported");
    let against = evidence(&store, "Setup was quick", "Ten minutes", &[]);
    let against_too = evidence(&store, "No complaints", "Fine", &[]);
    let for_it = evidence(&store, "Retyped the staff list", "A whole Sunday", &[]);
    link(&store, &contradicted, against, Relation::Contradicts);
    link(&store, &contradicted, against_too, Relation::Contradicts);
    link(&store, &mixed, against, Relation::Contradicts);
    link(&store, &mixed, for_it, Relation::Supports);
    link(&store, &supported, for_it, Relation::Supports);
    // Evidence on the outcome does not make its opportunities supported.
    link(&store, &tree.root, for_it, Relation::Supports);

    let gaps = store.gaps(tree.tree.id).expect("gaps");

    let without: Vec<NodeId> = gaps
        .opportunities_without_support
        .iter()
        .map(|gap| gap.id)
        .collect();
    assert_eq!(without, [bare.id]);
    assert_eq!(gaps.opportunities_only_contradicted.len(), 1);
    let only = &gaps.opportunities_only_contradicted[0];
    assert_eq!(only.id, contradicted.id);
    assert_eq!(only.kind, NodeKind::Opportunity);
    assert_eq!(only.title, "Only contradicted");
    assert_eq!(only.supporting, 0);
    assert_eq!(only.contradicting, 2);
}

#[test]
fn gaps_find_nested_opportunities() {
    let store = open();
    let tree = tree(&store, "Nested");
    let parent = add(&store, &tree.root, NodeKind::Opportunity, "Parent need");
    let child = add(&store, &parent, NodeKind::Opportunity, "Child need");
    let quote = evidence(&store, "Quote", "Text", &[]);
    link(&store, &parent, quote, Relation::Supports);

    let gaps = store.gaps(tree.tree.id).expect("gaps");

    let without: Vec<NodeId> = gaps
        .opportunities_without_support
        .iter()
        .map(|gap| gap.id)
        .collect();
    assert_eq!(without, [child.id]);
}

#[test]
fn gaps_list_solutions_without_experiments() {
    let store = open();
    let small = small(&store);
    let untested = add(
        &store,
        &small.value,
        NodeKind::Solution,
        "Weekly value e-mail",
    );

    let gaps = store.gaps(small.tree.tree.id).expect("gaps");

    assert_eq!(gaps.solutions_without_experiments.len(), 1);
    let gap = &gaps.solutions_without_experiments[0];
    assert_eq!(gap.id, untested.id);
    assert_eq!(gap.kind, NodeKind::Solution);
    assert_eq!(gap.title, "Weekly value e-mail");
    assert_eq!(gap.status, None);
}

#[test]
fn gaps_list_finished_experiments_without_result() {
    let store = open();
    let small = small(&store);
    let cases = [
        (
            "succeeded, no result",
            ExperimentStatus::Succeeded,
            None,
            true,
        ),
        ("failed, no result", ExperimentStatus::Failed, None, true),
        (
            "failed, blank",
            ExperimentStatus::Failed,
            Some(" \n\t"),
            true,
        ),
        (
            "failed, result",
            ExperimentStatus::Failed,
            Some("No lift"),
            false,
        ),
        ("running, no result", ExperimentStatus::Running, None, false),
        (
            "planned, blank",
            ExperimentStatus::Planned,
            Some(" "),
            false,
        ),
    ];
    let mut expected = Vec::new();
    for (title, status, result, listed) in cases {
        let node = experiment(&store, &small.import, title, status, result);
        if listed {
            expected.push(node.id);
        }
    }

    let gaps = store.gaps(small.tree.tree.id).expect("gaps");

    let found: Vec<NodeId> = gaps
        .finished_experiments_without_result
        .iter()
        .map(|gap| gap.id)
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        gaps.finished_experiments_without_result[0].status,
        Some(ExperimentStatus::Succeeded)
    );
    assert_eq!(
        gaps.finished_experiments_without_result[1].status,
        Some(ExperimentStatus::Failed)
    );
}

#[test]
fn gaps_follow_result_changes() {
    let store = open();
    let small = small(&store);
    store
        .update_node(
            CTX,
            small.fake_door.id,
            NodePatch {
                result: Some(None),
                ..NodePatch::default()
            },
            None,
        )
        .expect("clear result");

    let gaps = store.gaps(small.tree.tree.id).expect("gaps");

    assert_eq!(gaps.finished_experiments_without_result.len(), 1);
    assert_eq!(
        gaps.finished_experiments_without_result[0].id,
        small.fake_door.id
    );
}

#[test]
fn gaps_of_missing_tree_is_not_found() {
    let store = open();

    let err = store.gaps(TreeId::generate()).expect_err("missing tree");

    assert!(
        matches!(err, Error::NotFound { entity: "tree", .. }),
        "{err:?}"
    );
}

// The sample data set.

/// The sample tree in a store, with the ids of its nodes and evidence by sample key.
struct Sample {
    store: SqliteStore,
    tree_id: TreeId,
    nodes: HashMap<String, NodeId>,
    evidence: HashMap<String, EvidenceId>,
}

impl Sample {
    fn node(&self, key: &str) -> NodeId {
        *self
            .nodes
            .get(key)
            .unwrap_or_else(|| panic!("no node {key}"))
    }

    fn evidence(&self, key: &str) -> String {
        self.evidence
            .get(key)
            .unwrap_or_else(|| panic!("no evidence {key}"))
            .to_string()
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

fn load_sample() -> Sample {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/trial-retention.json"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read sample")).expect("JSON");
    let store = open();

    let outcome = &json["outcome"];
    let created = store
        .create_tree(
            CTX,
            NewTree {
                title: "Trial retention".into(),
                description: String::new(),
                outcome_title: text(outcome, "title"),
                outcome_description: text(outcome, "description"),
            },
        )
        .expect("create sample tree");
    let tree_id = created.tree.id;
    let mut nodes = HashMap::from([(text(outcome, "key"), created.root.id)]);

    for node in json["nodes"].as_array().expect("nodes") {
        let parent_id = nodes[&text(node, "parent_key")];
        let new = NewNode {
            description: text(node, "description"),
            status: node["status"]
                .as_str()
                .map(|name| ExperimentStatus::from_name(name).expect("status")),
            result: node["result"].as_str().map(str::to_owned),
            ..NewNode::new(
                parent_id,
                NodeKind::from_name(&text(node, "kind")).expect("kind"),
                text(node, "title"),
            )
        };
        let created = store.create_node(CTX, tree_id, new).expect("create node");
        nodes.insert(text(node, "key"), created.id);
    }

    let mut evidence = HashMap::new();
    for item in json["evidence"].as_array().expect("evidence") {
        let new = NewEvidence {
            kind: EvidenceKind::from_name(&text(item, "kind")).expect("kind"),
            title: text(item, "title"),
            content: text(item, "content"),
            source: serde_json::from_value::<Source>(item["source"].clone()).expect("source"),
            occurred_at: item["occurred_at"].as_str().map(str::to_owned),
            customer: serde_json::from_value::<Option<Customer>>(item["customer"].clone())
                .expect("customer"),
            tags: serde_json::from_value(item["tags"].clone()).expect("tags"),
            metric: serde_json::from_value::<Option<Metric>>(
                item.get("metric").cloned().unwrap_or(Value::Null),
            )
            .expect("metric"),
        };
        let created = store.create_evidence(CTX, new).expect("create evidence");
        evidence.insert(text(item, "key"), created.id);
    }

    for sample_link in json["links"].as_array().expect("links") {
        let new = NewLink {
            evidence_id: evidence[&text(sample_link, "evidence_key")],
            relation: serde_json::from_value(sample_link["relation"].clone()).expect("relation"),
            strength: sample_link["strength"].as_i64(),
            note: text(sample_link, "note"),
        };
        store
            .create_link(CTX, nodes[&text(sample_link, "node_key")], new)
            .expect("create link");
    }

    Sample {
        store,
        tree_id,
        nodes,
        evidence,
    }
}

/// Returns every node of an outline, depth-first.
fn flatten(node: &OutlineNode) -> Vec<&OutlineNode> {
    let mut nodes = vec![node];
    for child in &node.children {
        nodes.extend(flatten(child));
    }
    nodes
}

#[test]
fn sample_outline_matches_links() {
    let sample = load_sample();

    let outline = sample
        .store
        .outline(sample.tree_id, OutlineRequest::default())
        .expect("outline");

    let nodes = flatten(&outline.root);
    assert_eq!(nodes.len(), 26);
    let supporting: u64 = nodes.iter().map(|node| node.supporting).sum();
    let contradicting: u64 = nodes.iter().map(|node| node.contradicting).sum();
    assert_eq!(supporting + contradicting, 58);
    assert_eq!(contradicting, 9);
    assert_eq!(outline.root.supporting, 1);
    let setup = nodes
        .iter()
        .find(|node| node.id == sample.node("opp-setup-effort"))
        .expect("setup opportunity");
    assert_eq!(setup.supporting, 6);
    assert_eq!(setup.contradicting, 0);

    let markdown = outline.to_markdown();
    assert_eq!(markdown.lines().count(), 27);
}

#[test]
fn sample_gaps_match_built_in_cases() {
    let sample = load_sample();

    let gaps = sample.store.gaps(sample.tree_id).expect("gaps");

    let without: Vec<NodeId> = gaps
        .opportunities_without_support
        .iter()
        .map(|gap| gap.id)
        .collect();
    assert_eq!(
        without,
        [
            sample.node("opp-spreadsheet-rules"),
            sample.node("opp-value-visibility")
        ]
    );
    assert!(gaps.opportunities_only_contradicted.is_empty());
    assert!(gaps.solutions_without_experiments.is_empty());
    assert!(gaps.finished_experiments_without_result.is_empty());
}

// Search.

#[test]
fn search_finds_spanish_and_german_words() {
    let sample = load_sample();
    let veloria = sample.evidence("ev-int-veloria-chat");
    let kestrelholm = sample.evidence("ev-int-kestrelholm-zettel");

    let spanish = hit_ids(&search(&sample.store, "disponibilidad"));
    let german = hit_ids(&search(&sample.store, "Verfügbarkeiten"));
    let folded = hit_ids(&search(&sample.store, "verfugbarkeiten"));

    assert_eq!(spanish, [veloria]);
    assert_eq!(german, [kestrelholm.as_str()]);
    assert_eq!(folded, [kestrelholm.as_str()]);
}

#[test]
fn search_folds_accents() {
    let sample = load_sample();
    let node = sample.node("exp-availability-prototype").to_string();
    let evidence = sample.evidence("ev-int-veloria-chat");

    let plain = hit_ids(&search(&sample.store, "Malaga"));
    let accented = hit_ids(&search(&sample.store, "Málaga"));

    assert!(plain.contains(&node), "{plain:?}");
    assert!(plain.contains(&evidence), "{plain:?}");
    assert_eq!(plain.len(), accented.len());
}

#[test]
fn search_ignores_emoji() {
    let sample = load_sample();

    // SQLite 3.50's unicode61 tokenizer treats emoji as separators, so they are not indexed.
    let alone = search(&sample.store, "😩");
    let with_word = hit_ids(&search(&sample.store, "😩 dark mode"));
    let word_only = hit_ids(&search(&sample.store, "dark mode"));

    assert!(alone.is_empty(), "{alone:?}");
    assert!(!word_only.is_empty());
    assert_eq!(with_word, word_only);
}

#[test]
fn search_matches_tags() {
    let sample = load_sample();

    let hits = search(&sample.store, "spanish");

    assert!(
        hit_ids(&hits).contains(&sample.evidence("ev-int-veloria-chat")),
        "{hits:?}"
    );
}

#[test]
fn search_matches_whole_words_only() {
    let sample = load_sample();

    let whole = hit_ids(&search(&sample.store, "disponibilidad"));
    let start = search(&sample.store, "disponib");

    assert_eq!(whole, [sample.evidence("ev-int-veloria-chat")]);
    assert!(start.is_empty(), "{start:?}");
}

#[test]
fn search_requires_every_word() {
    let store = open();
    let small = small(&store);

    let both = hit_ids(&search(&store, "spreadsheet import"));
    let one_missing = search(&store, "spreadsheet bakery");

    assert_eq!(both, [small.import.id.to_string()]);
    assert!(one_missing.is_empty(), "{one_missing:?}");
}

#[test]
fn search_ranks_title_above_body() {
    let store = open();
    let in_body = evidence(
        &store,
        "Long interview",
        "We talked about rotas, payroll and, briefly, the import of staff lists.",
        &[],
    );
    let in_title = evidence(&store, "Import of staff lists", "Short note.", &[]);

    let hits = search(&store, "import");

    assert_eq!(hit_ids(&hits), [in_title.to_string(), in_body.to_string()]);
    assert!(hits[0].rank < hits[1].rank, "{hits:?}");
}

#[test]
fn search_hit_has_fields_and_snippet() {
    let store = open();
    let small = small(&store);
    store
        .update_node(
            CTX,
            small.import.id,
            NodePatch {
                description: Some("Paste rows\nfrom a spreadsheet; we guess the columns.".into()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("describe");

    let hits = search(&store, "columns");

    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.entity, SearchEntity::Node);
    assert_eq!(hit.id, small.import.id.to_string());
    assert_eq!(hit.kind, SearchKind::Node(NodeKind::Solution));
    assert_eq!(hit.title, "Spreadsheet import");
    assert_eq!(hit.tree_id, Some(small.tree.tree.id));
    assert_eq!(
        hit.snippet,
        "Paste rows from a spreadsheet; we guess the **columns**."
    );
    let json = serde_json::to_value(hit).expect("serialize");
    assert_eq!(json["type"], "node");
    assert_eq!(json["kind"], "solution");
}

#[test]
fn search_finds_experiment_result() {
    let store = open();
    let small = small(&store);

    let hits = hit_ids(&search(&store, "clicked"));

    assert_eq!(hits, [small.fake_door.id.to_string()]);
}

#[test]
fn search_evidence_hit_has_no_tree() {
    let store = open();
    let id = evidence(&store, "Bakery owner", "Retyped twenty-two names", &[]);

    let hits = search(&store, "bakery");

    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].entity, SearchEntity::Evidence);
    assert_eq!(hits[0].id, id.to_string());
    assert_eq!(
        hits[0].kind,
        SearchKind::Evidence(EvidenceKind::InterviewSnippet)
    );
    assert_eq!(hits[0].tree_id, None);
    let json = serde_json::to_value(&hits[0]).expect("serialize");
    assert!(json.get("tree_id").is_none(), "{json}");
}

#[test]
fn search_filters_by_type_and_kind() {
    let sample = load_sample();
    let by = |entity: Option<SearchEntity>, kind: Option<SearchKind>| {
        let query = SearchQuery {
            entity,
            kind,
            limit: 50,
            ..SearchQuery::new("availability")
        };
        sample.store.search(&query).expect("search").items
    };

    let all = by(None, None);
    let nodes = by(Some(SearchEntity::Node), None);
    let evidence = by(Some(SearchEntity::Evidence), None);
    let solutions = by(None, Some(SearchKind::Node(NodeKind::Solution)));
    let snippets = by(
        None,
        Some(SearchKind::Evidence(EvidenceKind::InterviewSnippet)),
    );
    let mismatched = by(
        Some(SearchEntity::Node),
        Some(SearchKind::Evidence(EvidenceKind::Metric)),
    );

    assert!(!nodes.is_empty());
    assert!(!evidence.is_empty());
    assert_eq!(all.len(), nodes.len() + evidence.len());
    assert!(nodes.iter().all(|hit| hit.entity == SearchEntity::Node));
    assert!(
        evidence
            .iter()
            .all(|hit| hit.entity == SearchEntity::Evidence)
    );
    assert!(!solutions.is_empty());
    assert!(
        solutions
            .iter()
            .all(|hit| hit.kind == SearchKind::Node(NodeKind::Solution))
    );
    assert!(!snippets.is_empty());
    assert!(
        snippets
            .iter()
            .all(|hit| hit.kind == SearchKind::Evidence(EvidenceKind::InterviewSnippet))
    );
    assert!(mismatched.is_empty());
}

#[test]
fn search_filters_by_tree() {
    let store = open();
    let first = small(&store);
    let second = small(&store);
    let linked = evidence(&store, "Spreadsheet chaos", "Linked to the first tree", &[]);
    let unlinked = evidence(&store, "Spreadsheet exports", "Linked to nothing", &[]);
    link(&store, &first.setup, linked, Relation::Contradicts);

    let query = SearchQuery {
        tree_id: Some(first.tree.tree.id),
        ..SearchQuery::new("spreadsheet")
    };
    let hits = store.search(&query).expect("search").items;
    let everywhere = search(&store, "spreadsheet");

    let ids = hit_ids(&hits);
    assert!(ids.contains(&first.import.id.to_string()), "{ids:?}");
    assert!(ids.contains(&linked.to_string()), "{ids:?}");
    assert!(!ids.contains(&second.import.id.to_string()), "{ids:?}");
    assert!(!ids.contains(&unlinked.to_string()), "{ids:?}");
    assert_eq!(ids.len(), 2);
    assert_eq!(everywhere.len(), 4);
}

#[test]
fn search_missing_tree_filter_not_found() {
    let store = open();
    let query = SearchQuery {
        tree_id: Some(TreeId::generate()),
        ..SearchQuery::new("spreadsheet")
    };

    let err = store.search(&query).expect_err("missing tree");

    assert!(
        matches!(err, Error::NotFound { entity: "tree", .. }),
        "{err:?}"
    );
}

#[test]
fn search_applies_limit() {
    let sample = load_sample();
    let with_limit = |limit| {
        let query = SearchQuery {
            limit,
            ..SearchQuery::new("the")
        };
        sample.store.search(&query).expect("search").items.len()
    };

    assert_eq!(with_limit(1), 1);
    assert_eq!(with_limit(5), 5);
    assert_eq!(with_limit(50), 50);
    // Values outside 1 to 50 are clamped.
    assert_eq!(with_limit(0), 1);
    assert_eq!(with_limit(500), 50);
}

/// Adds `count` opportunities titled `quokka 0`, `quokka 1` and so on, oldest first. The
/// titles have the same length, so every match gets the same bm25 score.
fn quokkas(store: &SqliteStore, count: u32) {
    let tree = tree(store, "Ranking bound");
    for index in 0..count {
        add(
            store,
            &tree.root,
            NodeKind::Opportunity,
            &format!("quokka {index:04}"),
        );
    }
}

fn quokka_titles(store: &SqliteStore) -> (Vec<String>, bool) {
    let results = store.search(&SearchQuery::new("quokka")).expect("search");
    let titles = results.items.into_iter().map(|hit| hit.title).collect();

    (titles, results.all_matches_ranked)
}

#[test]
fn search_ranks_every_match_up_to_bound() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES);

    let (titles, all_ranked) = quokka_titles(&store);

    assert!(all_ranked);
    assert_eq!(titles.len(), 20);
    // Equal scores keep the older match first.
    assert_eq!(titles[0], "quokka 0000");
    assert_eq!(titles[19], "quokka 0019");
}

#[test]
fn search_past_bound_ranks_newest() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);

    let (titles, all_ranked) = quokka_titles(&store);

    assert!(!all_ranked);
    assert_eq!(titles.len(), 20);
    // The oldest match is not among the newest SEARCH_RANKED_MATCHES, so it is not ranked.
    assert_eq!(titles[0], "quokka 0001");
    assert!(!titles.contains(&"quokka 0000".to_owned()), "{titles:?}");
}

#[test]
fn search_past_bound_ranks_by_frequency_and_column() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);
    let other = tree(&store, "Other tree");
    let described = |title: &str, description: &str| {
        store
            .create_node(
                CTX,
                other.tree.id,
                NewNode {
                    description: description.to_owned(),
                    ..NewNode::new(other.root.id, NodeKind::Opportunity, title)
                },
            )
            .expect("node with a description")
    };
    let in_title_and_body = described("Quokka", "Quokka, quokka.");
    let in_body = described("Wildlife sightings", "A quokka was seen near the office.");

    let results = store.search(&SearchQuery::new("quokka")).expect("search");
    let ids = hit_ids(&results.items);

    // The word weighs 4 in a title and 1 in a body, and a longer item is marked down. So a
    // short item with it in both ranks first. One with it once in a longer body ranks below
    // each older match, whose title has it.
    assert!(!results.all_matches_ranked);
    assert_eq!(ids[0], in_title_and_body.id.to_string(), "{ids:?}");
    assert!(!ids.contains(&in_body.id.to_string()), "{ids:?}");
    assert!(
        results.items[0].rank < results.items[1].rank,
        "{:?}",
        results.items
    );
}

#[test]
fn search_past_bound_finds_older_filtered_matches() {
    let store = open();
    let tree = tree(&store, "Older solutions");
    let habitat = add(&store, &tree.root, NodeKind::Opportunity, "Habitat");
    let solutions: Vec<String> = (0..3)
        .map(|index| {
            let title = format!("quokka shelter {index}");
            add(&store, &habitat, NodeKind::Solution, &title)
                .id
                .to_string()
        })
        .collect();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);

    let results = store
        .search(&SearchQuery {
            kind: Some(SearchKind::Node(NodeKind::Solution)),
            ..SearchQuery::new("quokka")
        })
        .expect("search");

    assert!(results.all_matches_ranked);
    assert_eq!(hit_ids(&results.items), solutions);
}

#[test]
fn search_past_bound_reads_past_newer_filtered_items() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);
    // More newer nodes without the word than the first round of filter entries reads.
    let fillers = tree(&store, "Newer nodes");
    for index in 0..4 * (SEARCH_RANKED_MATCHES + 1) {
        add(
            &store,
            &fillers.root,
            NodeKind::Opportunity,
            &format!("filler {index}"),
        );
    }

    let results = store
        .search(&SearchQuery {
            entity: Some(SearchEntity::Node),
            ..SearchQuery::new("quokka")
        })
        .expect("search");
    let titles: Vec<&str> = results.items.iter().map(|hit| hit.title.as_str()).collect();

    // As without the filter: the oldest match is not among the newest ranked ones.
    assert!(!results.all_matches_ranked);
    assert_eq!(titles[0], "quokka 0001");
    assert!(!titles.contains(&"quokka 0000"), "{titles:?}");
}

#[test]
fn search_past_bound_node_filter_keeps_newest() {
    let store = open();
    // Only nodes, so the type filter changes how the matches are found, not which.
    quokkas(&store, 2 * SEARCH_RANKED_MATCHES);
    let node_query = SearchQuery {
        entity: Some(SearchEntity::Node),
        ..SearchQuery::new("quokka")
    };

    let filtered = store.search(&node_query).expect("filtered search");
    let unfiltered = store.search(&SearchQuery::new("quokka")).expect("search");

    assert!(!filtered.all_matches_ranked);
    assert_eq!(hit_ids(&filtered.items), hit_ids(&unfiltered.items));
    assert_eq!(filtered.items[0].title, "quokka 1000");
}

#[test]
fn search_past_bound_builds_snippets() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);

    let results = store.search(&SearchQuery::new("quokka")).expect("search");

    assert!(!results.all_matches_ranked);
    assert_eq!(results.items[0].snippet, "**quokka** 0001");
    assert_eq!(results.items[1].snippet, "**quokka** 0002");
}

#[test]
fn search_past_bound_repeats() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);

    let first = store.search(&SearchQuery::new("quokka")).expect("first");
    let second = store.search(&SearchQuery::new("quokka")).expect("second");

    assert_eq!(first, second);
}

/// Filters find an old match behind more newer matches than a search ranks, and the search
/// reports that it ranked every match that passes them.
#[test]
fn filtered_search_finds_old_matches() {
    let store = open();
    let old_tree = tree(&store, "Old tree");
    let parent = add(&store, &old_tree.root, NodeKind::Opportunity, "Parent");
    let solution = add(&store, &parent, NodeKind::Solution, "Solution");
    let old = add(&store, &solution, NodeKind::Experiment, "quokka experiment");
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);
    let filtered = |query: SearchQuery| store.search(&query).expect("search");

    let by_kind = filtered(SearchQuery {
        kind: Some(SearchKind::Node(NodeKind::Experiment)),
        ..SearchQuery::new("quokka")
    });
    let by_tree = filtered(SearchQuery {
        tree_id: Some(old_tree.tree.id),
        ..SearchQuery::new("quokka")
    });
    let unfiltered = filtered(SearchQuery::new("quokka"));

    assert_eq!(hit_ids(&by_kind.items), [old.id.to_string()]);
    assert!(by_kind.all_matches_ranked);
    assert_eq!(hit_ids(&by_tree.items), [old.id.to_string()]);
    assert!(by_tree.all_matches_ranked);
    assert!(!unfiltered.all_matches_ranked);
    assert!(!hit_ids(&unfiltered.items).contains(&old.id.to_string()));
}

/// A word that is also a kind or type matches items by their text only.
#[test]
fn search_words_never_match_kinds() {
    let store = open();
    let small = small(&store);
    let titled = add(
        &store,
        &small.tree.root,
        NodeKind::Opportunity,
        "Run an experiment",
    );

    let hits = search(&store, "experiment");
    let evidence_hits = search(&store, "evidence");

    assert_eq!(hit_ids(&hits), [titled.id.to_string()]);
    assert!(evidence_hits.is_empty(), "{evidence_hits:?}");
}

/// A word in more items than a search ranks is ranked among the found matches alone, and a
/// title still counts more than a body there.
#[test]
fn search_for_common_word_ranks_title_above_body() {
    let store = open();
    quokkas(&store, SEARCH_RANKED_MATCHES + 1);
    let other = tree(&store, "Other tree");
    let in_body = store
        .create_node(
            CTX,
            other.tree.id,
            NewNode {
                description: "A quokka was seen near the office.".to_owned(),
                ..NewNode::new(other.root.id, NodeKind::Opportunity, "Wildlife sightings")
            },
        )
        .expect("node with the word in its body");
    let in_title = add(&store, &other.root, NodeKind::Opportunity, "Quokka keepers");

    let results = store
        .search(&SearchQuery {
            tree_id: Some(other.tree.id),
            ..SearchQuery::new("quokka")
        })
        .expect("search");

    assert!(results.all_matches_ranked);
    assert_eq!(
        hit_ids(&results.items),
        [in_title.id.to_string(), in_body.id.to_string()]
    );
}

#[test]
fn search_treats_syntax_as_words() {
    let sample = load_sample();
    // (query, expected number of hits, or None for "any")
    let cases: [(&str, Option<usize>); 16] = [
        ("\"", Some(0)),
        ("\"\"", Some(0)),
        ("\"unterminated", None),
        ("AND", None),
        ("OR NOT", None),
        ("setup AND", None),
        ("NEAR(", None),
        ("NEAR(setup import, 2)", None),
        ("*", Some(0)),
        ("-", Some(0)),
        ("-setup", None),
        ("title:setup", None),
        ("col:val", Some(0)),
        ("^setup", None),
        ("(setup", None),
        ("{title body}: x", None),
    ];

    for (text, expected) in cases {
        let hits = sample
            .store
            .search(&SearchQuery::new(text))
            .unwrap_or_else(|err| panic!("{text:?} failed: {err}"))
            .items;

        if let Some(count) = expected {
            assert_eq!(hits.len(), count, "{text:?}: {hits:?}");
        }
    }
}

#[test]
fn search_keywords_match_as_words() {
    let store = open();
    let near = evidence(&store, "Near the depot", "Staff live near the depot", &[]);

    let hits = hit_ids(&search(&store, "NEAR"));

    assert_eq!(hits, [near.to_string()]);
}

#[test]
fn search_column_syntax_matches_as_words() {
    let store = open();
    let item = evidence(&store, "Title", "The title: setup was slow", &[]);

    let hits = hit_ids(&search(&store, "title:setup"));

    assert_eq!(hits, [item.to_string()]);
}

#[test]
fn search_rejects_empty_text() {
    let store = open();

    for text in ["", "   ", "\n\t"] {
        let err = store
            .search(&SearchQuery::new(text))
            .expect_err("empty text");

        match err {
            Error::InvalidSearchQuery { reason } => {
                assert!(reason.contains("empty"), "{text:?}: {reason}");
            }
            other => panic!("{text:?}: expected InvalidSearchQuery, got {other:?}"),
        }
    }
}

#[test]
fn search_rejects_too_long_text() {
    let store = open();
    let text = "a".repeat(SEARCH_TEXT_MAX_CHARS + 1);

    let err = store
        .search(&SearchQuery::new(text))
        .expect_err("long text");

    match err {
        Error::InvalidSearchQuery { reason } => {
            assert!(reason.contains("1001 characters"), "{reason}");
        }
        other => panic!("expected InvalidSearchQuery, got {other:?}"),
    }
}

#[test]
fn search_accepts_long_text_at_limit() {
    let sample = load_sample();
    // The maximum number of different made-up words, repeated up to the length limit, and
    // one word as long as the limit.
    let mut many_words = String::from("w0");
    for index in 1.. {
        let word = format!(" w{}", index % SEARCH_MAX_WORDS);
        if many_words.len() + word.len() > SEARCH_TEXT_MAX_CHARS {
            break;
        }
        many_words.push_str(&word);
    }
    let one_word = "é".repeat(SEARCH_TEXT_MAX_CHARS);

    for text in [many_words, one_word] {
        let hits = sample
            .store
            .search(&SearchQuery::new(text.clone()))
            .unwrap_or_else(|err| panic!("{} characters failed: {err}", text.chars().count()))
            .items;

        assert!(hits.is_empty(), "{hits:?}");
    }
}

#[test]
fn search_rejects_too_many_words() {
    let store = open();
    let words: Vec<String> = (0..=SEARCH_MAX_WORDS)
        .map(|index| format!("w{index}"))
        .collect();

    let err = store
        .search(&SearchQuery::new(words.join(" ")))
        .expect_err("searched");

    let Error::InvalidSearchQuery { reason } = err else {
        panic!("expected an invalid search query, got {err:?}");
    };
    assert!(reason.contains("17 different words"), "{reason}");
}

#[test]
fn search_splits_words_at_control_characters() {
    let store = open();
    let small = small(&store);

    let hits = search(&store, "spreadsheet\0import");
    let only_control = store.search(&SearchQuery::new("\0\u{7}"));

    assert_eq!(hit_ids(&hits), [small.import.id.to_string()]);
    assert!(
        matches!(only_control, Err(Error::InvalidSearchQuery { .. })),
        "{only_control:?}"
    );
}

// Keeping the index in step.

#[test]
fn search_follows_node_changes() {
    let store = open();
    let small = small(&store);
    store
        .update_node(
            CTX,
            small.value.id,
            NodePatch {
                title: Some("Payoff is hidden".into()),
                ..NodePatch::default()
            },
            None,
        )
        .expect("rename");

    assert!(search(&store, "invisible").is_empty());
    assert_eq!(
        hit_ids(&search(&store, "payoff")),
        [small.value.id.to_string()]
    );

    store
        .delete_node(
            CTX,
            small.setup.id,
            ost_linker_core::DeleteMode::Subtree,
            None,
        )
        .expect("delete subtree");

    assert!(search(&store, "spreadsheet").is_empty());
    assert!(search(&store, "fake").is_empty());
    assert_eq!(search(&store, "payoff").len(), 1);
}

#[test]
fn search_forgets_deleted_tree() {
    let store = open();
    let small = small(&store);

    store
        .delete_tree(CTX, small.tree.tree.id, None)
        .expect("delete tree");

    assert!(search(&store, "spreadsheet").is_empty());
    assert!(search(&store, "retention").is_empty());
}

#[test]
fn search_follows_evidence_changes() {
    let store = open();
    let id = evidence(&store, "Bakery owner", "Retyped names", &["onboarding"]);
    store
        .update_evidence(
            CTX,
            id,
            EvidencePatch {
                title: Some("Café owner".into()),
                tags: Some(vec!["data-entry".into()]),
                ..EvidencePatch::default()
            },
            None,
        )
        .expect("update evidence");

    assert!(search(&store, "bakery").is_empty());
    assert!(search(&store, "onboarding").is_empty());
    assert_eq!(hit_ids(&search(&store, "cafe")), [id.to_string()]);
    assert_eq!(hit_ids(&search(&store, "data-entry")), [id.to_string()]);

    store
        .delete_evidence(CTX, id, false, None)
        .expect("delete evidence");

    assert!(search(&store, "cafe").is_empty());
}

#[test]
fn migration_indexes_existing_rows() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("views.db");
    let (node_id, evidence_id) = {
        let store = SqliteStore::open(&path).expect("open");
        let small = small(&store);
        let quote = evidence(&store, "Bakery owner", "Retyped names", &[]);
        (small.import.id, quote)
    };
    // Turn the file back into a version 2 database that contains the same rows.
    // NOTE: this undoes migrations 3 to 5 only. Migration 5 makes the search table and
    // triggers of migration 3 again under the same names. A later migration must be undone
    // here too, or the reopen below applies it a second time.
    {
        let conn = rusqlite::Connection::open(&path).expect("open file");
        conn.execute_batch(
            "DROP TRIGGER evidence_revision_insert;
             DROP TRIGGER evidence_revision_update;
             DROP TRIGGER evidence_revision_delete;
             DROP TRIGGER links_revision_insert;
             DROP TRIGGER links_revision_delete;
             DROP TRIGGER nodes_revision_insert;
             DROP TRIGGER nodes_revision_update;
             DROP TRIGGER nodes_revision_delete;
             DROP TABLE revisions;
             DROP TRIGGER nodes_search_insert;
             DROP TRIGGER nodes_search_update;
             DROP TRIGGER nodes_search_delete;
             DROP TRIGGER evidence_search_insert;
             DROP TRIGGER evidence_search_update;
             DROP TRIGGER evidence_search_delete;
             DROP TABLE search_index;
             DROP TABLE search_index_keys;
             PRAGMA user_version = 2;",
        )
        .expect("downgrade");
    }

    let store = SqliteStore::open(&path).expect("reopen");

    assert_eq!(
        hit_ids(&search(&store, "spreadsheet")),
        [node_id.to_string()]
    );
    assert_eq!(
        hit_ids(&search(&store, "bakery")),
        [evidence_id.to_string()]
    );
    let of_entity = |entity| SearchQuery {
        entity: Some(entity),
        ..SearchQuery::new("bakery")
    };
    let evidence_hits = store.search(&of_entity(SearchEntity::Evidence));
    let node_hits = store.search(&of_entity(SearchEntity::Node));
    assert_eq!(
        hit_ids(&evidence_hits.expect("evidence search").items),
        [evidence_id.to_string()]
    );
    assert!(node_hits.expect("node search").items.is_empty());
    let later = add(
        &store,
        &store.get_node(node_id).expect("node"),
        NodeKind::Experiment,
        "Paper prototype",
    );
    assert_eq!(hit_ids(&search(&store, "paper")), [later.id.to_string()]);
}

#[test]
fn index_rows_match_entities_after_cascades() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("views.db");
    let store = SqliteStore::open(&path).expect("open");
    let kept = small(&store);
    let doomed = small(&store);
    let quote = evidence(&store, "Bakery owner", "Retyped names", &[]);
    evidence(&store, "Café owner", "Lost a Sunday", &[]);
    link(&store, &doomed.setup, quote, Relation::Supports);

    store
        .delete_node(
            CTX,
            kept.setup.id,
            ost_linker_core::DeleteMode::Subtree,
            None,
        )
        .expect("delete subtree");
    store
        .delete_tree(CTX, doomed.tree.tree.id, None)
        .expect("delete tree");
    store
        .delete_evidence(CTX, quote, true, None)
        .expect("delete evidence");

    let conn = rusqlite::Connection::open(&path).expect("open file");
    let count = |sql: &str| -> i64 {
        conn.query_row(sql, [], |row| row.get(0))
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    };
    let entities = count("SELECT (SELECT count(*) FROM nodes) + (SELECT count(*) FROM evidence)");
    assert_eq!(entities, 3);
    assert_eq!(count("SELECT count(*) FROM search_index_keys"), entities);
    assert_eq!(count("SELECT count(*) FROM search_index"), entities);
    assert_eq!(
        count(
            "SELECT count(*) FROM search_index JOIN search_index_keys
             ON search_index_keys.id = search_index.rowid
             AND search_index_keys.entity_id = search_index.entity_id"
        ),
        entities
    );
}

fn revision(store: &SqliteStore, tree_id: TreeId) -> Option<i64> {
    store.tree_revision(tree_id).expect("tree revision")
}

#[test]
fn revision_moves_with_outline_changes() {
    let store = open();
    let first = tree(&store, "First");
    let opportunity = add(&store, &first.root, NodeKind::Opportunity, "Setup is slow");
    let item = evidence(&store, "Interview", "Setup took two days", &[]);

    let mut last = revision(&store, first.tree.id);
    let mut assert_moved = |case: &str| {
        let now = revision(&store, first.tree.id);
        assert_ne!(now, last, "{case}");
        last = now;
    };

    add(
        &store,
        &first.root,
        NodeKind::Opportunity,
        "Value is invisible",
    );
    assert_moved("add node");

    link(&store, &opportunity, item, Relation::Supports);
    assert_moved("link");

    let patch = TreePatch {
        title: Some("First, renamed".into()),
        ..TreePatch::default()
    };
    store
        .update_tree(CTX, first.tree.id, patch, None)
        .expect("rename");
    assert_moved("rename tree");

    store
        .delete_evidence(CTX, item, true, None)
        .expect("delete evidence");
    assert_moved("delete linked evidence");
}

#[test]
fn revision_ignores_other_trees() {
    let store = open();
    let first = tree(&store, "First");
    let second = tree(&store, "Second");
    let before = revision(&store, first.tree.id);

    add(&store, &second.root, NodeKind::Opportunity, "Elsewhere");

    assert!(before.is_some());
    assert_eq!(revision(&store, first.tree.id), before);
    assert_eq!(revision(&store, TreeId::generate()), None);
}

/// Reads the evidence and search revisions.
fn store_revisions(store: &SqliteStore) -> (i64, i64) {
    let evidence = store.evidence_revision().expect("evidence revision");
    let search = store.search_revision().expect("search revision");
    (evidence, search)
}

#[test]
fn store_revisions_follow_what_they_cover() {
    let store = open();
    let small = small(&store);
    let mut last = store_revisions(&store);
    let mut assert_moved = |case: &str, evidence: bool, search: bool| {
        let now = store_revisions(&store);
        let moved = (now.0 != last.0, now.1 != last.1);
        assert_eq!(
            moved,
            (evidence, search),
            "{case}: (evidence, search) moved"
        );
        last = now;
    };

    let node = add(
        &store,
        &small.tree.root,
        NodeKind::Opportunity,
        "Invisible value",
    );
    assert_moved("add node", false, true);

    let patch = NodePatch {
        position: Some(0),
        ..NodePatch::default()
    };
    store.update_node(CTX, node.id, patch, None).expect("move");
    assert_moved("move node", false, false);

    let patch = NodePatch {
        title: Some("Value stays invisible".into()),
        ..NodePatch::default()
    };
    store
        .update_node(CTX, node.id, patch, None)
        .expect("rename");
    assert_moved("rename node", false, true);

    let item = evidence(&store, "Interview", "Nobody saw the report", &[]);
    assert_moved("add evidence", true, true);

    let patch = EvidencePatch {
        tags: Some(vec!["reporting".into()]),
        ..EvidencePatch::default()
    };
    store.update_evidence(CTX, item, patch, None).expect("tag");
    assert_moved("tag evidence", true, true);

    link(&store, &node, item, Relation::Supports);
    assert_moved("link", true, true);

    store
        .delete_node(CTX, node.id, ost_linker_core::DeleteMode::Subtree, None)
        .expect("delete linked node");
    assert_moved("delete linked node", true, true);

    store
        .delete_evidence(CTX, item, false, None)
        .expect("delete evidence");
    assert_moved("delete evidence", true, true);
}
