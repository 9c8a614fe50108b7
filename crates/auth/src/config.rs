//! Gate configuration: where the tokens come from, how they are parsed and what can be wrong.

use std::{error::Error, ffi::OsString, fmt, fs, io, path::PathBuf};

use crate::token::{ServiceToken, TokenFingerprint};

/// Tokens the gate accepts, read once at start-up.
///
/// An empty token list means that the gate is disabled and passes every request through. Build
/// a configuration with [`GateConfig::disabled`], [`GateConfig::with_tokens`],
/// [`GateConfig::from_env`] or [`GateConfig::from_lookup`].
pub struct GateConfig {
    tokens: Vec<ServiceToken>,
    origin: TokenSource,
}

impl GateConfig {
    /// Creates a configuration that disables the gate, so every request passes.
    pub fn disabled() -> Self {
        Self {
            tokens: Vec::new(),
            origin: TokenSource::Explicit,
        }
    }

    /// Creates a configuration that accepts each of `tokens`.
    ///
    /// Each token is trimmed of ASCII whitespace and must then be non-empty and contain only
    /// visible ASCII characters (0x21 to 0x7E) other than the comma.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::NoTokens`] when `tokens` is empty or every token is blank,
    /// [`ConfigError::EmptyEntry`] when some token is blank, and
    /// [`ConfigError::InvalidCharacter`] when a token contains a character outside that set.
    pub fn with_tokens<I>(tokens: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let values: Vec<String> = tokens.into_iter().map(Into::into).collect();
        let origin = TokenSource::Explicit;
        let tokens = parse_entries(values.iter().map(String::as_str), &origin)?;
        Ok(Self { tokens, origin })
    }

    /// Reads the configuration from the environment variable `variable` or from the file that
    /// `<variable>_FILE` names.
    ///
    /// This calls [`GateConfig::from_lookup`] with [`std::env::var_os`]. Call it once at
    /// start-up.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] in the cases that [`GateConfig::from_lookup`] lists.
    pub fn from_env(variable: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(variable, |name| std::env::var_os(name))
    }

    /// Reads the configuration through `lookup`, which returns the value of an environment
    /// variable by name.
    ///
    /// - Neither `variable` nor `<variable>_FILE` is set: the gate is disabled.
    /// - `variable` is set: it contains one or more tokens separated by commas.
    /// - `<variable>_FILE` is set: it names a file with one token per line. A final newline is
    ///   allowed, and a blank line anywhere else is an error.
    ///
    /// Each token is trimmed of ASCII whitespace and must then be non-empty and contain only
    /// visible ASCII characters (0x21 to 0x7E) other than the comma. Several tokens let a
    /// rotation accept the old and the new token at once.
    ///
    /// # Errors
    ///
    /// Every error message names the variable, and the file for `<variable>_FILE`:
    ///
    /// - [`ConfigError::BothSet`] when `variable` and `<variable>_FILE` are both set.
    /// - [`ConfigError::NotUnicode`] when the value or the file is not valid UTF-8.
    /// - [`ConfigError::UnreadableFile`] when the file cannot be read.
    /// - [`ConfigError::NoTokens`] when the value or file is empty or contains only
    ///   whitespace and commas.
    /// - [`ConfigError::EmptyEntry`] for an empty entry between commas or a blank line.
    /// - [`ConfigError::InvalidCharacter`] for a token with a character outside the allowed
    ///   set.
    pub fn from_lookup<F>(variable: &str, mut lookup: F) -> Result<Self, ConfigError>
    where
        F: FnMut(&str) -> Option<OsString>,
    {
        let file_variable = format!("{variable}_FILE");

        match (lookup(variable), lookup(&file_variable)) {
            (None, None) => Ok(Self {
                tokens: Vec::new(),
                origin: TokenSource::Variable {
                    name: variable.to_owned(),
                },
            }),
            (Some(_), Some(_)) => Err(ConfigError::BothSet {
                variable: variable.to_owned(),
                file_variable,
            }),
            (Some(value), None) => Self::from_variable_value(variable, value),
            (None, Some(path)) => Self::from_file(file_variable, PathBuf::from(path)),
        }
    }

    fn from_variable_value(variable: &str, value: OsString) -> Result<Self, ConfigError> {
        let origin = TokenSource::Variable {
            name: variable.to_owned(),
        };
        let Ok(value) = value.into_string() else {
            return Err(ConfigError::NotUnicode { origin });
        };

        let tokens = parse_entries(value.split(','), &origin)?;
        Ok(Self { tokens, origin })
    }

    fn from_file(file_variable: String, path: PathBuf) -> Result<Self, ConfigError> {
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                return Err(ConfigError::UnreadableFile {
                    file_variable,
                    path,
                    error,
                });
            }
        };

        let origin = TokenSource::File {
            variable: file_variable,
            path,
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(ConfigError::NotUnicode { origin });
        };

        // `lines` drops the empty piece after a final newline and strips a `\r` before `\n`.
        let tokens = parse_entries(text.lines(), &origin)?;
        Ok(Self { tokens, origin })
    }

    /// Returns whether the gate checks tokens, which is the case when at least one is
    /// configured.
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Returns the fingerprint of each configured token, in configuration order.
    pub fn fingerprints(&self) -> Vec<TokenFingerprint> {
        self.tokens.iter().map(ServiceToken::fingerprint).collect()
    }

    /// Returns the configured tokens, in configuration order.
    pub fn tokens(&self) -> &[ServiceToken] {
        &self.tokens
    }

    /// Returns where the tokens came from, or for a disabled gate, where they were looked for.
    pub fn origin(&self) -> &TokenSource {
        &self.origin
    }
}

impl fmt::Debug for GateConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateConfig")
            .field("fingerprints", &self.fingerprints())
            .field("origin", &self.origin)
            .finish()
    }
}

/// Validates `entries`, which are the comma-separated items or the lines of a file, and wraps
/// each one as a token.
fn parse_entries<'a>(
    entries: impl Iterator<Item = &'a str>,
    origin: &TokenSource,
) -> Result<Vec<ServiceToken>, ConfigError> {
    let entries: Vec<&str> = entries.map(str::trim_ascii).collect();
    if entries.iter().all(|entry| entry.is_empty()) {
        return Err(ConfigError::NoTokens {
            origin: origin.clone(),
        });
    }

    let mut tokens = Vec::with_capacity(entries.len());
    for (position, entry) in (1..).zip(entries) {
        if entry.is_empty() {
            return Err(ConfigError::EmptyEntry {
                origin: origin.clone(),
                position,
            });
        }
        if !entry.bytes().all(is_token_byte) {
            return Err(ConfigError::InvalidCharacter {
                origin: origin.clone(),
                position,
            });
        }
        tokens.push(ServiceToken::from_validated(entry.to_owned()));
    }
    Ok(tokens)
}

/// Returns whether `byte` may appear in a configured token: visible ASCII other than the comma,
/// which separates tokens in the variable.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && byte != b','
}

/// Origin of the configured tokens, as named in log lines and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// Tokens passed to [`GateConfig::with_tokens`] or [`GateConfig::disabled`].
    Explicit,
    /// Comma-separated tokens in an environment variable.
    Variable {
        /// Name of the environment variable.
        name: String,
    },
    /// A file with one token per line, named by an environment variable.
    File {
        /// Name of the environment variable that contains the path, ending in `_FILE`.
        variable: String,
        /// Path of the token file.
        path: PathBuf,
    },
}

impl TokenSource {
    /// Returns the word for one item of this source, as used in error messages.
    fn entry_word(&self) -> &'static str {
        match self {
            Self::Explicit => "token",
            Self::Variable { .. } => "entry",
            Self::File { .. } => "line",
        }
    }

    /// Returns the sentence with the fix for a source without tokens.
    fn no_tokens_fix(&self) -> String {
        match self {
            Self::Explicit => "Pass at least one token, or use GateConfig::disabled to leave the \
                               routes open"
                .to_owned(),
            Self::Variable { name } => format!(
                "Set {name} to one or more comma-separated tokens, or unset it to leave the \
                 routes open"
            ),
            Self::File { variable, .. } => format!(
                "Put one token per line in the file, or unset {variable} to leave the routes open"
            ),
        }
    }
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Explicit => f.write_str("the explicit token list"),
            Self::Variable { name } => write!(f, "environment variable {name}"),
            Self::File { variable, path } => {
                write!(f, "file {} named by {variable}", path.display())
            }
        }
    }
}

/// Invalid gate configuration. The gate is never built from it, so a deployment meant to be
/// closed does not start open.
///
/// Each message names the variable or file and gives the fix. No message contains a token.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The variable and its `_FILE` variant are both set.
    BothSet {
        /// Name of the token variable.
        variable: String,
        /// Name of the variable that contains the token file path.
        file_variable: String,
    },
    /// The variable's value or the file's content is not valid UTF-8.
    NotUnicode {
        /// Variable or file that contains the value.
        origin: TokenSource,
    },
    /// The file named by the `_FILE` variable cannot be read.
    UnreadableFile {
        /// Name of the variable that contains the path.
        file_variable: String,
        /// Path that could not be read.
        path: PathBuf,
        /// Error from reading the file.
        error: io::Error,
    },
    /// The configuration is empty or contains only whitespace and commas.
    NoTokens {
        /// Source without a token.
        origin: TokenSource,
    },
    /// One entry is blank while others are not, for example `a,,b` or a blank line.
    EmptyEntry {
        /// Source of the entry.
        origin: TokenSource,
        /// 1-based position of the entry, or line number in a file.
        position: usize,
    },
    /// A token contains a character that is not visible ASCII or is a comma.
    InvalidCharacter {
        /// Source of the token.
        origin: TokenSource,
        /// 1-based position of the token, or line number in a file.
        position: usize,
    },
    /// The header name passed to [`ServiceTokenGate::header_name`](crate::ServiceTokenGate::header_name)
    /// is not a valid HTTP header name.
    InvalidHeaderName {
        /// Name as passed.
        name: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BothSet {
                variable,
                file_variable,
            } => write!(
                f,
                "both {variable} and {file_variable} are set, so the service token source is \
                 ambiguous. Unset one of them"
            ),
            Self::NotUnicode { origin } => write!(
                f,
                "{origin} is not valid UTF-8. Store the service tokens as visible ASCII text"
            ),
            Self::UnreadableFile {
                file_variable,
                path,
                error,
            } => write!(
                f,
                "failed to read the service token file {} named by {file_variable}: {error}. \
                 Point {file_variable} at a readable file with one token per line",
                path.display()
            ),
            Self::NoTokens { origin } => write!(
                f,
                "{origin} contains no service token. {}",
                origin.no_tokens_fix()
            ),
            Self::EmptyEntry { origin, position } => write!(
                f,
                "{} {position} of {origin} is empty. Remove the empty {} or put a token there",
                origin.entry_word(),
                origin.entry_word()
            ),
            Self::InvalidCharacter { origin, position } => write!(
                f,
                "{} {position} of {origin} contains a character that is not allowed in a service \
                 token. Use only visible ASCII characters (0x21 to 0x7E) other than the comma",
                origin.entry_word()
            ),
            Self::InvalidHeaderName { name } => write!(
                f,
                "{name:?} is not a valid HTTP header name. Use letters, digits and hyphens, such \
                 as X-Service-Token"
            ),
        }
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::UnreadableFile { error, .. } => Some(error),
            _ => None,
        }
    }
}
