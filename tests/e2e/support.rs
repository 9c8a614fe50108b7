//! A real `ost-linker` process on a free loopback port, and an HTTP client for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::http::{Method, Request};

/// How long the binary may take to report its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A token for gated tests; long enough not to trigger the short-token warning.
pub const TOKEN: &str = "e2e-token-VfQ3kLm9Xr7Tz2Pw8Yb4Nc6Hd1Js5Ga0";

/// Options for starting the binary.
#[derive(Default)]
pub struct ServerOptions {
    token: Option<String>,
    database: Option<PathBuf>,
    temp_dir: Option<PathBuf>,
}

impl ServerOptions {
    /// Sets `OST_LINKER_SERVICE_TOKEN`.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Uses this database file instead of a fresh one.
    pub fn database(mut self, path: &Path) -> Self {
        self.database = Some(path.to_owned());
        self
    }

    /// Sets `TMPDIR`, the directory of the files that exports are written to.
    pub fn temp_dir(mut self, path: &Path) -> Self {
        self.temp_dir = Some(path.to_owned());
        self
    }

    /// Starts the binary and waits until it reports its address.
    pub fn start(self) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let database = self
            .database
            .unwrap_or_else(|| dir.path().join("ost-linker.db"));

        let mut command = Command::new(env!("CARGO_BIN_EXE_ost-linker"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OST_LINKER_") {
                command.env_remove(name);
            }
        }
        command
            .env("OST_LINKER_BIND", "127.0.0.1:0")
            .env("OST_LINKER_DATABASE", &database)
            .env("RUST_LOG", "info")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(token) = &self.token {
            command.env("OST_LINKER_SERVICE_TOKEN", token);
        }
        if let Some(temp_dir) = &self.temp_dir {
            command.env("TMPDIR", temp_dir);
        }

        let mut child = command.spawn().expect("start ost-linker");
        let log = Arc::new(Mutex::new(String::new()));
        let address = read_address(&mut child, Arc::clone(&log));

        TestServer {
            child,
            address,
            log,
            database,
            _dir: dir,
            agent: agent(),
        }
    }
}

/// Collects the child's log in the background and returns the address it reports.
fn read_address(child: &mut Child, log: Arc<Mutex<String>>) -> SocketAddr {
    let stderr = child.stderr.take().expect("piped stderr");
    let (sender, receiver) = mpsc::channel();

    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(address);
            }
            let mut log = log.lock().expect("log lock");
            log.push_str(&line);
            log.push('\n');
        }
    });

    let address = match receiver.recv_timeout(STARTUP_TIMEOUT) {
        Ok(address) => address,
        Err(_) => {
            let _ = child.kill();
            panic!("ost-linker did not report its address within {STARTUP_TIMEOUT:?}");
        }
    };
    address.parse().expect("reported address")
}

/// Returns an HTTP client that reports every status as a response and talks to the test
/// server directly, whatever proxy the environment names.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .proxy(None)
        .build()
        .into()
}

/// A running `ost-linker`, killed when dropped.
pub struct TestServer {
    child: Child,
    address: SocketAddr,
    log: Arc<Mutex<String>>,
    database: PathBuf,
    _dir: tempfile::TempDir,
    agent: ureq::Agent,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// Parses the body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }

    /// Returns a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the problem details `code` of an error body.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestServer {
    /// Starts the binary with the gate off and a fresh database.
    pub fn open() -> Self {
        ServerOptions::default().start()
    }

    /// Starts the binary with the gate on, accepting [`TOKEN`].
    pub fn gated() -> Self {
        ServerOptions::default().token(TOKEN).start()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn database(&self) -> &Path {
        &self.database
    }

    /// Returns everything the process has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Returns the log once it contains `text`, or as it is after 10 seconds. The log is read
    /// from a pipe in the background, so a line can arrive after the response it belongs to.
    pub fn log_with(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.contains(text) || Instant::now() >= deadline {
                return log;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a request with optional JSON body and extra headers.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(format!("http://{}{path}", self.address));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }

        let response = match body {
            Some(json) => {
                let request = builder
                    .header("content-type", "application/json")
                    .body(json.to_string())
                    .expect("request");
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).expect("request")),
        };
        let mut response =
            response.unwrap_or_else(|err| panic!("{method} {path} failed to send: {err}"));

        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    /// Sends a body as given, with a chosen content type.
    pub fn send_text(&self, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(format!("http://{}{path}", self.address))
            .header("content-type", content_type)
            .body(body.to_owned())
            .expect("request");

        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|err| panic!("{method} {path} failed to send: {err}"));
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(body), &[])
    }

    /// Sends a raw HTTP/1.1 request and returns the status code from its response.
    pub fn raw_status(&self, request_head: &str) -> u16 {
        let response = String::from_utf8_lossy(&self.raw(request_head)).into_owned();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"))
    }

    /// Sends a raw request and returns every byte of the response, read until the server
    /// closes the connection or 10 seconds pass without data.
    pub fn raw(&self, request_head: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
            .write_all(request_head.as_bytes())
            .expect("write request");

        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        response
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");

        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ost-linker did not exit after SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a tree and returns `(tree_id, root_id)`.
pub fn create_tree(server: &TestServer, headers: &[(&str, &str)]) -> (String, String) {
    let body = serde_json::json!({
        "title": "Trial retention",
        "outcome": { "title": "Raise 90-day trial retention from 18% to 26%" }
    });
    let reply = server.send("POST", "/trees", Some(&body), headers);
    assert_eq!(reply.status, 201, "{}", reply.body);

    let json = reply.json();
    (
        json["id"].as_str().expect("id").to_owned(),
        json["root"]["id"].as_str().expect("root id").to_owned(),
    )
}

/// Adds a node and returns its id.
pub fn create_node(
    server: &TestServer,
    tree_id: &str,
    parent_id: &str,
    kind: &str,
    title: &str,
    headers: &[(&str, &str)],
) -> String {
    let body = serde_json::json!({ "parent_id": parent_id, "kind": kind, "title": title });
    let reply = server.send(
        "POST",
        &format!("/trees/{tree_id}/nodes"),
        Some(&body),
        headers,
    );
    assert_eq!(reply.status, 201, "{kind} {title}: {}", reply.body);

    reply.json()["id"].as_str().expect("id").to_owned()
}
