//! `GET /trees/{id}/export` and `POST /trees/import` against the real binary: round trip,
//! dry run, evidence reuse, idempotent replay and the service-token gate.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{ServerOptions, TOKEN, TestServer, create_node, create_tree};

/// Builds a tree with nested nodes, experiment fields and links of both relations to a
/// sourced interview and a metric, and returns its id.
fn build_tree(server: &TestServer) -> String {
    let (tree_id, root_id) = create_tree(server, &[]);
    let setup = create_node(
        server,
        &tree_id,
        &root_id,
        "opportunity",
        "Setup is long",
        &[],
    );
    let solution = create_node(
        server,
        &tree_id,
        &setup,
        "solution",
        "Spreadsheet import",
        &[],
    );
    let experiment = server.post(
        &format!("/trees/{tree_id}/nodes"),
        &json!({
            "parent_id": solution, "kind": "experiment", "title": "Fake door",
            "status": "succeeded", "result": "41% clicked"
        }),
    );
    assert_eq!(experiment.status, 201, "{}", experiment.body);
    let adoption = create_node(
        server,
        &tree_id,
        &root_id,
        "opportunity",
        "Staff ignore the app",
        &[],
    );

    let interview = create_evidence(
        server,
        &json!({
            "kind": "interview_snippet", "title": "Sunday spent retyping", "content": "« Un dimanche entier »",
            "source": { "system": "research-notes", "external_id": "INT-1", "url": "https://research.example.com/n/1?a=1&b=2" },
            "occurred_at": "2026-07-03T14:20:00Z",
            "customer": { "segment": "smb-hospitality", "account": "Bramblewick Bakehouse" },
            "tags": ["onboarding", "data-entry"]
        }),
    );
    let metric = create_evidence(
        server,
        &json!({
            "kind": "metric", "title": "Baseline",
            "source": { "system": "analytics", "external_id": "d90" },
            "metric": { "name": "trial_d90_retention", "value": 18.4, "unit": "percent", "period": "2026-04-01/2026-06-30" }
        }),
    );
    link(server, &setup, &interview, "supports");
    link(server, &solution, &interview, "contradicts");
    link(server, &root_id, &metric, "supports");
    link(server, &adoption, &metric, "supports");

    tree_id
}

fn create_evidence(server: &TestServer, body: &Value) -> String {
    let reply = server.post("/evidence", body);
    assert_eq!(reply.status, 201, "{}", reply.body);

    reply.json()["id"].as_str().expect("id").to_owned()
}

fn link(server: &TestServer, node_id: &str, evidence_id: &str, relation: &str) {
    let reply = server.post(
        &format!("/nodes/{node_id}/links"),
        &json!({ "evidence_id": evidence_id, "relation": relation, "strength": 3, "note": "why" }),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

fn export(server: &TestServer, tree_id: &str) -> Value {
    let reply = server.get(&format!("/trees/{tree_id}/export"));
    assert_eq!(reply.status, 200, "{}", reply.body);

    reply.json()
}

/// Replaces every ref by the entry's place in the document, so that exports of two trees
/// compare equal when only their ids differ.
fn without_refs(document: &Value) -> Value {
    let places = |section: &str| -> HashMap<String, String> {
        document[section]
            .as_array()
            .expect("section")
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let reference = entry["ref"].as_str().expect("ref").to_owned();
                (reference, format!("{section} {index}"))
            })
            .collect()
    };
    let nodes = places("nodes");
    let evidence = places("evidence");

    let mut renamed = document.clone();
    for node in renamed["nodes"].as_array_mut().expect("nodes") {
        node["ref"] = json!(nodes[node["ref"].as_str().expect("ref")]);
        if let Some(parent) = node["parent_ref"].as_str() {
            node["parent_ref"] = json!(nodes[parent]);
        }
    }
    for item in renamed["evidence"].as_array_mut().expect("evidence") {
        item["ref"] = json!(evidence[item["ref"].as_str().expect("ref")]);
    }
    for entry in renamed["links"].as_array_mut().expect("links") {
        entry["node_ref"] = json!(nodes[entry["node_ref"].as_str().expect("node_ref")]);
        entry["evidence_ref"] =
            json!(evidence[entry["evidence_ref"].as_str().expect("evidence_ref")]);
    }
    renamed
}

#[test]
fn export_import_export_round_trips() {
    let server = TestServer::open();
    let tree_id = build_tree(&server);
    let first = export(&server, &tree_id);

    let imported = server.post("/trees/import", &first);

    assert_eq!(imported.status, 201, "{}", imported.body);
    let body = imported.json();
    let new_id = body["id"].as_str().expect("id");
    assert_ne!(new_id, tree_id);
    assert_eq!(
        imported.header("location"),
        Some(format!("/trees/{new_id}").as_str())
    );
    assert_eq!(imported.header("etag"), Some("\"1\""));
    assert_eq!(body["nodes_created"], 5);
    assert_eq!(body["links_created"], 4);
    assert_eq!(body["evidence_reused"], 2);
    assert_eq!(body["evidence_created"], 0);
    assert_eq!(
        body["root_node_id"],
        body["node_ids"][first["nodes"][0]["ref"].as_str().expect("ref")]
    );

    let second = export(&server, new_id);
    assert_eq!(without_refs(&second), without_refs(&first));
    assert_eq!(first["format"], "ost-linker/tree");
    assert_eq!(first["version"], 1);
    assert_eq!(first["nodes"][0]["parent_ref"], Value::Null);
    assert_eq!(first["nodes"][3]["status"], "succeeded");
    assert_eq!(first["nodes"][3]["result"], "41% clicked");
    assert_eq!(
        first["evidence"][1]["customer"]["account"],
        "Bramblewick Bakehouse"
    );
    assert_eq!(first["evidence"][0]["metric"]["value"], 18.4);
}

#[test]
fn import_into_fresh_service_round_trips() {
    let source = TestServer::open();
    let first = export(&source, &build_tree(&source));
    let target = TestServer::open();

    let imported = target.post("/trees/import", &first);

    assert_eq!(imported.status, 201, "{}", imported.body);
    let body = imported.json();
    assert_eq!(body["evidence_created"], 2);
    assert_eq!(body["evidence_reused"], 0);
    let second = export(&target, body["id"].as_str().expect("id"));
    assert_eq!(without_refs(&second), without_refs(&first));
}

/// Builds a document of an outcome, 30 opportunities with 20 solutions each, 50 evidence
/// items and 100 links, with long descriptions, so its export spans several chunks.
fn large_document() -> Value {
    let description = "A long description that fills the document. ".repeat(9);
    let mut nodes = vec![json!({
        "ref": "root", "parent_ref": null, "kind": "outcome", "title": "Outcome",
        "description": description
    })];
    for opportunity in 0..30 {
        let reference = format!("opportunity-{opportunity}");
        nodes.push(json!({
            "ref": reference, "parent_ref": "root", "kind": "opportunity",
            "title": format!("Opportunity {opportunity}"), "description": description
        }));
        for solution in 0..20 {
            nodes.push(json!({
                "ref": format!("solution-{opportunity}-{solution}"), "parent_ref": reference,
                "kind": "solution", "title": format!("Solution {opportunity}.{solution}"),
                "description": description
            }));
        }
    }
    let evidence: Vec<Value> = (0..50)
        .map(|item| {
            json!({
                "ref": format!("note-{item}"), "kind": "document",
                "title": format!("Note {item}"), "content": description
            })
        })
        .collect();
    let links: Vec<Value> = (0..100)
        .map(|index| {
            json!({
                "node_ref": format!("opportunity-{}", index % 30),
                "evidence_ref": format!("note-{}", index % 50),
                "relation": "supports"
            })
        })
        .collect();

    json!({
        "format": "ost-linker/tree", "version": 1,
        "tree": { "title": "Large tree" },
        "nodes": nodes, "evidence": evidence, "links": links
    })
}

/// Imports [`large_document`] and returns the new tree's id.
fn import_large_tree(server: &TestServer) -> String {
    let imported = server.post("/trees/import", &large_document());
    assert_eq!(imported.status, 201, "{}", imported.body);

    imported.json()["id"].as_str().expect("id").to_owned()
}

#[test]
fn large_export_has_its_length() {
    let server = TestServer::open();
    let tree_id = import_large_tree(&server);

    let reply = server.get(&format!("/trees/{tree_id}/export"));

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("transfer-encoding"), None);
    let length = reply.body.len().to_string();
    assert_eq!(reply.header("content-length"), Some(length.as_str()));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(
        reply.body.len() > 4 * 64 * 1024,
        "the export should span several reads of the spooled file, but it has {} bytes",
        reply.body.len()
    );
    let document = reply.json();
    assert_eq!(document["nodes"].as_array().expect("nodes").len(), 631);
    assert_eq!(document["evidence"].as_array().expect("evidence").len(), 50);
    assert_eq!(document["links"].as_array().expect("links").len(), 100);
    assert_eq!(document["nodes"][1]["title"], "Opportunity 0");
    assert_eq!(document["nodes"][2]["title"], "Solution 0.0");
    assert_eq!(document["nodes"][22]["title"], "Opportunity 1");

    let again = server.post("/trees/import", &document);
    assert_eq!(again.status, 201, "{}", again.body);
    let second = export(&server, again.json()["id"].as_str().expect("id"));
    assert_eq!(without_refs(&second), without_refs(&document));
}

#[test]
fn export_over_http10_is_whole() {
    let server = TestServer::open();
    let tree_id = import_large_tree(&server);

    let response = server.raw(&format!(
        "GET /trees/{tree_id}/export HTTP/1.0\r\nHost: {}\r\n\r\n",
        server.address()
    ));

    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("end of the response head");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let body = &response[split + 4..];
    assert!(head.starts_with("http/1.0 200"), "{head}");
    assert!(
        head.contains(&format!("content-length: {}", body.len())),
        "{head}"
    );
    assert!(!head.contains("transfer-encoding"), "{head}");
    let document: Value = serde_json::from_slice(body).expect("the body is whole JSON");
    assert_eq!(document["nodes"].as_array().expect("nodes").len(), 631);
}

#[test]
fn export_without_temp_dir_is_500() {
    let parent = tempfile::tempdir().expect("temporary directory");
    let missing = parent.path().join("missing");
    let server = ServerOptions::default().temp_dir(&missing).start();
    let tree_id = build_tree(&server);

    let reply = server.get(&format!("/trees/{tree_id}/export"));

    assert_eq!(reply.status, 500, "{}", reply.body);
    assert_eq!(reply.code(), "internal_error");
    let log = server.log_with("Set TMPDIR to a writable directory");
    assert!(log.contains("Set TMPDIR to a writable directory"), "{log}");
    assert!(log.contains(&missing.display().to_string()), "{log}");
    let tree = server.get(&format!("/trees/{tree_id}"));
    assert_eq!(tree.status, 200, "{}", tree.body);
}

fn minimal_document() -> Value {
    json!({
        "format": "ost-linker/tree",
        "version": 1,
        "tree": { "title": "Imported" },
        "nodes": [
            { "ref": "root", "parent_ref": null, "kind": "outcome", "title": "Outcome" },
            { "ref": "need", "parent_ref": "root", "kind": "opportunity", "title": "Need" }
        ],
        "evidence": [
            { "ref": "ticket", "kind": "support_ticket", "title": "Ticket", "content": "Subject: x\n\nBody",
              "source": { "system": "helpdesk", "external_id": "48213" } }
        ],
        "links": [ { "node_ref": "need", "evidence_ref": "ticket", "relation": "supports" } ]
    })
}

/// Builds a document with many problems, and lists the pointer and code of each.
fn broken_document() -> (Value, Vec<(&'static str, &'static str)>) {
    let document = json!({
        "format": "ost-linker/tree",
        "version": 1,
        "tree": { "title": "Broken" },
        "nodes": [
            { "ref": "root", "parent_ref": null, "kind": "outcome", "title": "Outcome" },
            { "ref": "late-child", "parent_ref": "late-parent", "kind": "solution", "title": "Solution" },
            { "ref": "late-parent", "parent_ref": "root", "kind": "opportunity", "title": " " },
            { "ref": "late-parent", "parent_ref": "root", "kind": "opportunity", "title": "Twin" },
            { "ref": "exp", "parent_ref": "root", "kind": "experiment", "title": "Experiment" },
            { "ref": "a", "parent_ref": "b", "kind": "opportunity", "title": "A" },
            { "ref": "b", "parent_ref": "a", "kind": "opportunity", "title": "B" }
        ],
        "evidence": [
            { "ref": "m", "kind": "metric", "title": "No metric object" },
            { "ref": "d", "kind": "document", "title": "Doc", "metric": { "name": "x", "value": 1, "unit": "u", "period": "p" } }
        ],
        "links": [
            { "node_ref": "root", "evidence_ref": "d", "relation": "supports" },
            { "node_ref": "root", "evidence_ref": "d", "relation": "contradicts" },
            { "node_ref": "ghost", "evidence_ref": "m", "relation": "supports", "strength": 6 }
        ]
    });
    let expected = vec![
        ("/nodes/3/ref", "duplicate_ref"),
        ("/nodes/1/parent_ref", "parent_after_child"),
        ("/nodes/2/title", "empty_value"),
        ("/nodes/4/parent_ref", "invalid_parent_kind"),
        ("/nodes/5/parent_ref", "node_cycle"),
        ("/evidence/0/metric", "metric_required"),
        ("/evidence/1/metric", "metric_not_allowed"),
        ("/links/1", "duplicate_link"),
        ("/links/2/node_ref", "unknown_ref"),
        ("/links/2/strength", "out_of_range"),
    ];
    (document, expected)
}

fn pointers_and_codes(problems: &Value) -> Vec<(String, String)> {
    problems
        .as_array()
        .expect("problems")
        .iter()
        .map(|problem| {
            (
                problem["pointer"].as_str().expect("pointer").to_owned(),
                problem["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect()
}

fn tree_count(server: &TestServer) -> usize {
    let reply = server.get("/trees?limit=200");
    assert_eq!(reply.status, 200, "{}", reply.body);

    reply.json()["items"].as_array().expect("items").len()
}

#[test]
fn dry_run_reports_every_problem() {
    let server = TestServer::open();
    let (document, expected) = broken_document();

    let reply = server.post("/trees/import?dry_run=true", &document);

    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["valid"], false);
    let found = pointers_and_codes(&body["problems"]);
    for (pointer, code) in &expected {
        assert!(
            found.contains(&((*pointer).to_owned(), (*code).to_owned())),
            "missing {pointer} {code} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for problem in body["problems"].as_array().expect("problems") {
        let detail = problem["detail"].as_str().expect("detail");
        assert!(detail.ends_with('.'), "{detail}");
    }
    assert_eq!(body["nodes_created"], 7);
    assert_eq!(tree_count(&server), 0);
}

#[test]
fn dry_run_of_valid_document_writes_nothing() {
    let server = TestServer::open();

    let reply = server.post("/trees/import?dry_run=true", &minimal_document());

    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["valid"], true);
    assert_eq!(body["problems"], json!([]));
    assert_eq!(body["nodes_created"], 2);
    assert_eq!(body["evidence_created"], 1);
    assert_eq!(body["links_created"], 1);
    assert_eq!(tree_count(&server), 0);
    let evidence = server.get("/evidence").json();
    assert_eq!(evidence["items"], json!([]));
}

#[test]
fn invalid_import_is_422_with_problems() {
    let server = TestServer::open();
    let (document, expected) = broken_document();

    let reply = server.post("/trees/import", &document);

    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.code(), "invalid_document");
    let body = reply.json();
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("10 problem(s)"),
        "{body}"
    );
    assert_eq!(pointers_and_codes(&body["problems"]).len(), expected.len());
    assert_eq!(tree_count(&server), 0);
    assert_eq!(server.get("/evidence").json()["items"], json!([]));
}

#[test]
fn other_format_or_version_is_422() {
    let server = TestServer::open();
    let mut other_format = minimal_document();
    other_format["format"] = json!("opml");
    other_format["nodes"] = json!("not even a list");
    let mut other_version = minimal_document();
    other_version["version"] = json!(2);

    let format = server.post("/trees/import?dry_run=true", &other_format);
    let version = server.post("/trees/import", &other_version);

    assert_eq!(format.status, 422, "{}", format.body);
    assert_eq!(format.code(), "unsupported_format");
    assert_eq!(format.json()["field"], "/format");
    assert!(format.body.contains("opml"), "{}", format.body);
    assert_eq!(version.status, 422, "{}", version.body);
    assert_eq!(version.code(), "unsupported_version");
    assert_eq!(version.json()["field"], "/version");
}

#[test]
fn malformed_document_names_member() {
    let server = TestServer::open();
    let mut document = minimal_document();
    document["nodes"][1]["titel"] = json!("typo");

    let reply = server.post("/trees/import", &document);

    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), "unknown_field");
    assert_eq!(reply.json()["field"], "/nodes/1/titel");
}

#[test]
fn import_reuses_evidence_with_same_source() {
    let server = TestServer::open();

    let first = server.post("/trees/import", &minimal_document());
    let second = server.post("/trees/import", &minimal_document());

    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(second.status, 201, "{}", second.body);
    let (first, second) = (first.json(), second.json());
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["evidence_created"], 1);
    assert_eq!(second["evidence_created"], 0);
    assert_eq!(second["evidence_reused"], 1);
    let evidence_id = first["evidence_ids"]["ticket"]
        .as_str()
        .expect("evidence id");
    assert_eq!(second["evidence_ids"]["ticket"], evidence_id);

    let items = server.get("/evidence").json();
    assert_eq!(items["items"].as_array().expect("items").len(), 1);
    let links = server.get(&format!("/evidence/{evidence_id}/links")).json();
    let trees: Vec<&Value> = links["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|link| &link["tree"]["id"])
        .collect();
    assert_eq!(trees, [&first["id"], &second["id"]]);
}

#[test]
fn import_replays_idempotency_key() {
    let server = TestServer::open();
    let key = [("Idempotency-Key", "import-once")];

    let first = server.send("POST", "/trees/import", Some(&minimal_document()), &key);
    let retry = server.send("POST", "/trees/import", Some(&minimal_document()), &key);
    let mut changed = minimal_document();
    changed["tree"]["title"] = json!("Another title");
    let reused = server.send("POST", "/trees/import", Some(&changed), &key);

    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json()["id"], first.json()["id"]);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(tree_count(&server), 1);
}

#[test]
fn import_route_wins_over_tree_ids() {
    let server = TestServer::open();

    let get = server.get("/trees/import");
    let export = server.get("/trees/not-an-id/export");
    let missing = server.get("/trees/tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B/export");

    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(export.status, 400);
    assert_eq!(export.code(), "invalid_id");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.code(), "tree_not_found");
}

#[test]
fn transfer_routes_require_token() {
    let server = TestServer::gated();
    let with_token = [("X-Service-Token", TOKEN)];
    let wrong_token = [("X-Service-Token", "wrong-token-0000000000000000000000")];
    let (tree_id, _) = create_tree(&server, &with_token);
    let export_path = format!("/trees/{tree_id}/export");
    let document = minimal_document();

    let export_without = server.get(&export_path);
    let export_wrong = server.send("GET", &export_path, None, &wrong_token);
    let import_without = server.post("/trees/import", &document);
    let dry_run_without = server.post("/trees/import?dry_run=true", &document);
    let import_wrong = server.send("POST", "/trees/import", Some(&document), &wrong_token);

    for (case, reply) in [
        ("export without token", &export_without),
        ("export with wrong token", &export_wrong),
        ("import without token", &import_without),
        ("dry run without token", &dry_run_without),
        ("import with wrong token", &import_wrong),
    ] {
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
    }
    assert_eq!(tree_count_with(&server, &with_token), 1);

    let exported = server.send("GET", &export_path, None, &with_token);
    let imported = server.send("POST", "/trees/import", Some(&document), &with_token);
    assert_eq!(exported.status, 200, "{}", exported.body);
    assert_eq!(imported.status, 201, "{}", imported.body);
}

fn tree_count_with(server: &TestServer, headers: &[(&str, &str)]) -> usize {
    let reply = server.send("GET", "/trees?limit=200", None, headers);
    assert_eq!(reply.status, 200, "{}", reply.body);

    reply.json()["items"].as_array().expect("items").len()
}
