//! Moves, experiment fields, versions, idempotent retries and history through the real
//! binary.

use serde_json::{Value, json};

use crate::support::{TestServer, create_node, create_tree};

fn positions(server: &TestServer, tree_id: &str) -> Vec<(String, Option<String>, u64)> {
    server.get(&format!("/trees/{tree_id}/nodes")).json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|node| {
            (
                node["title"].as_str().expect("title").to_owned(),
                node["parent_id"].as_str().map(str::to_owned),
                node["position"].as_u64().expect("position"),
            )
        })
        .collect()
}

#[test]
fn node_moves_with_subtree() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let first = create_node(&server, &tree_id, &root_id, "opportunity", "first", &[]);
    let second = create_node(&server, &tree_id, &root_id, "opportunity", "second", &[]);
    let solution = create_node(&server, &tree_id, &first, "solution", "solution", &[]);
    create_node(
        &server,
        &tree_id,
        &solution,
        "experiment",
        "experiment",
        &[],
    );

    let moved = server.send(
        "PATCH",
        &format!("/nodes/{solution}"),
        Some(&json!({ "parent_id": second })),
        &[],
    );
    let cycle = server.send(
        "PATCH",
        &format!("/nodes/{first}"),
        Some(&json!({ "parent_id": first })),
        &[],
    );
    let reorder = server.send(
        "PATCH",
        &format!("/nodes/{second}"),
        Some(&json!({ "position": 0 })),
        &[],
    );
    let too_far = server.send(
        "PATCH",
        &format!("/nodes/{second}"),
        Some(&json!({ "position": 5 })),
        &[],
    );

    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(cycle.code(), "node_cycle");
    assert_eq!(reorder.status, 200, "{}", reorder.body);
    assert_eq!(too_far.code(), "invalid_position");
    assert_eq!(
        positions(&server, &tree_id),
        [
            (
                "Raise 90-day trial retention from 18% to 26%".to_owned(),
                None,
                0
            ),
            ("second".to_owned(), Some(root_id.clone()), 0),
            ("solution".to_owned(), Some(second.clone()), 0),
            ("experiment".to_owned(), Some(solution.clone()), 0),
            ("first".to_owned(), Some(root_id.clone()), 1),
        ]
    );
}

#[test]
fn experiment_fields_only_on_experiments() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let opportunity = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &[]);
    let solution = create_node(&server, &tree_id, &opportunity, "solution", "Idea", &[]);
    let experiment = create_node(&server, &tree_id, &solution, "experiment", "Fake door", &[]);

    let created = server.get(&format!("/nodes/{experiment}")).json();
    let finished = server.send(
        "PATCH",
        &format!("/nodes/{experiment}"),
        Some(&json!({ "status": "succeeded", "result": "41% clicked" })),
        &[],
    );
    let refused = server.send(
        "PATCH",
        &format!("/nodes/{solution}"),
        Some(&json!({ "status": "running" })),
        &[],
    );

    assert_eq!(created["status"], "planned");
    assert_eq!(created.get("result"), Some(&Value::Null));
    let solution_json = server.get(&format!("/nodes/{solution}")).json();
    assert_eq!(solution_json.get("status"), None);
    assert_eq!(solution_json.get("result"), None);
    assert_eq!(finished.json()["status"], "succeeded");
    assert_eq!(finished.json()["result"], "41% clicked");
    assert_eq!(refused.status, 422);
    assert_eq!(refused.code(), "experiment_field_not_allowed");
    assert_eq!(refused.json()["field"], "/status");
}

#[test]
fn stale_if_match_changes_nothing() {
    let server = TestServer::open();
    let (tree_id, _) = create_tree(&server, &[]);
    let path = format!("/trees/{tree_id}");
    let etag = server.get(&path).header("etag").expect("etag").to_owned();

    let first = server.send(
        "PATCH",
        &path,
        Some(&json!({ "title": "First" })),
        &[("If-Match", &etag)],
    );
    let stale = server.send(
        "PATCH",
        &path,
        Some(&json!({ "title": "Second" })),
        &[("If-Match", &etag)],
    );
    let stale_delete = server.send("DELETE", &path, None, &[("If-Match", &etag)]);
    let malformed = server.send(
        "PATCH",
        &path,
        Some(&json!({ "title": "Third" })),
        &[("If-Match", "v1")],
    );

    assert_eq!(etag, "\"1\"");
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("etag"), Some("\"2\""));
    assert_eq!(stale.status, 412);
    assert_eq!(stale.code(), "version_mismatch");
    assert_eq!(stale_delete.status, 412);
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.code(), "invalid_header");
    assert_eq!(server.get(&path).json()["title"], "First");
}

#[test]
fn idempotent_retry_replays_first_response() {
    let server = TestServer::open();
    let body = json!({ "title": "Trial retention", "outcome": { "title": "Raise retention" } });
    let key = [("Idempotency-Key", "8a1c7d2e-retry")];

    let first = server.send("POST", "/trees", Some(&body), &key);
    let retry = server.send("POST", "/trees", Some(&body), &key);
    let reused = server.send(
        "POST",
        "/trees",
        Some(&json!({ "title": "Other", "outcome": { "title": "O" } })),
        &key,
    );

    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(reused.status, 422);
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(
        server.get("/trees").json()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn idempotency_key_survives_restart() {
    let server = TestServer::open();
    let body = json!({ "kind": "document", "title": "Synthesis" });
    let key = [("Idempotency-Key", "restart-key")];
    let first = server.send("POST", "/evidence", Some(&body), &key);
    let database = server.database().to_owned();
    let dir_guard = server;

    let restarted = crate::support::ServerOptions::default()
        .database(&database)
        .start();
    let retry = restarted.send("POST", "/evidence", Some(&body), &key);

    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    assert_eq!(
        restarted.get("/evidence").json()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    drop(dir_guard);
}

#[test]
fn history_records_changes_with_actor() {
    let server = TestServer::open();
    let actor = [("X-Actor", "Ana Ruiz")];
    let (tree_id, root_id) = create_tree(&server, &actor);
    let node = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &actor);
    server.send(
        "PATCH",
        &format!("/nodes/{node}"),
        Some(&json!({ "title": "Clearer need" })),
        &actor,
    );
    server.send("DELETE", &format!("/nodes/{node}"), None, &[]);

    let history = server.get(&format!("/trees/{tree_id}/history")).json();
    let entries = history["items"].as_array().expect("items");
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().expect("action"),
                entry["entity_type"].as_str().expect("type"),
            )
        })
        .collect();

    assert_eq!(
        actions,
        [
            ("delete", "node"),
            ("update", "node"),
            ("create", "node"),
            ("create", "node"),
            ("create", "tree")
        ]
    );
    assert_eq!(entries[1]["actor"], "Ana Ruiz");
    assert_eq!(entries[1]["before"], json!({ "title": "Need" }));
    assert_eq!(entries[1]["after"], json!({ "title": "Clearer need" }));
    assert_eq!(entries[0]["actor"], Value::Null);

    let page = server
        .get(&format!("/trees/{tree_id}/history?limit=2"))
        .json();
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let next = server
        .get(&format!("/trees/{tree_id}/history?limit=2&cursor={cursor}"))
        .json();
    assert_eq!(next["items"][0]["seq"], entries[2]["seq"]);
}
