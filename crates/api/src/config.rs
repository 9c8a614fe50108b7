//! Configuration of the `ost-linker` binary, read once from the environment at start-up.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use derive_more::{Display, Error};
use service_token_gate::{ConfigError as GateConfigError, GateConfig};

/// The variable that contains the address to listen on.
pub const BIND_VAR: &str = "OST_LINKER_BIND";
/// The variable that contains the SQLite database path.
pub const DATABASE_VAR: &str = "OST_LINKER_DATABASE";
/// The variable that contains the service token(s); `<VAR>_FILE` names a file instead.
pub const TOKEN_VAR: &str = "OST_LINKER_SERVICE_TOKEN";
/// The variable that contains the maximum request body size in bytes.
pub const MAX_BODY_VAR: &str = "OST_LINKER_MAX_BODY_BYTES";

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE: &str = "ost-linker.db";
const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The settings of one run of the service.
#[derive(Debug)]
pub struct Config {
    /// Address to listen on, from `OST_LINKER_BIND`; default `127.0.0.1:8080`. Port 0 picks a
    /// free port, which the start-up log line reports.
    pub bind: SocketAddr,
    /// SQLite database file, from `OST_LINKER_DATABASE`; default `ost-linker.db` in the working
    /// directory, created on first start.
    pub database: PathBuf,
    /// The service-token gate, from `OST_LINKER_SERVICE_TOKEN` or
    /// `OST_LINKER_SERVICE_TOKEN_FILE`; disabled when neither is set.
    pub gate: GateConfig,
    /// Maximum request body size in bytes, from `OST_LINKER_MAX_BODY_BYTES`; default 1 MiB.
    pub max_body_bytes: usize,
}

/// A configuration value that stops the service from starting.
#[derive(Debug, Display, Error)]
pub enum ConfigError {
    /// A variable holds a value that can't be used.
    #[display("{variable} is `{value}`, which is invalid: {fix}")]
    Invalid {
        /// The variable's name.
        variable: &'static str,
        /// The value as set.
        value: String,
        /// The form the variable expects.
        fix: &'static str,
    },
    /// The service-token variables are invalid.
    #[display("{_0}")]
    Gate(GateConfigError),
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError`] naming the first variable with an invalid value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the configuration through `lookup`, which returns a variable's value by name.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError`] naming the first variable with an invalid value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, ConfigError> {
        let bind = match text(&lookup, BIND_VAR)? {
            None => DEFAULT_BIND
                .parse()
                .map_err(|_| unreachable_default(BIND_VAR))?,
            Some(value) => value.parse().map_err(|_| ConfigError::Invalid {
                variable: BIND_VAR,
                value,
                fix: "give an IP address and port, such as 127.0.0.1:8080 or [::1]:8080",
            })?,
        };

        let database = match lookup(DATABASE_VAR) {
            Some(value) if value.is_empty() => {
                return Err(ConfigError::Invalid {
                    variable: DATABASE_VAR,
                    value: String::new(),
                    fix: "give a file path, or unset it to use ost-linker.db",
                });
            }
            Some(value) => PathBuf::from(value),
            None => PathBuf::from(DEFAULT_DATABASE),
        };

        let max_body_bytes = match text(&lookup, MAX_BODY_VAR)? {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(value) => match value.parse::<usize>() {
                Ok(bytes) if bytes > 0 => bytes,
                _ => {
                    return Err(ConfigError::Invalid {
                        variable: MAX_BODY_VAR,
                        value,
                        fix: "give a whole number of bytes greater than 0, such as 1048576",
                    });
                }
            },
        };

        let gate = GateConfig::from_lookup(TOKEN_VAR, &lookup).map_err(ConfigError::Gate)?;

        Ok(Self {
            bind,
            database,
            gate,
            max_body_bytes,
        })
    }
}

/// Returns a variable's value as UTF-8 text, or `None` when it is unset.
fn text(
    lookup: &impl Fn(&str) -> Option<OsString>,
    variable: &'static str,
) -> Result<Option<String>, ConfigError> {
    match lookup(variable) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(Some)
            .map_err(|value| ConfigError::Invalid {
                variable,
                value: value.to_string_lossy().into_owned(),
                fix: "use only UTF-8 text",
            }),
    }
}

fn unreachable_default(variable: &'static str) -> ConfigError {
    ConfigError::Invalid {
        variable,
        value: DEFAULT_BIND.to_owned(),
        fix: "the built-in default failed to parse",
    }
}

/// The `--help` text: what the binary does, its commands and every variable it reads.
pub const HELP: &str = "\
ost-linker: stores Opportunity Solution Trees and serves them over a REST API.

Usage:
  ost-linker             Run the service
  ost-linker gen-token   Print a new random service token (256 bits, hex)
  ost-linker load-sample FILE [--url URL]
                         Import a sample data file into a running service
                         (see `ost-linker load-sample --help`)
  ost-linker generate --database PATH [--nodes N] [--evidence N] [--seed S]
                         Fill a database with generated test data, for benchmarks
                         (see `ost-linker generate --help`)
  ost-linker --help      Print this help

Environment:
  OST_LINKER_BIND                 Address to listen on [default: 127.0.0.1:8080]
                                  Port 0 picks a free port; the log reports it.
  OST_LINKER_DATABASE             SQLite database file, created on first start
                                  [default: ost-linker.db]
  OST_LINKER_SERVICE_TOKEN        Service token(s), comma-separated. When set, every route
                                  but GET/HEAD /health requires the X-Service-Token header.
                                  Unset: the API is open.
  OST_LINKER_SERVICE_TOKEN_FILE   File with one token per line, instead of the above
  OST_LINKER_MAX_BODY_BYTES       Maximum request body size in bytes [default: 1048576]
  RUST_LOG                        Log filter [default: info]
  TMPDIR                          Directory of the temporary file of each export being sent,
                                  which needs room for the largest export [default: /tmp]
";

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_unset() {
        let config = from(&[]).expect("defaults");

        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database, PathBuf::from("ost-linker.db"));
        assert_eq!(config.max_body_bytes, 1_048_576);
        assert!(!config.gate.is_enabled());
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let cases = [
            (BIND_VAR, "localhost"),
            (BIND_VAR, "127.0.0.1"),
            (DATABASE_VAR, ""),
            (MAX_BODY_VAR, "0"),
            (MAX_BODY_VAR, "1MB"),
            (TOKEN_VAR, " , "),
        ];
        for (variable, value) in cases {
            let err = from(&[(variable, value)]).expect_err("accepted");

            assert!(
                err.to_string().contains(variable),
                "{variable}={value:?}: {err}"
            );
        }
    }

    #[test]
    fn token_enables_gate() {
        let config =
            from(&[(TOKEN_VAR, "a-token-that-is-long-enough-0123456789")]).expect("config");

        assert!(config.gate.is_enabled());
    }
}
