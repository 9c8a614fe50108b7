//! The API with the gate off: every route works without a token, and bad input gets the
//! documented problem details.

use serde_json::json;

use crate::support::{TestServer, create_node, create_tree};

#[test]
fn health_answers_get_and_head() {
    let server = TestServer::open();

    let get = server.get("/health");
    let head = server.send("HEAD", "/health", None, &[]);

    assert_eq!(get.status, 200);
    assert_eq!(get.json(), json!({ "status": "ok" }));
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
}

#[test]
fn tree_walkthrough_without_token() {
    let server = TestServer::open();

    let (tree_id, root_id) = create_tree(&server, &[]);
    let first = create_node(
        &server,
        &tree_id,
        &root_id,
        "opportunity",
        "Setup takes too long",
        &[],
    );
    let second = create_node(
        &server,
        &tree_id,
        &root_id,
        "opportunity",
        "Value is invisible",
        &[],
    );
    let solution = create_node(
        &server,
        &tree_id,
        &first,
        "solution",
        "Spreadsheet import",
        &[],
    );
    let experiment = create_node(&server, &tree_id, &solution, "experiment", "Fake door", &[]);

    let nodes = server.get(&format!("/trees/{tree_id}/nodes"));
    assert_eq!(nodes.status, 200);
    let order: Vec<String> = nodes.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|node| node["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        order,
        [&root_id, &first, &solution, &experiment, &second].map(String::clone)
    );

    let tree = server.get(&format!("/trees/{tree_id}"));
    assert_eq!(tree.status, 200);
    assert_eq!(tree.json()["root_node_id"], json!(root_id));

    let node = server.get(&format!("/nodes/{solution}")).json();
    assert_eq!(node["kind"], "solution");
    assert_eq!(node["parent_id"], json!(first));
    assert_eq!(node["tree_id"], json!(tree_id));
}

#[test]
fn created_tree_has_location_and_fields() {
    let server = TestServer::open();

    let reply = server.post(
        "/trees",
        &json!({ "title": "  Trial retention ", "description": "Q2", "outcome": { "title": "Raise retention" } }),
    );

    assert_eq!(reply.status, 201);
    let body = reply.json();
    let id = body["id"].as_str().expect("id");
    assert!(id.starts_with("tree_"), "{id}");
    assert_eq!(
        reply.header("location"),
        Some(format!("/trees/{id}").as_str())
    );
    assert_eq!(body["title"], "Trial retention");
    assert_eq!(body["description"], "Q2");
    assert_eq!(body["root"]["kind"], "outcome");
    assert_eq!(body["root"]["parent_id"], json!(null));
    assert!(
        body["root"]["id"]
            .as_str()
            .expect("root id")
            .starts_with("node_")
    );
    assert!(
        body["created_at"]
            .as_str()
            .expect("created_at")
            .ends_with('Z')
    );
}

#[test]
fn patch_and_delete_tree_and_nodes() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let opportunity = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &[]);
    let solution = create_node(&server, &tree_id, &opportunity, "solution", "Idea", &[]);

    let renamed = server.send(
        "PATCH",
        &format!("/trees/{tree_id}"),
        Some(&json!({ "title": "Renamed" })),
        &[],
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.json()["title"], "Renamed");

    let node = server.send(
        "PATCH",
        &format!("/nodes/{solution}"),
        Some(&json!({ "description": "Paste rows" })),
        &[],
    );
    assert_eq!(node.status, 200, "{}", node.body);
    assert_eq!(node.json()["description"], "Paste rows");

    let refused = server.send("DELETE", &format!("/nodes/{opportunity}"), None, &[]);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.code(), "node_has_children");

    let cascaded = server.send(
        "DELETE",
        &format!("/nodes/{opportunity}?cascade=true"),
        None,
        &[],
    );
    assert_eq!(cascaded.status, 204);
    assert_eq!(server.get(&format!("/nodes/{solution}")).status, 404);

    let deleted = server.send("DELETE", &format!("/trees/{tree_id}"), None, &[]);
    assert_eq!(deleted.status, 204);
    assert_eq!(
        server.get(&format!("/trees/{tree_id}")).code(),
        "tree_not_found"
    );
    assert_eq!(
        server.get(&format!("/nodes/{root_id}")).code(),
        "node_not_found"
    );
}

#[test]
fn tree_listing_pages_through_all() {
    let server = TestServer::open();
    let created: Vec<String> = (0..5).map(|_| create_tree(&server, &[]).0).collect();

    let mut seen = Vec::new();
    let mut path = "/trees?limit=2".to_owned();
    for _ in 0..10 {
        let page = server.get(&path).json();
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|tree| tree["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/trees?limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(seen, created);
}

/// (case, method, path, body as raw text or None, content type, status, code, field)
type BadInput<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    u16,
    &'a str,
    Option<&'a str>,
);

#[test]
fn bad_input_gets_problem_details() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let nodes = format!("/trees/{tree_id}/nodes");
    let tree_path_with_query = format!("/trees/{tree_id}?x=1");

    let cases: &[BadInput] = &[
        (
            "malformed JSON",
            "POST",
            "/trees",
            Some(r#"{"title": "#),
            "application/json",
            400,
            "invalid_json",
            None,
        ),
        (
            "unknown field",
            "POST",
            "/trees",
            Some(r#"{"title":"t","titel":"x","outcome":{"title":"o"}}"#),
            "application/json",
            400,
            "unknown_field",
            Some("/titel"),
        ),
        (
            "missing field",
            "POST",
            "/trees",
            Some(r#"{"title":"t"}"#),
            "application/json",
            422,
            "missing_field",
            Some("/outcome"),
        ),
        (
            "blank title",
            "POST",
            "/trees",
            Some(r#"{"title":" ","outcome":{"title":"o"}}"#),
            "application/json",
            422,
            "empty_value",
            Some("/title"),
        ),
        (
            "wrong content type",
            "POST",
            "/trees",
            Some(r#"{"title":"t","outcome":{"title":"o"}}"#),
            "text/plain",
            415,
            "unsupported_media_type",
            None,
        ),
        (
            "wrong parent kind",
            "POST",
            &nodes,
            Some(&format!(
                r#"{{"parent_id":"{root_id}","kind":"experiment","title":"x"}}"#
            )),
            "application/json",
            422,
            "invalid_parent_kind",
            Some("/parent_id"),
        ),
        (
            "unknown kind",
            "POST",
            &nodes,
            Some(&format!(
                r#"{{"parent_id":"{root_id}","kind":"idea","title":"x"}}"#
            )),
            "application/json",
            422,
            "invalid_value",
            Some("/kind"),
        ),
        (
            "tree id as parent",
            "POST",
            &nodes,
            Some(&format!(
                r#"{{"parent_id":"{tree_id}","kind":"opportunity","title":"x"}}"#
            )),
            "application/json",
            422,
            "invalid_value",
            Some("/parent_id"),
        ),
        (
            "empty patch",
            "PATCH",
            &format!("/trees/{tree_id}"),
            Some("{}"),
            "application/json",
            422,
            "empty_patch",
            None,
        ),
        (
            "malformed path id",
            "GET",
            "/trees/abc",
            None,
            "",
            400,
            "invalid_id",
            None,
        ),
        (
            "missing tree",
            "GET",
            "/trees/tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B",
            None,
            "",
            404,
            "tree_not_found",
            None,
        ),
        (
            "unknown route",
            "GET",
            "/nope",
            None,
            "",
            404,
            "route_not_found",
            None,
        ),
        (
            "wrong method",
            "PUT",
            "/trees",
            None,
            "",
            405,
            "method_not_allowed",
            None,
        ),
        (
            "limit out of range",
            "GET",
            "/trees?limit=500",
            None,
            "",
            400,
            "invalid_query",
            None,
        ),
        (
            "unknown query parameter",
            "GET",
            "/trees?limt=5",
            None,
            "",
            400,
            "invalid_query",
            None,
        ),
        (
            "query on a route without parameters",
            "GET",
            &tree_path_with_query,
            None,
            "",
            400,
            "invalid_query",
            None,
        ),
        (
            "root delete",
            "DELETE",
            &format!("/nodes/{root_id}"),
            None,
            "",
            422,
            "root_node_delete",
            None,
        ),
    ];
    for (case, method, path, body, content_type, status, code, field) in cases {
        let reply = match body {
            Some(body) => server.send_text(method, path, content_type, body),
            None => server.send(method, path, None, &[]),
        };

        assert_eq!(reply.status, *status, "{case}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        let problem = reply.json();
        assert_eq!(problem["code"], *code, "{case}");
        assert_eq!(problem["status"], *status, "{case}");
        assert_eq!(problem["type"], "about:blank", "{case}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.len() > 20),
            "{case}"
        );
        assert_eq!(problem["field"].as_str(), *field, "{case}");
    }
}

#[test]
fn wrong_method_lists_allowed_methods() {
    let server = TestServer::open();

    let reply = server.send("PUT", "/trees", None, &[]);

    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
}

#[test]
fn oversized_body_is_rejected() {
    let server = TestServer::open();
    let huge = "x".repeat(1024 * 1024 + 1);

    let reply = server.post(
        "/trees",
        &json!({ "title": huge, "outcome": { "title": "o" } }),
    );

    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.code(), "payload_too_large");
    assert_eq!(server.get("/trees").json()["items"], json!([]));
}
