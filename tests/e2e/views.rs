//! The read-only views through the real binary: `GET /trees/{id}/outline`,
//! `GET /trees/{id}/gaps` and `GET /search`.

use serde_json::{Value, json};

use crate::support::{TOKEN, TestServer, create_node, create_tree};

/// Percent-encodes text for a query string, leaving only unreserved characters as they are.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn create_evidence(server: &TestServer, title: &str, content: &str, tags: &[&str]) -> String {
    let body = json!({
        "kind": "interview_snippet",
        "title": title,
        "content": content,
        "tags": tags,
    });
    let reply = server.post("/evidence", &body);
    assert_eq!(reply.status, 201, "evidence {title}: {}", reply.body);

    reply.json()["id"].as_str().expect("id").to_owned()
}

fn create_link(server: &TestServer, node_id: &str, evidence_id: &str, relation: &str) {
    let body = json!({ "evidence_id": evidence_id, "relation": relation });
    let reply = server.post(&format!("/nodes/{node_id}/links"), &body);
    assert_eq!(reply.status, 201, "link {node_id}: {}", reply.body);
}

fn create_experiment(
    server: &TestServer,
    tree_id: &str,
    solution_id: &str,
    title: &str,
    status: &str,
    result: Option<&str>,
) -> String {
    let body = json!({
        "parent_id": solution_id,
        "kind": "experiment",
        "title": title,
        "status": status,
        "result": result,
    });
    let reply = server.post(&format!("/trees/{tree_id}/nodes"), &body);
    assert_eq!(reply.status, 201, "experiment {title}: {}", reply.body);

    reply.json()["id"].as_str().expect("id").to_owned()
}

/// A tree with evidence: an outcome, two opportunities, a solution and an experiment.
struct Fixture {
    tree_id: String,
    root_id: String,
    setup: String,
    value: String,
    import: String,
    fake_door: String,
}

fn fixture(server: &TestServer) -> Fixture {
    let (tree_id, root_id) = create_tree(server, &[]);
    let setup = create_node(
        server,
        &tree_id,
        &root_id,
        "opportunity",
        "Collecting availability takes all Sunday",
        &[],
    );
    let value = create_node(
        server,
        &tree_id,
        &root_id,
        "opportunity",
        "Value is invisible",
        &[],
    );
    let import = create_node(
        server,
        &tree_id,
        &setup,
        "solution",
        "Availability link for a clinic in Málaga",
        &[],
    );
    let fake_door = create_experiment(
        server,
        &tree_id,
        &import,
        "Fake door",
        "succeeded",
        Some("41% clicked"),
    );

    let spanish = create_evidence(
        server,
        "Clinic manager chases availability in chat",
        "«Les pido la disponibilidad por el grupo del chat y la mitad no contesta.»",
        &["availability", "spanish"],
    );
    let german = create_evidence(
        server,
        "Depot lead types up paper slips",
        "Ich will nicht jeden Sonntag die Verfügbarkeiten von Zetteln abtippen.",
        &["availability", "german"],
    );
    let praise = create_evidence(
        server,
        "Setup went fine",
        "We had the week up in ten minutes.",
        &[],
    );
    create_link(server, &setup, &spanish, "supports");
    create_link(server, &setup, &german, "supports");
    create_link(server, &setup, &praise, "contradicts");
    create_link(server, &fake_door, &spanish, "supports");

    Fixture {
        tree_id,
        root_id,
        setup,
        value,
        import,
        fake_door,
    }
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items}"))
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

// Outline.

#[test]
fn outline_nests_nodes_with_counts() {
    let server = TestServer::open();
    let fixture = fixture(&server);

    let reply = server.get(&format!("/trees/{}/outline", fixture.tree_id));

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "{:?}",
        reply.header("content-type")
    );
    let body = reply.json();
    assert_eq!(body["tree"]["id"], json!(fixture.tree_id));
    assert_eq!(body["tree"]["title"], "Trial retention");
    assert_eq!(body["depth"], 50);
    let root = &body["root"];
    assert_eq!(root["id"], json!(fixture.root_id));
    assert_eq!(root["kind"], "outcome");
    assert_eq!(
        ids(&root["children"]),
        [fixture.setup.as_str(), fixture.value.as_str()]
    );

    let setup = &root["children"][0];
    assert_eq!(setup["supporting"], 2);
    assert_eq!(setup["contradicting"], 1);
    assert_eq!(setup["position"], 0);
    assert!(setup.get("status").is_none(), "{setup}");
    assert!(setup.get("omitted_children").is_none(), "{setup}");

    let experiment = &setup["children"][0]["children"][0];
    assert_eq!(experiment["id"], json!(fixture.fake_door));
    assert_eq!(experiment["status"], "succeeded");
    assert_eq!(experiment["result"], "41% clicked");
    assert_eq!(experiment["supporting"], 1);
    assert_eq!(experiment["children"], json!([]));
}

#[test]
fn outline_markdown_is_compact_text() {
    let server = TestServer::open();
    let fixture = fixture(&server);

    let reply = server.get(&format!(
        "/trees/{}/outline?format=markdown",
        fixture.tree_id
    ));

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    let expected = format!(
        "# Trial retention ({tree})\n\
         - [outcome] Raise 90-day trial retention from 18% to 26% ({root}) +0 -0\n\
         \x20 - [opportunity] Collecting availability takes all Sunday ({setup}) +2 -1\n\
         \x20   - [solution] Availability link for a clinic in Málaga ({import}) +0 -0\n\
         \x20     - [experiment] Fake door ({fake_door}) succeeded +1 -0\n\
         \x20 - [opportunity] Value is invisible ({value}) +0 -0\n",
        tree = fixture.tree_id,
        root = fixture.root_id,
        setup = fixture.setup,
        import = fixture.import,
        fake_door = fixture.fake_door,
        value = fixture.value,
    );
    assert_eq!(reply.body, expected);
}

#[test]
fn outline_cuts_to_node_and_depth() {
    let server = TestServer::open();
    let fixture = fixture(&server);
    let base = format!("/trees/{}/outline", fixture.tree_id);

    let subtree = server.get(&format!("{base}?node={}", fixture.setup)).json();
    let start_only = server
        .get(&format!("{base}?node={}&depth=0", fixture.setup))
        .json();
    let one_level = server.get(&format!("{base}?depth=1&format=json")).json();
    let markdown = server.get(&format!("{base}?depth=1&format=markdown"));

    assert_eq!(subtree["root"]["id"], json!(fixture.setup));
    assert_eq!(ids(&subtree["root"]["children"]), [fixture.import.as_str()]);
    assert_eq!(start_only["depth"], 0);
    assert_eq!(start_only["root"]["children"], json!([]));
    assert_eq!(start_only["root"]["omitted_children"], 1);
    let setup = &one_level["root"]["children"][0];
    assert_eq!(setup["children"], json!([]));
    assert_eq!(setup["omitted_children"], 1);
    assert!(
        markdown.body.contains(" +2 -1 (1 child not shown)\n"),
        "{}",
        markdown.body
    );
}

#[test]
fn outline_rejects_bad_queries() {
    let server = TestServer::open();
    let fixture = fixture(&server);
    let (other_tree, other_root) = create_tree(&server, &[]);
    let base = format!("/trees/{}/outline", fixture.tree_id);
    // (case, path, status, code)
    let cases = [
        (
            "unknown parameter",
            format!("{base}?deep=1"),
            400,
            "invalid_query",
        ),
        (
            "unknown format",
            format!("{base}?format=xml"),
            400,
            "invalid_query",
        ),
        (
            "empty format",
            format!("{base}?format="),
            400,
            "invalid_query",
        ),
        (
            "depth too large",
            format!("{base}?depth=51"),
            400,
            "invalid_query",
        ),
        (
            "negative depth",
            format!("{base}?depth=-1"),
            400,
            "invalid_query",
        ),
        (
            "depth not a number",
            format!("{base}?depth=two"),
            400,
            "invalid_query",
        ),
        (
            "node not an id",
            format!("{base}?node=setup"),
            400,
            "invalid_query",
        ),
        (
            "node of other tree",
            format!("{base}?node={other_root}"),
            404,
            "node_not_in_tree",
        ),
        (
            "missing tree",
            "/trees/tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B/outline".to_owned(),
            404,
            "tree_not_found",
        ),
        (
            "tree id invalid",
            "/trees/x/outline".to_owned(),
            400,
            "invalid_id",
        ),
    ];

    for (case, path, status, code) in cases {
        let reply = server.get(&path);

        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert_eq!(reply.code(), code, "{case}: {}", reply.body);
    }
    assert_eq!(
        server.get(&format!("/trees/{other_tree}/outline")).status,
        200
    );
}

#[test]
fn outline_detail_names_parameter() {
    let server = TestServer::open();
    let (tree_id, _) = create_tree(&server, &[]);

    let format = server.get(&format!("/trees/{tree_id}/outline?format=xml"));
    let depth = server.get(&format!("/trees/{tree_id}/outline?depth=99"));

    let format_detail = format.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let depth_detail = depth.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        format_detail.contains("`format` is `xml`"),
        "{format_detail}"
    );
    assert!(format_detail.contains("`markdown`"), "{format_detail}");
    assert!(depth_detail.contains("`depth` is `99`"), "{depth_detail}");
    assert!(depth_detail.contains("0 to 50"), "{depth_detail}");
}

#[test]
fn view_routes_accept_get_only() {
    let server = TestServer::open();
    let (tree_id, _) = create_tree(&server, &[]);

    for path in [
        format!("/trees/{tree_id}/outline"),
        format!("/trees/{tree_id}/gaps"),
        "/search?q=x".to_owned(),
    ] {
        let reply = server.post(&path, &json!({}));

        assert_eq!(reply.status, 405, "{path}");
        assert_eq!(reply.header("allow"), Some("GET"), "{path}");
    }
}

// Gaps.

#[test]
fn gaps_list_each_rule() {
    let server = TestServer::open();
    let fixture = fixture(&server);
    let contradicted = create_node(
        &server,
        &fixture.tree_id,
        &fixture.root_id,
        "opportunity",
        "Only contradicted",
        &[],
    );
    let doubt = create_evidence(&server, "Nobody asked", "No one mentioned it.", &[]);
    create_link(&server, &contradicted, &doubt, "contradicts");
    let untested = create_node(
        &server,
        &fixture.tree_id,
        &fixture.value,
        "solution",
        "Weekly value e-mail",
        &[],
    );
    let silent = create_experiment(
        &server,
        &fixture.tree_id,
        &fixture.import,
        "Concierge import",
        "failed",
        None,
    );
    create_experiment(
        &server,
        &fixture.tree_id,
        &fixture.import,
        "Still running",
        "running",
        None,
    );

    let reply = server.get(&format!("/trees/{}/gaps", fixture.tree_id));

    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        body.as_object().map(|object| object.len()),
        Some(4),
        "{body}"
    );
    assert_eq!(
        ids(&body["opportunities_without_support"]),
        [fixture.value.as_str()]
    );
    assert_eq!(
        ids(&body["opportunities_only_contradicted"]),
        [contradicted.as_str()]
    );
    assert_eq!(
        ids(&body["solutions_without_experiments"]),
        [untested.as_str()]
    );
    assert_eq!(
        ids(&body["finished_experiments_without_result"]),
        [silent.as_str()]
    );

    let only = &body["opportunities_only_contradicted"][0];
    assert_eq!(only["kind"], "opportunity");
    assert_eq!(only["title"], "Only contradicted");
    assert_eq!(only["supporting"], 0);
    assert_eq!(only["contradicting"], 1);
    assert_eq!(
        body["finished_experiments_without_result"][0]["status"],
        "failed"
    );
}

#[test]
fn gaps_reject_bad_requests() {
    let server = TestServer::open();
    let (tree_id, _) = create_tree(&server, &[]);

    let unknown = server.get(&format!("/trees/{tree_id}/gaps?all=true"));
    let missing = server.get("/trees/tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B/gaps");

    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(unknown.code(), "invalid_query");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.code(), "tree_not_found");
}

// Search.

fn search(server: &TestServer, query: &str) -> Value {
    let reply = server.get(&format!("/search?{query}"));
    assert_eq!(reply.status, 200, "{query}: {}", reply.body);

    reply.json()
}

#[test]
fn search_finds_non_ascii_words() {
    let server = TestServer::open();
    fixture(&server);

    let spanish = search(&server, &format!("q={}", encode("disponibilidad")));
    let german = search(&server, &format!("q={}", encode("Verfügbarkeiten")));
    let folded = search(&server, "q=Malaga");

    assert_eq!(spanish["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        spanish["items"][0]["title"],
        "Clinic manager chases availability in chat"
    );
    assert_eq!(german["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        german["items"][0]["title"],
        "Depot lead types up paper slips"
    );
    assert!(
        german["items"][0]["snippet"]
            .as_str()
            .expect("snippet")
            .contains("**Verfügbarkeiten**"),
        "{german}"
    );
    assert_eq!(folded["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        folded["items"][0]["title"],
        "Availability link for a clinic in Málaga"
    );
}

#[test]
fn search_items_have_documented_fields() {
    let server = TestServer::open();
    let fixture = fixture(&server);

    let body = search(&server, "q=fake%20door");

    assert_eq!(
        body.as_object().map(|object| object.len()),
        Some(2),
        "{body}"
    );
    assert_eq!(body["all_matches_ranked"], true);
    let item = &body["items"][0];
    assert_eq!(item["type"], "node");
    assert_eq!(item["id"], json!(fixture.fake_door));
    assert_eq!(item["kind"], "experiment");
    assert_eq!(item["title"], "Fake door");
    assert_eq!(item["tree_id"], json!(fixture.tree_id));
    assert_eq!(item["snippet"], "**Fake** **door**");
    assert!(item["rank"].as_f64().is_some(), "{item}");

    let evidence = &search(&server, "q=paper")["items"][0];
    assert_eq!(evidence["type"], "evidence");
    assert_eq!(evidence["kind"], "interview_snippet");
    assert!(evidence.get("tree_id").is_none(), "{evidence}");
}

#[test]
fn search_applies_filters() {
    let server = TestServer::open();
    let fixture = fixture(&server);
    let other = fixture_in_new_tree(&server);

    let everything = search(&server, "q=availability&limit=50");
    let nodes = search(&server, "q=availability&type=node");
    let evidence = search(&server, "q=availability&type=evidence");
    let solutions = search(&server, "q=availability&kind=solution");
    let in_tree = search(
        &server,
        &format!("q=availability&tree_id={}", fixture.tree_id),
    );
    let limited = search(&server, "q=availability&limit=1");

    let count = |body: &Value| body["items"].as_array().map_or(0, Vec::len);
    assert_eq!(count(&everything), count(&nodes) + count(&evidence));
    assert!(
        nodes["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|item| item["type"] == "node")
    );
    assert!(
        evidence["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|item| item["type"] == "evidence")
    );
    let mut solution_ids = ids(&solutions["items"]);
    solution_ids.sort();
    let mut expected = [fixture.import.clone(), other.clone()];
    expected.sort();
    assert_eq!(solution_ids, expected);
    let tree_ids = ids(&in_tree["items"]);
    assert!(tree_ids.contains(&fixture.import), "{tree_ids:?}");
    assert!(!tree_ids.contains(&other), "{tree_ids:?}");
    // Evidence linked to the tree's nodes counts as part of it.
    assert!(
        in_tree["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|item| item["type"] == "evidence"),
        "{in_tree}"
    );
    assert_eq!(count(&limited), 1);
}

/// Adds a second tree with one matching solution and returns the solution's id.
fn fixture_in_new_tree(server: &TestServer) -> String {
    let (tree_id, root_id) = create_tree(server, &[]);
    let opportunity = create_node(server, &tree_id, &root_id, "opportunity", "Other need", &[]);
    create_node(
        server,
        &tree_id,
        &opportunity,
        "solution",
        "Availability reminders",
        &[],
    )
}

#[test]
fn search_treats_syntax_as_words() {
    let server = TestServer::open();
    fixture(&server);
    let long = "availability ".repeat(76);
    let queries = [
        "\"",
        "\"\"",
        "AND",
        "OR NOT",
        "NEAR(",
        "NEAR(a b)",
        "*",
        "-",
        "-chat",
        "col:val",
        "title:fake",
        "^fake",
        "(fake",
        "😩",
        "🙂 fake",
        &long,
    ];

    for text in queries {
        let reply = server.get(&format!("/search?q={}", encode(text)));

        assert_eq!(reply.status, 200, "{text:?}: {}", reply.body);
        assert!(reply.json()["items"].is_array(), "{text:?}: {}", reply.body);
    }
}

#[test]
fn search_rejects_bad_queries() {
    let server = TestServer::open();
    let too_long = "a".repeat(1001);
    // (case, query, status, code)
    let cases = [
        ("missing q", String::new(), 400, "invalid_query"),
        ("empty q", "q=".to_owned(), 400, "invalid_search_query"),
        (
            "blank q",
            "q=%20%09%0A".to_owned(),
            400,
            "invalid_search_query",
        ),
        (
            "too long q",
            format!("q={too_long}"),
            400,
            "invalid_search_query",
        ),
        (
            "unknown parameter",
            "q=x&sort=new".to_owned(),
            400,
            "invalid_query",
        ),
        ("limit zero", "q=x&limit=0".to_owned(), 400, "invalid_query"),
        (
            "limit too large",
            "q=x&limit=51".to_owned(),
            400,
            "invalid_query",
        ),
        (
            "unknown type",
            "q=x&type=link".to_owned(),
            400,
            "invalid_query",
        ),
        (
            "unknown kind",
            "q=x&kind=idea".to_owned(),
            400,
            "invalid_query",
        ),
        (
            "kind against type",
            "q=x&type=node&kind=metric".to_owned(),
            400,
            "invalid_query",
        ),
        (
            "tree id invalid",
            "q=x&tree_id=tree_1".to_owned(),
            400,
            "invalid_query",
        ),
        (
            "missing tree",
            "q=x&tree_id=tree_01JEX3Q8W5T0ZK6Y2R9V4N7M3B".to_owned(),
            404,
            "tree_not_found",
        ),
    ];

    for (case, query, status, code) in cases {
        let reply = server.get(&format!("/search?{query}"));

        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        assert_eq!(reply.code(), code, "{case}: {}", reply.body);
    }
}

#[test]
fn search_detail_says_what_to_send() {
    let server = TestServer::open();

    let empty = server.get("/search?q=%20");
    let long = server.get(&format!("/search?q={}", "a".repeat(1001)));

    let empty_detail = empty.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let long_detail = long.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(empty_detail.contains("`q`"), "{empty_detail}");
    assert!(
        empty_detail.contains("send one or more words"),
        "{empty_detail}"
    );
    assert!(long_detail.contains("1001 characters"), "{long_detail}");
    assert!(long_detail.contains("at most 1000"), "{long_detail}");
}

// The gate.

#[test]
fn view_routes_require_token() {
    let server = TestServer::gated();
    let with_token: &[(&str, &str)] = &[("X-Service-Token", TOKEN)];
    let (tree_id, _) = create_tree(&server, with_token);
    let paths = [
        format!("/trees/{tree_id}/outline"),
        format!("/trees/{tree_id}/outline?format=markdown"),
        format!("/trees/{tree_id}/gaps"),
        "/search?q=retention".to_owned(),
    ];

    for path in &paths {
        let missing = server.send("GET", path, None, &[]);
        let allowed = server.send("GET", path, None, with_token);

        assert_eq!(missing.status, 401, "{path}: {}", missing.body);
        assert_eq!(missing.code(), "missing_service_token", "{path}");
        assert_eq!(allowed.status, 200, "{path}: {}", allowed.body);
    }
}
