//! The API with the gate on: `/health` stays open, and nothing else responds without the token.

use serde_json::{Value, json};

use crate::support::{TOKEN, TestServer, create_node, create_tree};

const WITH_TOKEN: &[(&str, &str)] = &[("X-Service-Token", TOKEN)];

#[test]
fn health_needs_no_token() {
    let server = TestServer::gated();

    assert_eq!(server.get("/health").status, 200);
    assert_eq!(server.send("HEAD", "/health", None, &[]).status, 200);
}

/// Every route, an unknown path and a wrong method, with the status each gives with the token.
fn guarded_requests(
    tree_id: &str,
    node_id: &str,
    evidence_id: &str,
    link_id: &str,
) -> Vec<(String, String, Option<Value>, u16)> {
    let tree = format!("/trees/{tree_id}");
    let node = format!("/nodes/{node_id}");
    let evidence = format!("/evidence/{evidence_id}");
    let link = format!("/links/{link_id}");
    let new_tree = json!({ "title": "T", "outcome": { "title": "O" } });
    vec![
        (
            "POST".into(),
            "/evidence".into(),
            Some(json!({ "kind": "document", "title": "Doc" })),
            201,
        ),
        ("GET".into(), "/evidence".into(), None, 200),
        ("GET".into(), evidence.clone(), None, 200),
        (
            "PATCH".into(),
            evidence.clone(),
            Some(json!({ "title": "Renamed" })),
            200,
        ),
        ("GET".into(), format!("{evidence}/links"), None, 200),
        ("GET".into(), format!("{node}/links"), None, 200),
        ("GET".into(), link.clone(), None, 200),
        (
            "PATCH".into(),
            link.clone(),
            Some(json!({ "note": "checked" })),
            200,
        ),
        ("DELETE".into(), link, None, 204),
        (
            "POST".into(),
            format!("{node}/links"),
            Some(json!({ "evidence_id": evidence_id, "relation": "supports" })),
            201,
        ),
        ("GET".into(), format!("{tree}/history"), None, 200),
        ("POST".into(), "/trees".into(), Some(new_tree), 201),
        ("GET".into(), "/trees".into(), None, 200),
        ("GET".into(), tree.clone(), None, 200),
        (
            "PATCH".into(),
            tree.clone(),
            Some(json!({ "title": "Renamed" })),
            200,
        ),
        ("GET".into(), format!("{tree}/nodes"), None, 200),
        ("GET".into(), node.clone(), None, 200),
        (
            "PATCH".into(),
            node.clone(),
            Some(json!({ "title": "Renamed" })),
            200,
        ),
        ("POST".into(), "/health".into(), None, 405),
        ("OPTIONS".into(), "/trees".into(), None, 405),
        ("HEAD".into(), "/trees".into(), None, 405),
        ("PUT".into(), tree.clone(), None, 405),
        ("GET".into(), "/no/such/route".into(), None, 404),
        ("DELETE".into(), node, None, 204),
        ("DELETE".into(), evidence, None, 204),
        ("DELETE".into(), tree, None, 204),
    ]
}

#[test]
fn every_route_requires_token() {
    let server = TestServer::gated();
    let (tree_id, root_id) = create_tree(&server, WITH_TOKEN);
    let node_id = create_node(
        &server,
        &tree_id,
        &root_id,
        "opportunity",
        "Need",
        WITH_TOKEN,
    );
    let (evidence_id, link_id) = create_linked_evidence(&server, &node_id);

    for (method, path, body, _) in guarded_requests(&tree_id, &node_id, &evidence_id, &link_id) {
        let missing = server.send(&method, &path, body.as_ref(), &[]);
        let wrong = server.send(
            &method,
            &path,
            body.as_ref(),
            &[("X-Service-Token", "wrong")],
        );

        assert_eq!(missing.status, 401, "{method} {path} without token");
        assert_eq!(wrong.status, 401, "{method} {path} with wrong token");
        assert!(
            missing.header("www-authenticate").is_some(),
            "{method} {path}"
        );
        if method != "HEAD" {
            assert_eq!(missing.code(), "missing_service_token", "{method} {path}");
            assert_eq!(wrong.code(), "invalid_service_token", "{method} {path}");
        }
    }

    // Nothing was written by the rejected requests: still one tree and one evidence item.
    let trees = server.send("GET", "/trees", None, WITH_TOKEN).json();
    assert_eq!(trees["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(trees["items"][0]["title"], "Trial retention");
    let evidence = server.send("GET", "/evidence", None, WITH_TOKEN).json();
    assert_eq!(evidence["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn every_route_works_with_token() {
    let server = TestServer::gated();
    let (tree_id, root_id) = create_tree(&server, WITH_TOKEN);
    let node_id = create_node(
        &server,
        &tree_id,
        &root_id,
        "opportunity",
        "Need",
        WITH_TOKEN,
    );
    let (evidence_id, link_id) = create_linked_evidence(&server, &node_id);

    for (method, path, body, status) in guarded_requests(&tree_id, &node_id, &evidence_id, &link_id)
    {
        let reply = server.send(&method, &path, body.as_ref(), WITH_TOKEN);

        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
    }
}

#[test]
fn path_tricks_never_pass_gate() {
    let server = TestServer::gated();
    let targets = [
        "/health/",
        "//trees",
        "/health/../trees",
        "/health/%2e%2e/trees",
        "/HEALTH",
        "/trees?x=/health",
        "/health;/trees",
    ];

    for target in targets {
        let without = server.raw_status(&raw_get(&server, target, None));
        let with = server.raw_status(&raw_get(&server, target, Some(TOKEN)));

        assert_eq!(without, 401, "{target} without token");
        assert_ne!(with, 401, "{target} with token");
    }
}

#[test]
fn log_never_contains_token() {
    let server = TestServer::gated();
    let (tree_id, _) = create_tree(&server, WITH_TOKEN);
    server.send(
        "GET",
        &format!("/trees/{tree_id}"),
        None,
        &[("X-Service-Token", TOKEN)],
    );
    server.send(
        "GET",
        "/trees",
        None,
        &[("X-Service-Token", &TOKEN[..TOKEN.len() - 1])],
    );

    let log = server.log();

    assert!(log.contains("listening on"), "{log}");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(TOKEN.as_bytes());
    let fingerprint: String = digest[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert!(
        log.contains(&format!("token={fingerprint}")),
        "access log lacks the fingerprint: {log}"
    );
    for length in 8..=TOKEN.len() {
        assert!(
            !log.contains(&TOKEN[..length]),
            "the log holds a {length}-character prefix of the token"
        );
    }
}

/// Creates an evidence item linked to the node, with the token; returns (evidence, link).
fn create_linked_evidence(server: &TestServer, node_id: &str) -> (String, String) {
    let evidence = server.send(
        "POST",
        "/evidence",
        Some(&json!({ "kind": "document", "title": "Synthesis" })),
        WITH_TOKEN,
    );
    let evidence_id = evidence.json()["id"]
        .as_str()
        .expect("evidence id")
        .to_owned();
    let link = server.send(
        "POST",
        &format!("/nodes/{node_id}/links"),
        Some(&json!({ "evidence_id": evidence_id, "relation": "supports" })),
        WITH_TOKEN,
    );
    let link_id = link.json()["id"].as_str().expect("link id").to_owned();

    (evidence_id, link_id)
}

fn raw_get(server: &TestServer, target: &str, token: Option<&str>) -> String {
    let token_line = token
        .map(|token| format!("X-Service-Token: {token}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\n{token_line}Connection: close\r\n\r\n",
        server.address()
    )
}
