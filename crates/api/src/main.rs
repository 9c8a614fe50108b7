//! The `ost-linker` binary: reads its configuration from the environment and serves the API.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use ost_linker_api::config::{DATABASE_VAR, HELP};
use ost_linker_api::{AppState, Config};
use ost_linker_core::SqliteStore;
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
