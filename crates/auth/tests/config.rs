//! Configuration tests. They pass a lookup closure in place of the process environment, which
//! the tests never change.

use std::{collections::HashMap, error::Error, ffi::OsString, fs, path::Path};

use service_token_gate::{ConfigError, GateConfig, TokenSource};

/// Predicate that checks whether a configuration error is the expected variant.
type ErrorCheck = fn(&ConfigError) -> bool;

const VAR: &str = "TEST_SERVICE_TOKEN";
const FILE_VAR: &str = "TEST_SERVICE_TOKEN_FILE";

/// Returns a lookup over the given variables only.
fn lookup(vars: &[(&str, &str)]) -> impl FnMut(&str) -> Option<OsString> {
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
        .collect();
    move |name| vars.get(name).cloned()
}

fn from_vars(vars: &[(&str, &str)]) -> Result<GateConfig, ConfigError> {
    GateConfig::from_lookup(VAR, lookup(vars))
}

fn from_file_content(content: &[u8]) -> (Result<GateConfig, ConfigError>, tempfile::TempPath) {
    let file = tempfile::NamedTempFile::new().expect("temporary file can be created");
    fs::write(file.path(), content).expect("temporary file can be written");
    let path = file.into_temp_path();
    let path_text = path.to_str().expect("temporary path is UTF-8").to_owned();

    let result = from_vars(&[(FILE_VAR, &path_text)]);
    (result, path)
}

fn fingerprints_of(tokens: &[&str]) -> Vec<String> {
    let config = GateConfig::with_tokens(tokens.iter().copied()).expect("test tokens are valid");
    config
        .fingerprints()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn fingerprint_strings(config: &GateConfig) -> Vec<String> {
    config
        .fingerprints()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn config_unset_disables_gate() {
    let config = from_vars(&[("OTHER_VARIABLE", "token")]).expect("unset variable is valid");

    assert!(!config.is_enabled());
    assert!(config.fingerprints().is_empty());
    assert_eq!(
        config.origin(),
        &TokenSource::Variable {
            name: VAR.to_owned()
        }
    );
}

#[test]
fn config_reads_one_token() {
    let config = from_vars(&[(VAR, "only-token")]).expect("one token is valid");

    assert!(config.is_enabled());
    assert_eq!(
        fingerprint_strings(&config),
        fingerprints_of(&["only-token"])
    );
}

#[test]
fn config_reads_trimmed_token_list() {
    let config = from_vars(&[(VAR, " old-token ,\tnew-token\n")]).expect("two tokens are valid");

    assert_eq!(
        fingerprint_strings(&config),
        fingerprints_of(&["old-token", "new-token"])
    );
}

#[test]
fn config_rejects_invalid_values() {
    // (case, value of VAR, check on the error)
    let cases: &[(&str, &str, ErrorCheck)] = &[
        ("empty", "", |e| matches!(e, ConfigError::NoTokens { .. })),
        ("whitespace only", " \t ", |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("commas only", ",,", |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("commas and spaces", " , , ", |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("empty entry between commas", "first,,second", |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("trailing comma", "first,", |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("blank entry between commas", "first, ,second", |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("space inside token", "secret value", |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 1, .. })
        }),
        ("control character", "first,secret\u{7f}", |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 2, .. })
        }),
        ("non-ASCII character", "secret-tøken", |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 1, .. })
        }),
    ];

    for (case, value, is_expected) in cases {
        let Err(error) = from_vars(&[(VAR, value)]) else {
            panic!("{case}: expected an error");
        };
        let message = error.to_string();

        assert!(is_expected(&error), "{case}: unexpected error {error:?}");
        assert!(
            message.contains(VAR),
            "{case}: message names {VAR}: {message}"
        );
        assert!(
            !message.contains("secret"),
            "{case}: message must not contain the value: {message}"
        );
    }
}

#[test]
fn config_rejects_variable_and_file_both_set() {
    let result = from_vars(&[(VAR, "token"), (FILE_VAR, "/run/secrets/token")]);

    let Err(error) = result else {
        panic!("expected an error");
    };
    let message = error.to_string();
    assert!(matches!(error, ConfigError::BothSet { .. }), "{error:?}");
    assert!(message.contains(VAR), "message names {VAR}: {message}");
    assert!(
        message.contains(FILE_VAR),
        "message names {FILE_VAR}: {message}"
    );
}

#[cfg(unix)]
#[test]
fn config_rejects_non_unicode_value() {
    use std::os::unix::ffi::OsStringExt;

    let result = GateConfig::from_lookup(VAR, |name| {
        (name == VAR).then(|| OsString::from_vec(b"token-\xff".to_vec()))
    });

    let Err(error) = result else {
        panic!("expected an error");
    };
    assert!(matches!(error, ConfigError::NotUnicode { .. }), "{error:?}");
    assert!(error.to_string().contains(VAR), "message: {error}");
}

#[test]
fn config_reads_file_with_two_tokens() {
    // (case, file content)
    let cases: &[(&str, &[u8])] = &[
        ("final newline", b"old-token\nnew-token\n"),
        ("no final newline", b"old-token\nnew-token"),
        ("CRLF line ends", b"old-token\r\nnew-token\r\n"),
        ("spaces around tokens", b"  old-token \n\tnew-token\n"),
    ];

    for (case, content) in cases {
        let (result, _path) = from_file_content(content);
        let config = result.unwrap_or_else(|error| panic!("{case}: {error}"));

        assert_eq!(
            fingerprint_strings(&config),
            fingerprints_of(&["old-token", "new-token"]),
            "{case}: fingerprints"
        );
        assert!(
            matches!(config.origin(), TokenSource::File { variable, .. } if variable == FILE_VAR),
            "{case}: origin {:?}",
            config.origin()
        );
    }
}

#[test]
fn config_rejects_invalid_files() {
    // (case, file content, check on the error)
    let cases: &[(&str, &[u8], ErrorCheck)] = &[
        ("empty file", b"", |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("only newlines", b"\n\n", |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("blank line between tokens", b"first\n\nsecond\n", |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("extra blank line at end", b"first\n\n", |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("comma in line", b"secret-one,secret-two\n", |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 1, .. })
        }),
        ("space inside token", b"secret value\n", |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 1, .. })
        }),
        ("non-UTF-8 content", b"secret-\xff\n", |e| {
            matches!(e, ConfigError::NotUnicode { .. })
        }),
    ];

    for (case, content, is_expected) in cases {
        let (result, path) = from_file_content(content);
        let Err(error) = result else {
            panic!("{case}: expected an error");
        };
        let message = error.to_string();

        assert!(is_expected(&error), "{case}: unexpected error {error:?}");
        assert!(
            message.contains(FILE_VAR),
            "{case}: message names {FILE_VAR}: {message}"
        );
        assert!(
            message.contains(&path.display().to_string()),
            "{case}: message names the path: {message}"
        );
        assert!(
            !message.contains("secret"),
            "{case}: message must not contain the value: {message}"
        );
    }
}

#[test]
fn config_rejects_missing_file() {
    let directory = tempfile::tempdir().expect("temporary directory can be created");
    let path = directory.path().join("missing-token");
    let path_text = path.to_str().expect("temporary path is UTF-8");

    let Err(error) = from_vars(&[(FILE_VAR, path_text)]) else {
        panic!("expected an error");
    };
    let message = error.to_string();

    assert!(
        matches!(error, ConfigError::UnreadableFile { .. }),
        "{error:?}"
    );
    assert!(
        message.contains(FILE_VAR),
        "message names {FILE_VAR}: {message}"
    );
    assert!(
        message.contains(path_text),
        "message names the path: {message}"
    );
    assert!(error.source().is_some(), "the I/O error is the source");
}

#[test]
fn config_rejects_empty_file_variable() {
    let Err(error) = from_vars(&[(FILE_VAR, "")]) else {
        panic!("expected an error");
    };

    assert!(matches!(error, ConfigError::UnreadableFile { ref path, .. } if path == Path::new("")));
    assert!(error.to_string().contains(FILE_VAR), "message: {error}");
}

#[test]
fn config_with_tokens_rejects_invalid_lists() {
    // (case, tokens, check on the error)
    let cases: &[(&str, &[&str], ErrorCheck)] = &[
        ("no tokens", &[], |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("one blank token", &[" "], |e| {
            matches!(e, ConfigError::NoTokens { .. })
        }),
        ("blank second token", &["first", ""], |e| {
            matches!(e, ConfigError::EmptyEntry { position: 2, .. })
        }),
        ("comma in token", &["first,second"], |e| {
            matches!(e, ConfigError::InvalidCharacter { position: 1, .. })
        }),
    ];

    for (case, tokens, is_expected) in cases {
        let Err(error) = GateConfig::with_tokens(tokens.iter().copied()) else {
            panic!("{case}: expected an error");
        };

        assert!(is_expected(&error), "{case}: unexpected error {error:?}");
        assert!(
            error.to_string().contains("explicit token list"),
            "{case}: message names the source: {error}"
        );
    }
}

#[test]
fn config_token_length_warning_threshold() {
    let config = GateConfig::with_tokens(["short-token", "a-token-of-exactly-32-characters"])
        .expect("test tokens are valid");

    let short: Vec<bool> = config
        .tokens()
        .iter()
        .map(|token| token.is_shorter_than_recommended())
        .collect();

    assert_eq!(short, [true, false]);
}
