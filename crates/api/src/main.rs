//! The `ost-linker` binary: reads its configuration from the environment and serves the API.

#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use ost_linker_api::config::{DATABASE_VAR, HELP};
use ost_linker_api::{AppState, Config};
use ost_linker_core::SqliteStore;
use ost_linker_core::generate::{GenerateSpec, generate};
use service_token_gate::ServiceTokenGate;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve(),
        ["gen-token"] => gen_token(),
        ["generate", rest @ ..] => generate_data(rest),
        ["load-sample", rest @ ..] => ost_linker_api::sample::run(rest),
        ["-h" | "--help" | "help"] => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("ost-linker: unknown arguments {args:?}. Run `ost-linker --help` for usage.");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    match try_serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn try_serve() -> Result<(), String> {
    let config = Config::from_env().map_err(|err| format!("invalid configuration: {err}"))?;

    let store = SqliteStore::open(&config.database).map_err(|err| {
        format!(
            "cannot open the database {} (set by {DATABASE_VAR}): {err}",
            config.database.display()
        )
    })?;
    let gate = ServiceTokenGate::new(config.gate);

    let listener = TcpListener::bind(config.bind)
        .map_err(|err| format!("cannot listen on {}: {err}", config.bind))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    log::info!(
        "ost-linker listening on {address} (database {}, service token {})",
        config.database.display(),
        if gate.is_enabled() {
            "required"
        } else {
            "not required"
        }
    );

    let state = AppState {
        store: Arc::new(store),
        gate,
        body_limit: config.max_body_bytes,
        view_cache: Arc::default(),
    };
    let system = actix_web::rt::System::new();
    system
        .block_on(async move { ost_linker_api::run(listener, state)?.await })
        .map_err(|err| format!("the server failed: {err}"))?;

    log::info!("ost-linker stopped");
    Ok(())
}

/// Prints 32 random bytes from the operating system as 64 hex digits: 256 bits of entropy.
fn gen_token() -> ExitCode {
    let mut bytes = [0u8; 32];
    if let Err(err) = getrandom::fill(&mut bytes) {
        eprintln!("ost-linker: the operating system's random source failed: {err}");
        return ExitCode::FAILURE;
    }

    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    println!("{token}");
    ExitCode::SUCCESS
}

/// The `generate --help` text.
const GENERATE_HELP: &str = "\
ost-linker generate: fill a database with generated trees, evidence and links, for benchmarks.

Usage:
  ost-linker generate --database PATH [--nodes N] [--evidence N] [--seed S]

Options:
  --database PATH   SQLite database file, created and migrated when missing. Generated rows
                    are added to the rows already there.
  --nodes N         Number of nodes to write, outcomes included [default: 10000]
  --evidence N      Number of evidence items to write [default: 10000]
  --seed S          Seed of the random choices: the same seed gives the same rows
                    [default: 1]
  -h, --help        Print this help

Stop the service first: the generator holds the database's write lock for each batch of
50,000 rows, and fails when another connection holds it. Nodes are grouped into trees of
varied shape, and about four in five evidence items are linked to one to three opportunities
or solutions. The generator writes no history.
";

/// The command line of one `generate` run.
struct GenerateOptions {
    database: PathBuf,
    spec: GenerateSpec,
}

/// Parses the `generate` arguments; returns `None` when help was requested.
fn parse_generate(args: &[&str]) -> Result<Option<GenerateOptions>, String> {
    let mut database = None;
    let mut spec = GenerateSpec {
        nodes: 10_000,
        evidence: 10_000,
        seed: 1,
    };

    let mut rest = args.iter();
    while let Some(&arg) = rest.next() {
        if matches!(arg, "-h" | "--help") {
            return Ok(None);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        if !matches!(name, "--database" | "--nodes" | "--evidence" | "--seed") {
            return Err(format!("unknown argument `{arg}`"));
        }
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .copied()
                .ok_or_else(|| format!("`{name}` needs a value"))?,
        };
        let number = || {
            value.parse::<u64>().map_err(|_| {
                format!("`{name}` is `{value}`, which is invalid: give a whole number such as 1000")
            })
        };
        match name {
            "--database" => database = Some(PathBuf::from(value)),
            "--nodes" => spec.nodes = number()?,
            "--evidence" => spec.evidence = number()?,
            _ => spec.seed = number()?,
        }
    }

    let database = database.ok_or("`--database PATH` is missing")?;
    Ok(Some(GenerateOptions { database, spec }))
}

/// Runs `generate` and prints what it wrote and how long it took.
fn generate_data(args: &[&str]) -> ExitCode {
    let options = match parse_generate(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{GENERATE_HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!(
                "ost-linker generate: {message}. Run `ost-linker generate --help` for usage."
            );
            return ExitCode::from(2);
        }
    };

    let started = Instant::now();
    match generate(&options.database, options.spec) {
        Ok(report) => {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "generated {} trees, {} nodes, {} evidence items and {} links in {} in {seconds:.1} s",
                report.trees,
                report.nodes,
                report.evidence,
                report.links,
                options.database.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!(
                "ost-linker generate: writing {} failed: {err}",
                options.database.display()
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_arguments_parse() {
        let options = parse_generate(&["--database", "x.db", "--nodes=5", "--seed", "9"])
            .expect("valid")
            .expect("not help");

        assert_eq!(options.database, PathBuf::from("x.db"));
        assert_eq!(options.spec.nodes, 5);
        assert_eq!(options.spec.evidence, 10_000);
        assert_eq!(options.spec.seed, 9);
    }

    #[test]
    fn generate_arguments_rejected() {
        for args in [
            &["--nodes", "5"][..],
            &["--database", "x.db", "--nodes", "many"],
            &["--database", "x.db", "--evidence"],
            &["--database", "x.db", "--size", "3"],
        ] {
            assert!(parse_generate(args).is_err(), "{args:?}");
        }
        assert!(matches!(parse_generate(&["--help"]), Ok(None)));
    }
}
