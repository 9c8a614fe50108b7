//! `ost-linker load-sample`: converts a sample data file to a tree document and imports it
//! into a running service.
//!
//! The sample layout is the one `samples/README.md` documents: `outcome`, `nodes` naming
//! their parent by `parent_key`, `evidence` with a `key`, and `links` from a `node_key` to an
//! `evidence_key`. [`to_document`] turns it into the document `POST /trees/import` takes.

mod layout;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use ost_linker_core::TreeDocument;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use self::layout::{file_pointer, to_document};
use crate::config::TOKEN_VAR;
use crate::write::{IDEMPOTENCY_HEADER, REPLAYED_HEADER};

/// The service URL used without `--url`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Starts every idempotency key the loader derives. The version changes when the conversion
/// does, so a file converted differently is a new request rather than a reused key.
const KEY_PREFIX: &str = "load-sample-v1-";

/// How long the whole request may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The `load-sample --help` text.
pub const HELP: &str = "\
ost-linker load-sample: load a sample data file into a running ost-linker service.

Usage:
  ost-linker load-sample FILE [--url URL]

FILE has the layout of samples/README.md: `outcome`, `nodes` with `parent_key`, `evidence`
with `key`, and `links` with `node_key` and `evidence_key`. The command converts it to a tree
document and sends it to POST URL/trees/import, which creates a new tree, titled with the
outcome's title, in one transaction. Evidence whose source system and external id the
service already stores is reused, not duplicated.

The request's Idempotency-Key is derived from the SHA-256 of FILE, so running the command
again with the same file replays the first response instead of creating a second tree. The
service keeps that response even after the tree is deleted: to load the same data again, change
the file.

Options:
  --url URL    Base URL of the service, plain http [default: http://127.0.0.1:8080]
  -h, --help   Print this help

Environment:
  OST_LINKER_SERVICE_TOKEN   Sent as the X-Service-Token header when set; of a
                             comma-separated list, the first token is sent.

Exit status: 0 when the tree is loaded or replayed, 1 when the file or the request fails,
2 for invalid arguments.
";

/// Runs `load-sample` with the arguments after the subcommand's name.
pub fn run(args: &[&str]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!(
                "ost-linker load-sample: {message}. Run `ost-linker load-sample --help` for usage."
            );
            return ExitCode::from(2);
        }
    };

    match load(&options) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("ost-linker load-sample: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    file: String,
    url: String,
}

impl Options {
    /// Parses `FILE [--url URL]`; returns `None` when help was requested.
    fn parse(args: &[&str]) -> Result<Option<Self>, String> {
        let mut file = None;
        let mut url = DEFAULT_URL.to_owned();
        let mut rest = args.iter();
        while let Some(&arg) = rest.next() {
            match arg {
                "-h" | "--help" => return Ok(None),
                "--url" => {
                    let value = rest
                        .next()
                        .ok_or("`--url` needs a value, such as --url http://127.0.0.1:8080")?;
                    url = (*value).to_owned();
                }
                _ if arg.starts_with("--url=") => url = arg["--url=".len()..].to_owned(),
                _ if arg.starts_with('-') && arg.len() > 1 => {
                    return Err(format!("unknown option `{arg}`"));
                }
                _ if file.is_some() => {
                    return Err(format!("unexpected argument `{arg}`: give one FILE"));
                }
                _ => file = Some(arg.to_owned()),
            }
        }

        let file = file
            .ok_or("FILE is missing: name a sample file, such as samples/trial-retention.json")?;
        Ok(Some(Self {
            file,
            url: check_url(&url)?,
        }))
    }
}

/// Checks a base URL and removes trailing slashes.
fn check_url(url: &str) -> Result<String, String> {
    if url.starts_with("https://") {
        return Err(format!(
            "`{url}` uses https, which this build does not support: use an http:// URL"
        ));
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "`{url}` is not an http URL: give one such as http://127.0.0.1:8080"
        ));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!(
            "`{url}` has no host: give one such as http://127.0.0.1:8080"
        ));
    }

    Ok(url.trim_end_matches('/').to_owned())
}

/// Reads, converts and sends the file; returns the summary to print.
fn load(options: &Options) -> Result<String, String> {
    let path = &options.file;
    let bytes = std::fs::read(path).map_err(|err| format!("cannot read {path}: {err}"))?;
    let document = to_document(&bytes).map_err(|err| format!("{path}: {err}"))?;

    let key = idempotency_key(&bytes);
    let reply = send(&options.url, &key, &document)?;
    if !(200..300).contains(&reply.status) {
        return Err(rejection(path, &reply));
    }

    summary(path, &options.url, &reply)
}

/// Returns the idempotency key for a file: [`KEY_PREFIX`] and the file's SHA-256 in hex.
pub fn idempotency_key(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{KEY_PREFIX}{hex}")
}

/// A response, read whole.
struct Reply {
    status: u16,
    replayed: bool,
    body: String,
}

/// Sends the document to `POST /trees/import`.
fn send(url: &str, key: &str, document: &TreeDocument) -> Result<Reply, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        // The service is reached directly; a proxy from the environment is not used.
        .proxy(None)
        .build()
        .into();

    let endpoint = format!("{url}/trees/import");
    let mut request = agent
        .post(&endpoint)
        .header(IDEMPOTENCY_HEADER, key)
        .content_type("application/json");
    if let Some(token) = service_token() {
        request = request.header("X-Service-Token", token);
    }

    let body = serde_json::to_string(document).map_err(|err| err.to_string())?;
    let mut response = request.send(body).map_err(|err| {
        format!("POST {endpoint} failed: {err}. Check that the service runs there, or pass --url")
    })?;

    Ok(Reply {
        status: response.status().as_u16(),
        replayed: response.headers().contains_key(REPLAYED_HEADER),
        body: response
            .body_mut()
            .read_to_string()
            .map_err(|err| format!("reading the response of POST {endpoint} failed: {err}"))?,
    })
}

/// Returns the token to send: the first of the comma-separated tokens in the environment.
fn service_token() -> Option<String> {
    let value = std::env::var(TOKEN_VAR).ok()?;
    value
        .split(',')
        .map(str::trim)
        .find(|token| !token.is_empty())
        .map(str::to_owned)
}

/// Describes a rejected import: the problem detail, and each document problem at its pointer
/// into the file.
fn rejection(path: &str, reply: &Reply) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(&reply.body) else {
        return format!(
            "the service returned {} with a body that is not problem details: {}",
            reply.status, reply.body
        );
    };

    let mut message = format!(
        "the service returned {} {}: {}",
        reply.status,
        problem["code"].as_str().unwrap_or("(no code)"),
        problem["detail"].as_str().unwrap_or("(no detail)")
    );
    for item in problem["problems"].as_array().into_iter().flatten() {
        let document_pointer = item["pointer"].as_str().unwrap_or_default();
        let pointer = file_pointer(document_pointer);
        let detail = item["detail"]
            .as_str()
            .unwrap_or_default()
            .replace(&format!("`{document_pointer}`"), &format!("`{pointer}`"));
        let code = item["code"].as_str().unwrap_or_default();
        let _ = write!(message, "\n  {path}: {pointer}: {detail} ({code})");
    }

    message
}

/// The members of an import's response that the summary shows.
#[derive(Debug, Deserialize)]
struct Imported {
    id: String,
    title: String,
    nodes_created: u64,
    evidence_created: u64,
    evidence_reused: u64,
    links_created: u64,
}

fn summary(path: &str, url: &str, reply: &Reply) -> Result<String, String> {
    let imported: Imported = serde_json::from_str(&reply.body).map_err(|err| {
        format!(
            "the service returned {} with an unexpected body ({err}): {}",
            reply.status, reply.body
        )
    })?;

    let id = &imported.id;
    let mut summary = format!("Loaded {path} as tree {id}: {}\n", imported.title);
    let _ = writeln!(summary, "  nodes:    {} created", imported.nodes_created);
    let _ = writeln!(
        summary,
        "  evidence: {} created, {} reused",
        imported.evidence_created, imported.evidence_reused
    );
    let _ = writeln!(summary, "  links:    {} created", imported.links_created);
    let _ = writeln!(summary, "  export:   GET {url}/trees/{id}/export");
    if reply.replayed {
        summary.push_str(
            "This file was loaded before, so the service replayed its first response and \
             created nothing.\n",
        );
    }

    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_file_and_url() {
        let parsed = Options::parse(&["a.json", "--url", "http://127.0.0.1:9/"]);
        assert_eq!(
            parsed,
            Ok(Some(Options {
                file: "a.json".into(),
                url: "http://127.0.0.1:9".into()
            }))
        );

        let default = Options::parse(&["a.json"])
            .expect("parse")
            .expect("options");
        assert_eq!(default.url, DEFAULT_URL);
        assert_eq!(Options::parse(&["--help"]), Ok(None));
    }

    #[test]
    fn options_reject_bad_arguments() {
        for args in [
            &[][..],
            &["a.json", "b.json"],
            &["a.json", "--url"],
            &["a.json", "--verbose"],
            &["a.json", "--url", "https://127.0.0.1:8080"],
            &["a.json", "--url=127.0.0.1:8080"],
            &["a.json", "--url", "http://"],
        ] {
            assert!(Options::parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn key_depends_on_bytes_only() {
        let key = idempotency_key(b"{}");

        assert_eq!(key, idempotency_key(b"{}"));
        assert_ne!(key, idempotency_key(b"{ }"));
        assert!(key.starts_with(KEY_PREFIX));
        assert_eq!(key.len(), KEY_PREFIX.len() + 64);
    }
}
