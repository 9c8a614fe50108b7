//! `ost-linker load-sample` against the real service: loads samples/trial-retention.json
//! behind the service-token gate and checks the stored tree against values worked out by
//! hand from that file.
//!
//! Every expected number and title below was read off the sample file, not computed from it,
//! so a converter or import bug that changes the data cannot also change the expectation.
//! Link indexes in comments count from 0 in the file's `links` list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{TOKEN, TestServer};

const WITH_TOKEN: &[(&str, &str)] = &[("X-Service-Token", TOKEN)];

/// The outcome's title, which the loader also uses as the tree's title.
const OUTCOME: &str =
    "Raise 90-day retention of trial accounts from 18% to 26% by the end of Q2 2027";

// Titles of the nodes the checks below look at, with their keys in the file.
/// `opp-setup-effort`.
const SETUP_EFFORT: &str =
    "Setting up the first real schedule takes more effort than the trial seems worth";
/// `opp-import-staff`.
const IMPORT_STAFF: &str = "I have to retype a staff list that already exists in a spreadsheet";
/// `sol-csv-import`.
const CSV_IMPORT: &str = "Paste-from-spreadsheet staff import with column matching";
/// `sol-template-week`.
const TEMPLATE_WEEK: &str = "Starter week templates by business type";
/// `opp-payroll-export`.
const PAYROLL_EXPORT: &str = "Hours don't flow into payroll, so month-end is still manual";
/// `sol-swap-in-app`.
const SWAP_IN_APP: &str = "One-tap shift swap in the staff app with manager approval";
/// `opp-spreadsheet-rules`.
const SPREADSHEET_RULES: &str =
    "Rules my old rota encodes (certifications, who may open alone) get lost when I switch";
/// `opp-value-visibility`.
const VALUE_VISIBILITY: &str =
    "I can't tell whether the tool is saving me time before the trial ends";

/// Opportunities without supporting evidence: the only two opportunities that no link names
/// (`opp-spreadsheet-rules`, `opp-value-visibility`); each of the other eight has at least one
/// `supports` link.
pub const OPPORTUNITIES_WITHOUT_SUPPORT: [&str; 2] = [SPREADSHEET_RULES, VALUE_VISIBILITY];

/// Opportunities whose evidence only contradicts: none. The only opportunity with a
/// `contradicts` link, `opp-payroll-export` (links 15 and 46), also has three `supports`
/// links (10, 27, 37). Among all nodes, only the solution `sol-swap-in-app` has contradicting
/// evidence alone (link 38).
pub const OPPORTUNITIES_ONLY_CONTRADICTED: [&str; 0] = [];

/// Solutions without experiments: none. Each of the seven solutions is the `parent_key` of at
/// least one experiment (`sol-csv-import` of two).
pub const SOLUTIONS_WITHOUT_EXPERIMENTS: [&str; 0] = [];

/// Finished experiments without a result: none. The four finished ones (`exp-import-fake-door`
/// and `exp-import-concierge` succeeded, `exp-template-ab` and `exp-qr-poster` failed) all
/// have a `result` text.
pub const FINISHED_WITHOUT_RESULT: [&str; 0] = [];

/// `(title, supports, contradicts)` link counts of some nodes, counted in `links` by
/// `node_key`.
pub const LINK_COUNTS: [(&str, usize, usize); 8] = [
    // `sol-template-week`: supports 36; contradicts 13, 32, 50.
    (TEMPLATE_WEEK, 1, 3),
    // `opp-payroll-export`: supports 10, 27, 37; contradicts 15, 46.
    (PAYROLL_EXPORT, 3, 2),
    // `sol-csv-import`: supports 2, 21, 23, 48, 54; contradicts 18.
    (CSV_IMPORT, 5, 1),
    // `opp-setup-effort`: supports 1, 12, 33, 41, 43, 51.
    (SETUP_EFFORT, 6, 0),
    // The outcome: supports 40, the only link whose `node_key` is the outcome's key.
    (OUTCOME, 1, 0),
    // `sol-swap-in-app`: contradicts 38.
    (SWAP_IN_APP, 0, 1),
    // No link names these two.
    (SPREADSHEET_RULES, 0, 0),
    (VALUE_VISIBILITY, 0, 0),
];

/// Each experiment's title and `status`, copied from the file's eight experiment nodes.
const EXPERIMENT_STATUSES: [(&str, &str); 8] = [
    (
        "Fake door: 'Import from spreadsheet' button on the empty staff page",
        "succeeded",
    ),
    (
        "Concierge import for 20 new trials, compared with 20 matched trials",
        "succeeded",
    ),
    (
        "Unmoderated prototype test: six employees at two trial accounts (a dental clinic in \
         Málaga, a depot in Lübeck) submit next month's availability on their own phones",
        "running",
    ),
    (
        "A/B test: starter templates on the empty week vs the blank grid",
        "failed",
    ),
    (
        "Wizard of Oz: a team member builds each 'automatic' draft week by hand within two hours",
        "planned",
    ),
    (
        "Include the QR poster in the welcome e-mail for half of new trials",
        "failed",
    ),
    (
        "Three-week pilot of one-tap swaps with five trial accounts that swap in chat today",
        "running",
    ),
    (
        "Ask eight retail trial admins to load a sample export into their own payroll tool",
        "planned",
    ),
];

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/trial-retention.json")
}

/// Runs the real `ost-linker load-sample` against `server`, with `token` in the environment.
fn load_sample(server: &TestServer, file: &Path, token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ost-linker"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OST_LINKER_") {
            command.env_remove(name);
        }
    }
    if let Some(token) = token {
        command.env("OST_LINKER_SERVICE_TOKEN", token);
    }

    command
        .arg("load-sample")
        .arg(file)
        .arg("--url")
        .arg(format!("http://{}", server.address()))
        .output()
        .expect("run ost-linker load-sample")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Returns the tree id from the loader's summary, `Loaded FILE as tree tree_…: TITLE`.
fn tree_id_from(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find_map(|word| word.strip_prefix("tree_"))
        .map(|rest| format!("tree_{}", rest.trim_end_matches(':')))
        .unwrap_or_else(|| panic!("no tree id in {stdout:?}"))
}

fn get(server: &TestServer, path: &str) -> Value {
    let reply = server.send("GET", path, None, WITH_TOKEN);
    assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);

    reply.json()
}

fn items(value: &Value) -> Vec<Value> {
    value["items"].as_array().expect("items").clone()
}

/// Lists every evidence item matching `query`, ten per page, to page through the cursor.
fn all_evidence(server: &TestServer, query: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut cursor = String::new();
    // 41 items at ten per page take five pages; twenty is a bound, not an expectation.
    for _ in 0..20 {
        let page = get(server, &format!("/evidence?limit=10{query}{cursor}"));
        found.extend(items(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return found,
        }
    }
    panic!("evidence listing did not end within 20 pages");
}

/// Returns the tree's nodes by title, and each node's links by node title.
fn nodes_and_links(
    server: &TestServer,
    tree_id: &str,
) -> (HashMap<String, Value>, HashMap<String, Vec<Value>>) {
    let mut nodes = HashMap::new();
    let mut links = HashMap::new();
    for node in items(&get(server, &format!("/trees/{tree_id}/nodes"))) {
        let title = node["title"].as_str().expect("title").to_owned();
        let id = node["id"].as_str().expect("id");
        links.insert(
            title.clone(),
            items(&get(server, &format!("/nodes/{id}/links"))),
        );
        nodes.insert(title, node);
    }
    (nodes, links)
}

fn source_external_id(item: &Value) -> &str {
    item["source"]["external_id"].as_str().unwrap_or_default()
}

#[test]
fn sample_loads_with_hand_counted_contents() {
    let server = TestServer::gated();

    let output = load_sample(&server, &sample_path(), Some(TOKEN));

    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    // 26 nodes: the outcome plus the 25 entries of `nodes`; 41 entries of `evidence` and 58
    // of `links`, none stored before.
    assert!(stdout.contains("nodes:    26 created"), "{stdout}");
    assert!(
        stdout.contains("evidence: 41 created, 0 reused"),
        "{stdout}"
    );
    assert!(stdout.contains("links:    58 created"), "{stdout}");
    let tree_id = tree_id_from(&stdout);

    let tree = get(&server, &format!("/trees/{tree_id}"));
    assert_eq!(tree["title"], OUTCOME);
    let (nodes, links) = nodes_and_links(&server, &tree_id);
    check_nodes(&nodes);
    check_links(&links);
    check_evidence(&server, &nodes);
    check_views(&server, &tree_id, &nodes);
}

fn check_nodes(nodes: &HashMap<String, Value>) {
    // Outcome + 10 opportunities + 7 solutions + 8 experiments, all titles distinct.
    assert_eq!(nodes.len(), 26);
    let count = |kind: &str| nodes.values().filter(|node| node["kind"] == kind).count();
    assert_eq!(count("outcome"), 1);
    assert_eq!(count("opportunity"), 10);
    assert_eq!(count("solution"), 7);
    assert_eq!(count("experiment"), 8);

    for (title, status) in EXPERIMENT_STATUSES {
        let node = nodes
            .get(title)
            .unwrap_or_else(|| panic!("no experiment {title:?}"));
        assert_eq!(node["status"], status, "{title}");
    }
    // `exp-swap-pilot` is running with an interim result; planned ones have none.
    let pilot = &nodes["Three-week pilot of one-tap swaps with five trial accounts that swap in chat today"];
    assert!(
        pilot["result"]
            .as_str()
            .is_some_and(|result| result.starts_with("Interim after two of three weeks")),
        "{pilot}"
    );
    let walkthrough =
        &nodes["Ask eight retail trial admins to load a sample export into their own payroll tool"];
    assert_eq!(
        walkthrough.get("result"),
        Some(&Value::Null),
        "{walkthrough}"
    );
}

fn check_links(links: &HashMap<String, Vec<Value>>) {
    let all: Vec<&Value> = links.values().flatten().collect();
    // 58 entries in `links`; 9 with relation `contradicts`: indexes 7, 13, 15, 18, 32, 38, 46,
    // 50 and 57.
    assert_eq!(all.len(), 58);
    let contradicts = all
        .iter()
        .filter(|link| link["relation"] == "contradicts")
        .count();
    assert_eq!(contradicts, 9);

    for (title, supports, contradicts) in LINK_COUNTS {
        let node_links = &links[title];
        let count = |relation: &str| {
            node_links
                .iter()
                .filter(|link| link["relation"] == relation)
                .count()
        };
        assert_eq!(count("supports"), supports, "supports of {title}");
        assert_eq!(count("contradicts"), contradicts, "contradicts of {title}");
    }

    // Link 3 (`opp-availability-capture` to `ev-int-veloria-chat`) keeps its strength and note.
    let veloria = links["Collecting everyone's availability is a chase through chat messages and paper slips"]
        .iter()
        .find(|link| {
            link["evidence"]["title"]
                == "Clinic coordinator in Málaga collects availability in the group chat"
        })
        .expect("link 3");
    assert_eq!(veloria["strength"], 5);
    assert_eq!(
        veloria["note"],
        "Availability gathered in chat, copied by hand."
    );
}

fn check_evidence(server: &TestServer, nodes: &HashMap<String, Value>) {
    // 41 entries in `evidence`: 13 interview snippets, 8 support tickets, 8 survey responses,
    // 8 metrics and 4 documents.
    let evidence = all_evidence(server, "");
    assert_eq!(evidence.len(), 41);
    let count = |kind: &str| evidence.iter().filter(|item| item["kind"] == kind).count();
    assert_eq!(count("interview_snippet"), 13);
    assert_eq!(count("support_ticket"), 8);
    assert_eq!(count("survey_response"), 8);
    assert_eq!(count("metric"), 8);
    assert_eq!(count("document"), 4);

    // `ev-int-bramblewick-sunday`, external id INT-2026-07-03-02, is the only item that three
    // links name: links 0, 1 and 2, to `opp-import-staff`, `opp-setup-effort` and
    // `sol-csv-import`.
    let bramblewick = evidence
        .iter()
        .find(|item| source_external_id(item) == "INT-2026-07-03-02")
        .expect("ev-int-bramblewick-sunday");
    let id = bramblewick["id"].as_str().expect("id");
    let links = items(&get(server, &format!("/evidence/{id}/links")));
    assert_eq!(links.len(), 3);
    let mut linked: Vec<&str> = links
        .iter()
        .map(|link| link["node"]["title"].as_str().expect("node title"))
        .collect();
    linked.sort_unstable();
    let mut expected = [IMPORT_STAFF, SETUP_EFFORT, CSV_IMPORT];
    expected.sort_unstable();
    assert_eq!(linked, expected);
    assert_eq!(links[0]["tree"]["title"], OUTCOME);
    assert!(nodes.contains_key(CSV_IMPORT));

    // The four items that no link names: `ev-int-oakmere-colours`, `ev-tkt-48915`,
    // `ev-srv-d14-1251` and `ev-srv-cancel-0448`, by their external ids.
    let unlinked = all_evidence(server, "&linked=false");
    let mut external_ids: Vec<&str> = unlinked.iter().map(source_external_id).collect();
    external_ids.sort_unstable();
    assert_eq!(
        external_ids,
        [
            "48915",
            "INT-2026-07-16-03",
            "trial-cancel/0448",
            "trial-day-14/1251"
        ]
    );

    // `ev-met-days-to-tenth-staff` is the one item with a null URL; its metric survives whole.
    let tenth = evidence
        .iter()
        .find(|item| source_external_id(item) == "trial-cohorts/days_to_tenth_staff")
        .expect("ev-met-days-to-tenth-staff");
    assert_eq!(tenth["source"]["url"], Value::Null);
    assert_eq!(tenth["metric"]["value"], 2.6);
    assert_eq!(tenth["metric"]["unit"], "days");
    assert_eq!(tenth["customer"], Value::Null);
}

// ---------------------------------------------------------------------------------------
// Outline, gap report and search of the loaded sample.
// ---------------------------------------------------------------------------------------

/// Checks `/trees/{id}/outline`, `/trees/{id}/gaps` and `/search` on the loaded sample.
///
/// The hand-derived expectations are the constants above: [`OPPORTUNITIES_WITHOUT_SUPPORT`],
/// [`OPPORTUNITIES_ONLY_CONTRADICTED`], [`SOLUTIONS_WITHOUT_EXPERIMENTS`],
/// [`FINISHED_WITHOUT_RESULT`] and the per-node [`LINK_COUNTS`].
fn check_views(server: &TestServer, tree_id: &str, nodes: &HashMap<String, Value>) {
    check_outline(server, tree_id, nodes);
    check_gaps(server, tree_id);
    check_search(server, tree_id);
}

fn check_outline(server: &TestServer, tree_id: &str, nodes: &HashMap<String, Value>) {
    let outline = get(server, &format!("/trees/{tree_id}/outline"));
    let mut counts = HashMap::new();
    collect_counts(&outline["root"], &mut counts);

    assert_eq!(
        counts.len(),
        nodes.len(),
        "the outline holds every node once"
    );
    for (title, supports, contradicts) in LINK_COUNTS {
        assert_eq!(counts.get(title), Some(&(supports, contradicts)), "{title}");
    }

    let reply = server.send(
        "GET",
        &format!("/trees/{tree_id}/outline?format=markdown"),
        None,
        WITH_TOKEN,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    // One heading line, then one line per node.
    assert_eq!(reply.body.lines().count(), 27, "{}", reply.body);
    // `sol-template-week` has one supporting and three contradicting links.
    assert!(
        reply
            .body
            .lines()
            .any(|line| line.contains(TEMPLATE_WEEK) && line.ends_with("+1 -3")),
        "{}",
        reply.body
    );
}

/// Maps each outline node's title to its (supporting, contradicting) counts.
fn collect_counts(node: &Value, counts: &mut HashMap<String, (usize, usize)>) {
    let title = node["title"].as_str().expect("title").to_owned();
    let supporting = node["supporting"].as_u64().expect("supporting") as usize;
    let contradicting = node["contradicting"].as_u64().expect("contradicting") as usize;
    counts.insert(title, (supporting, contradicting));

    for child in node["children"].as_array().expect("children") {
        collect_counts(child, counts);
    }
}

fn check_gaps(server: &TestServer, tree_id: &str) {
    let gaps = get(server, &format!("/trees/{tree_id}/gaps"));
    let titles = |key: &str| -> Vec<String> {
        gaps[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not a list: {gaps}"))
            .iter()
            .map(|item| item["title"].as_str().expect("title").to_owned())
            .collect()
    };

    assert_eq!(
        titles("opportunities_without_support"),
        OPPORTUNITIES_WITHOUT_SUPPORT
    );
    assert_eq!(
        titles("opportunities_only_contradicted"),
        OPPORTUNITIES_ONLY_CONTRADICTED
    );
    assert_eq!(
        titles("solutions_without_experiments"),
        SOLUTIONS_WITHOUT_EXPERIMENTS
    );
    assert_eq!(
        titles("finished_experiments_without_result"),
        FINISHED_WITHOUT_RESULT
    );
}

fn check_search(server: &TestServer, tree_id: &str) {
    let search = |query: &str| -> Vec<(String, String)> {
        items(&get(server, &format!("/search?{query}")))
            .iter()
            .map(|item| {
                (
                    item["type"].as_str().expect("type").to_owned(),
                    item["title"].as_str().expect("title").to_owned(),
                )
            })
            .collect()
    };
    let kestrelholm = "Shift lead in Lübeck retypes handwritten availability slips every Sunday";
    let veloria = "Clinic coordinator in Málaga collects availability in the group chat";

    // "Verfügbarkeiten" appears once in the file: in the content of `ev-int-kestrelholm-zettel`.
    assert_eq!(
        search("q=Verf%C3%BCgbarkeiten"),
        [("evidence".to_owned(), kestrelholm.to_owned())]
    );
    // "disponibilidad" appears once: in the content of `ev-int-veloria-chat`.
    assert_eq!(
        search("q=disponibilidad"),
        [("evidence".to_owned(), veloria.to_owned())]
    );

    // "Málaga", searched without its accent, is in two indexed texts: the title of the
    // experiment `exp-availability-prototype` and the title of `ev-int-veloria-chat`. The file
    // also has it in two customer accounts, which search does not index.
    let mut malaga = search("q=Malaga");
    malaga.sort();
    assert_eq!(malaga.len(), 2, "{malaga:?}");
    assert_eq!(malaga[0], ("evidence".to_owned(), veloria.to_owned()));
    assert_eq!(malaga[1].0, "node");
    assert!(
        malaga[1].1.starts_with("Unmoderated prototype test"),
        "{malaga:?}"
    );

    // Filtered to this tree's nodes, only the experiment remains.
    let nodes_only = search(&format!("q=Malaga&type=node&tree_id={tree_id}"));
    assert_eq!(nodes_only.len(), 1, "{nodes_only:?}");
}

#[test]
fn rerun_of_same_file_replays() {
    let server = TestServer::gated();
    let first = load_sample(&server, &sample_path(), Some(TOKEN));
    assert!(first.status.success(), "{}", text(&first.stderr));

    let second = load_sample(&server, &sample_path(), Some(TOKEN));

    let stdout = text(&second.stdout);
    assert!(second.status.success(), "{stdout}{}", text(&second.stderr));
    assert!(stdout.contains("replayed its first response"), "{stdout}");
    assert_eq!(tree_id_from(&stdout), tree_id_from(&text(&first.stdout)));
    let trees = get(&server, "/trees");
    assert_eq!(items(&trees).len(), 1);
    assert_eq!(all_evidence(&server, "").len(), 41);
}

#[test]
fn missing_or_invalid_file_is_named() {
    let server = TestServer::gated();
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("missing.json");
    let invalid = dir.path().join("invalid.json");
    let sample = std::fs::read_to_string(sample_path()).expect("read sample");
    // The first node's kind becomes one the layout does not know.
    let broken = sample.replacen("\"kind\": \"opportunity\"", "\"kind\": \"idea\"", 1);
    assert_ne!(
        broken, sample,
        "the sample's formatting changed; adjust the replacement"
    );
    std::fs::write(&invalid, broken).expect("write invalid file");

    let missing_output = load_sample(&server, &missing, Some(TOKEN));
    let invalid_output = load_sample(&server, &invalid, Some(TOKEN));

    let missing_stderr = text(&missing_output.stderr);
    assert_eq!(missing_output.status.code(), Some(1), "{missing_stderr}");
    assert!(missing_stderr.contains("missing.json"), "{missing_stderr}");
    let invalid_stderr = text(&invalid_output.stderr);
    assert_eq!(invalid_output.status.code(), Some(1), "{invalid_stderr}");
    assert!(invalid_stderr.contains("invalid.json"), "{invalid_stderr}");
    assert!(invalid_stderr.contains("/nodes/0/kind"), "{invalid_stderr}");
    assert!(items(&get(&server, "/trees")).is_empty());
}

#[test]
fn rejected_import_prints_problem() {
    let server = TestServer::gated();
    let dir = tempfile::tempdir().expect("temporary directory");
    let unknown_parent = dir.path().join("unknown-parent.json");
    let sample = std::fs::read_to_string(sample_path()).expect("read sample");
    // `opp-team-data`, the second node, names its parent by this key; no node has the new one.
    let broken = sample.replacen(
        "\"parent_key\": \"opp-setup-effort\"",
        "\"parent_key\": \"opp-nowhere\"",
        1,
    );
    assert_ne!(
        broken, sample,
        "the sample's formatting changed; adjust the replacement"
    );
    std::fs::write(&unknown_parent, broken).expect("write file");

    let without_token = load_sample(&server, &sample_path(), None);
    let rejected = load_sample(&server, &unknown_parent, Some(TOKEN));

    let stderr = text(&without_token.stderr);
    assert_eq!(without_token.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("401 missing_service_token"), "{stderr}");
    let stderr = text(&rejected.stderr);
    assert_eq!(rejected.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("422 invalid_document"), "{stderr}");
    assert!(stderr.contains("/nodes/1/parent_key"), "{stderr}");
    assert!(stderr.contains("opp-nowhere"), "{stderr}");
    assert!(items(&get(&server, "/trees")).is_empty());
}
