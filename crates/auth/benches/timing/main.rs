//! Timing-independence check of the gate's token decision, in the style of dudect.
//!
//! The test has two parts. Each times classes of presented values, interleaved in an order
//! shuffled every round, crops the slowest samples and compares the mean times of pairs of
//! classes with Welch's t statistic. |t| ≥ 4.5 counts as a difference.
//!
//! - The request level (`request.rs`) sends requests through gated actix-web apps. Accepted
//!   and rejected requests build different responses, so it judges only the pairs with the
//!   same outcome and the same presented length.
//! - The decision level (`decision.rs`) calls `ServiceTokenGate::matching_token`, the decision
//!   that the middleware makes on a header value, in batches. Its five classes are the right
//!   token, a wrong token of the same length, a wrong token of another length, the right token
//!   with its last byte changed and the second configured token. It judges all 10 pairs, and
//!   judges a pair of different lengths against a control gate so that the cost of the
//!   presented length cancels out.
//!
//! `cargo bench -p service-token-gate --bench timing` runs both parts with 200,000 samples per
//! class and exits with status 1 if either gives FAIL. `-- request` or `-- decision` after the
//! command runs one part. Without `--bench`, as under `cargo test --benches`, each part runs
//! 2,000 samples per class and gives no verdict. No logger is installed, so the warn lines of
//! rejections cost only a check of the log level.

mod decision;
mod request;
mod stats;

use std::process::ExitCode;

use stats::T_THRESHOLD;

/// Tokens of the main gate, 41 characters each.
const MAIN_TOKENS: [&str; 2] = [
    "timing-token-1-k3Jx9QvT2mLp8ZrW5nYb7HcD4f",
    "timing-token-2-Vq7Lm2Nx8Rb4Kt6Wz3Ys9Pd5Hf",
];

/// Tokens of the control gate, 25 characters each.
const CONTROL_TOKENS: [&str; 2] = ["timing-short-1-Qw8Er5Ty2U", "timing-short-2-Lk4Jh7Gf3D"];

/// The first main token with its last byte changed.
const LAST_BYTE_DIFFERS: &str = "timing-token-1-k3Jx9QvT2mLp8ZrW5nYb7HcD4g";

/// A value of the main tokens' length that matches no token.
const WRONG_LONG: &str = "timing-token-0-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr";

/// A 25-character value that matches no token. Both lengths are under 56 bytes, so SHA-256
/// hashes either value in one block.
const WRONG_SHORT: &str = "timing-token-9-Zc5Tn8Bq2X";

/// Capacity of the buffer behind every presented value, in bytes. It exceeds the longest
/// value, so every class gets a buffer of the same size.
const VALUE_BUFFER_CAPACITY: usize = 64;

/// Gate that a class of presented values goes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Gate {
    Main,
    Control,
}

impl Gate {
    fn label(self) -> &'static str {
        match self {
            Self::Main => "main",
            Self::Control => "control",
        }
    }
}

/// Checks the relations between the presented values that the class names promise.
fn check_values() {
    let right = MAIN_TOKENS[0];
    assert_eq!(LAST_BYTE_DIFFERS.len(), right.len());
    assert_eq!(
        LAST_BYTE_DIFFERS[..right.len() - 1],
        right[..right.len() - 1]
    );
    assert_ne!(LAST_BYTE_DIFFERS, right);
    assert_eq!(WRONG_LONG.len(), right.len());
    assert_eq!(MAIN_TOKENS[1].len(), right.len());
    assert_ne!(WRONG_SHORT.len(), right.len());
    assert_eq!(WRONG_SHORT.len(), CONTROL_TOKENS[0].len());
    assert_eq!(CONTROL_TOKENS[1].len(), CONTROL_TOKENS[0].len());
    for value in [
        right,
        MAIN_TOKENS[1],
        LAST_BYTE_DIFFERS,
        WRONG_LONG,
        WRONG_SHORT,
    ] {
        assert!(value.len() < VALUE_BUFFER_CAPACITY);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full_run = args.iter().any(|arg| arg == "--bench");
    let selected: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let runs_part = |name: &str| selected.is_empty() || selected.contains(&name);
    if let Some(unknown) = selected
        .iter()
        .find(|name| !["request", "decision"].contains(name))
    {
        eprintln!("unknown part {unknown:?}: expected request or decision");
        return ExitCode::FAILURE;
    }
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger is installed, so rejections would write log lines during the measurement"
    );
    check_values();

    let mut pass = true;
    if runs_part("request") {
        pass &= request::run(full_run);
    }
    if runs_part("decision") {
        pass &= decision::run(full_run);
    }

    if !full_run {
        println!("smoke run without --bench: no verdict");
        return ExitCode::SUCCESS;
    }
    if pass {
        println!("PASS: every judged pair has |t| < {T_THRESHOLD}");
        ExitCode::SUCCESS
    } else {
        println!("FAIL: a judged pair has |t| >= {T_THRESHOLD}");
        ExitCode::FAILURE
    }
}
