//! Evidence and links through the real binary.

use serde_json::{Value, json};

use crate::support::{TestServer, create_node, create_tree};

fn ticket(external_id: &str) -> Value {
    json!({
        "kind": "support_ticket",
        "title": "Cannot import staff from a spreadsheet",
        "content": "Subject: Import?\n\nIs there a way to paste our staff list?",
        "source": { "system": "helpdesk", "external_id": external_id, "url": "https://help.example.com/t/1?tab=a&b=c" },
        "occurred_at": "2026-07-03T16:20:00+02:00",
        "customer": { "segment": "smb-hospitality", "account": "Café Lumière" },
        "tags": ["import", "data-entry"]
    })
}

fn create_evidence(server: &TestServer, body: &Value) -> String {
    let reply = server.post("/evidence", body);
    assert_eq!(reply.status, 201, "{}", reply.body);

    reply.json()["id"].as_str().expect("id").to_owned()
}

#[test]
fn evidence_is_stored_normalised() {
    let server = TestServer::open();

    let reply = server.post("/evidence", &ticket("T-1"));

    assert_eq!(reply.status, 201, "{}", reply.body);
    let body = reply.json();
    let id = body["id"].as_str().expect("id");
    assert!(id.starts_with("evid_"), "{id}");
    assert_eq!(
        reply.header("location"),
        Some(format!("/evidence/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(body["occurred_at"], "2026-07-03T14:20:00.000Z");
    assert_eq!(body["tags"], json!(["data-entry", "import"]));
    assert_eq!(body["customer"]["account"], "Café Lumière");
    assert_eq!(server.get(&format!("/evidence/{id}")).json(), body);
}

#[test]
fn duplicate_source_names_existing_item() {
    let server = TestServer::open();
    let first = create_evidence(&server, &ticket("T-7"));

    let reply = server.post("/evidence", &ticket("T-7"));

    assert_eq!(reply.status, 409);
    assert_eq!(reply.code(), "duplicate_source");
    assert_eq!(reply.json()["existing_id"], json!(first));
    assert!(
        reply.json()["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains(&first))
    );
    let page = server.get("/evidence").json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn evidence_rules_reject_bad_fields() {
    let server = TestServer::open();
    let metric = json!({ "name": "trial_d90_retention", "value": 18.4, "unit": "percent", "period": "2026-Q2" });

    // (case, body, status, code, field)
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "metric without object",
            json!({ "kind": "metric", "title": "Retention" }),
            422,
            "metric_required",
            "/metric",
        ),
        (
            "object on other kind",
            json!({ "kind": "document", "title": "Doc", "metric": metric }),
            422,
            "metric_not_allowed",
            "/metric",
        ),
        (
            "uppercase tag",
            json!({ "kind": "document", "title": "Doc", "tags": ["ok", "Billing"] }),
            422,
            "invalid_tag",
            "/tags/1",
        ),
        (
            "repeated tag",
            json!({ "kind": "document", "title": "Doc", "tags": ["a", "a"] }),
            422,
            "duplicate_tag",
            "/tags/1",
        ),
        (
            "bad timestamp",
            json!({ "kind": "document", "title": "Doc", "occurred_at": "yesterday" }),
            422,
            "invalid_timestamp",
            "/occurred_at",
        ),
        (
            "bad url",
            json!({ "kind": "document", "title": "Doc", "source": { "url": "ftp://x" } }),
            422,
            "invalid_url",
            "/source/url",
        ),
        (
            "long content",
            json!({ "kind": "document", "title": "Doc", "content": "x".repeat(50_001) }),
            422,
            "value_too_long",
            "/content",
        ),
        (
            "unknown kind",
            json!({ "kind": "tweet", "title": "Doc" }),
            422,
            "invalid_value",
            "/kind",
        ),
        (
            "unknown source member",
            json!({ "kind": "document", "title": "Doc", "source": { "sytem": "x" } }),
            400,
            "unknown_field",
            "/source/sytem",
        ),
    ];
    for (case, body, status, code, field) in cases {
        let reply = server.post("/evidence", &body);

        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert_eq!(reply.code(), code, "{case}");
        assert_eq!(reply.json()["field"], json!(field), "{case}");
    }
    assert_eq!(server.get("/evidence").json()["items"], json!([]));
}

#[test]
fn evidence_list_filters() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let node = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &[]);
    let linked = create_evidence(&server, &ticket("T-1"));
    let unlinked = create_evidence(
        &server,
        &json!({ "kind": "document", "title": "Synthesis", "tags": ["research"] }),
    );
    let link = server.post(
        &format!("/nodes/{node}/links"),
        &json!({ "evidence_id": linked, "relation": "supports" }),
    );
    assert_eq!(link.status, 201, "{}", link.body);

    let ids = |path: &str| -> Vec<String> {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        reply.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["id"].as_str().expect("id").to_owned())
            .collect()
    };

    assert_eq!(ids("/evidence?linked=false"), [unlinked.as_str()]);
    assert_eq!(ids("/evidence?linked=true"), [linked.as_str()]);
    assert_eq!(ids("/evidence?kind=document"), [unlinked.as_str()]);
    assert_eq!(ids("/evidence?tag=import"), [linked.as_str()]);
    assert_eq!(ids("/evidence?source_system=helpdesk"), [linked.as_str()]);
    assert_eq!(ids("/evidence?limit=1").len(), 1);
    assert_eq!(server.get("/evidence?kind=tweet").code(), "invalid_query");
}

#[test]
fn links_join_nodes_and_evidence() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let node = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &[]);
    let evidence = create_evidence(&server, &ticket("T-1"));
    let links_path = format!("/nodes/{node}/links");

    let created = server.post(&links_path, &json!({ "evidence_id": evidence, "relation": "contradicts", "strength": 3, "note": "Only one account" }));
    let duplicate = server.post(
        &links_path,
        &json!({ "evidence_id": evidence, "relation": "supports" }),
    );
    let weak = server.post(
        &links_path,
        &json!({ "evidence_id": evidence, "relation": "supports", "strength": 9 }),
    );

    assert_eq!(created.status, 201, "{}", created.body);
    let link_id = created.json()["id"].as_str().expect("id").to_owned();
    assert!(link_id.starts_with("link_"));
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.code(), "duplicate_link");
    assert_eq!(duplicate.json()["existing_id"], json!(link_id));
    assert_eq!(weak.code(), "out_of_range");

    let from_node = server.get(&links_path).json();
    assert_eq!(
        from_node["items"][0]["evidence"]["title"],
        "Cannot import staff from a spreadsheet"
    );
    let from_evidence = server.get(&format!("/evidence/{evidence}/links")).json();
    assert_eq!(from_evidence["items"][0]["node"]["id"], json!(node));
    assert_eq!(from_evidence["items"][0]["tree"]["id"], json!(tree_id));

    let patched = server.send(
        "PATCH",
        &format!("/links/{link_id}"),
        Some(&json!({ "relation": "supports", "strength": null })),
        &[],
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.json()["relation"], "supports");
    assert_eq!(patched.json()["strength"], Value::Null);
}

#[test]
fn deletes_keep_evidence_unless_asked() {
    let server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let node = create_node(&server, &tree_id, &root_id, "opportunity", "Need", &[]);
    let evidence = create_evidence(&server, &ticket("T-1"));
    server.post(
        &format!("/nodes/{node}/links"),
        &json!({ "evidence_id": evidence, "relation": "supports" }),
    );

    let refused = server.send("DELETE", &format!("/evidence/{evidence}"), None, &[]);
    assert_eq!(refused.status, 409);
    assert_eq!(refused.code(), "evidence_linked");

    let node_deleted = server.send("DELETE", &format!("/nodes/{node}"), None, &[]);
    assert_eq!(node_deleted.status, 204);
    assert_eq!(server.get(&format!("/evidence/{evidence}")).status, 200);
    assert_eq!(
        server.get(&format!("/evidence/{evidence}/links")).json()["items"],
        json!([])
    );

    let node = create_node(
        &server,
        &tree_id,
        &root_id,
        "opportunity",
        "Need again",
        &[],
    );
    server.post(
        &format!("/nodes/{node}/links"),
        &json!({ "evidence_id": evidence, "relation": "supports" }),
    );
    let cascaded = server.send(
        "DELETE",
        &format!("/evidence/{evidence}?cascade=true"),
        None,
        &[],
    );
    assert_eq!(cascaded.status, 204);
    assert_eq!(
        server.get(&format!("/nodes/{node}/links")).json()["items"],
        json!([])
    );
    assert_eq!(server.get(&format!("/nodes/{node}")).status, 200);
}
