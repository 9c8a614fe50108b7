//! SIGTERM with writes in flight: every acknowledged write is there after a restart.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;

use serde_json::json;

use crate::support::{ServerOptions, TestServer, create_tree};

/// Writers that send node creations until the server stops responding.
const WRITERS: usize = 4;
/// The maximum number of writes one writer sends, so the test ends even if shutdown never comes.
const MAX_WRITES_PER_WRITER: usize = 400;
/// How many writes are acknowledged before SIGTERM is sent.
const WRITES_BEFORE_TERM: usize = 40;

#[test]
fn acknowledged_writes_survive_sigterm() {
    let mut server = TestServer::open();
    let (tree_id, root_id) = create_tree(&server, &[]);
    let address = server.address();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let acknowledged = Arc::clone(&acknowledged);
            let (tree_id, root_id) = (tree_id.clone(), root_id.clone());
            thread::spawn(move || {
                write_until_refused(address, &tree_id, &root_id, writer, &acknowledged)
            })
        })
        .collect();

    while acknowledged.lock().expect("lock").len() < WRITES_BEFORE_TERM {
        thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = server.terminate();
    for writer in writers {
        writer.join().expect("writer thread");
    }

    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        server.log().contains("graceful shutdown"),
        "{}",
        server.log()
    );

    let database = server.database().to_owned();
    let restarted = ServerOptions::default().database(&database).start();
    let stored: HashSet<String> = restarted.get(&format!("/trees/{tree_id}/nodes")).json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|node| node["id"].as_str().expect("id").to_owned())
        .collect();
    let acknowledged = acknowledged.lock().expect("lock");
    assert!(acknowledged.len() >= WRITES_BEFORE_TERM);
    for id in acknowledged.iter() {
        assert!(
            stored.contains(id),
            "acknowledged node {id} is missing after restart"
        );
    }
}

fn write_until_refused(
    address: std::net::SocketAddr,
    tree_id: &str,
    root_id: &str,
    writer: usize,
    acknowledged: &std::sync::Mutex<Vec<String>>,
) {
    let agent = crate::support::agent();
    let url = format!("http://{address}/trees/{tree_id}/nodes");

    for n in 0..MAX_WRITES_PER_WRITER {
        let body = json!({ "parent_id": root_id, "kind": "opportunity", "title": format!("writer {writer} node {n}") });
        let Ok(mut response) = agent.post(&url).send_json(&body) else {
            return;
        };
        if response.status() != 201 {
            return;
        }
        let Ok(created) = response.body_mut().read_json::<serde_json::Value>() else {
            return;
        };
        if let Some(id) = created["id"].as_str() {
            acknowledged.lock().expect("lock").push(id.to_owned());
        }
    }
}
