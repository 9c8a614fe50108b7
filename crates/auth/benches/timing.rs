//! Timing-independence check of the gate's token decision, in the style of dudect.
//!
//! Requests of seven classes go through two gated apps: the main gate with two tokens of 41
//! characters, and a control gate with two tokens of 25 characters. Each round sends one
//! request of every class in a shuffled order and times each call with `Instant`. After
//! cropping the slowest samples, Welch's t statistic compares the mean time of every pair of
//! classes. |t| ≥ 4.5 counts as a difference.
//!
//! The verdict judges the pairs on the same gate with the same outcome and the same presented
//! length. A difference there means that the time depends on which token matched or on how
//! close a wrong value is to a token. The table also shows pairs that are not judged, because
//! they differ for reasons that reveal nothing about the tokens:
//!
//! - Outcome: accepted and rejected requests build different responses, and the status code
//!   shows the outcome anyway.
//! - Length: the gate scans and hashes the presented value, so the time depends on its length,
//!   which the client chose.
//! - Gate: the two apps are separate objects with their own memory and request pools. Only the
//!   main gate also serves accepted requests, and that history alone makes its rejections a
//!   few nanoseconds slower.
//!
//! The length check compares the 41-minus-25-character difference on the two gates. A gate
//! whose time depended on the length of its own tokens would show different differences, but
//! so do the few-nanosecond effects of memory layout and request history that differ between
//! the two apps. The check is printed for information and is not part of the verdict.
//!
//! `cargo bench -p service-token-gate --bench timing` runs 200,000 samples per class and exits
//! with status 1 on FAIL. Without `--bench`, as under `cargo test --benches`, it runs 2,000
//! samples per class and gives no verdict. No logger is installed, so the warn lines of
//! rejections cost only a check of the log level.

use std::{
    fmt,
    process::ExitCode,
    time::{Duration, Instant},
};

use actix_rt::System;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header::HeaderValue},
    test::{self, TestRequest},
    web::{self, Bytes},
};
use futures_util::FutureExt;
use service_token_gate::{DEFAULT_HEADER_NAME, GateConfig, ServiceTokenGate};

const PATH: &str = "/internal/jobs";

/// Tokens of the main gate, 41 characters each.
const MAIN_TOKENS: [&str; 2] = [
    "timing-token-1-k3Jx9QvT2mLp8ZrW5nYb7HcD4f",
    "timing-token-2-Vq7Lm2Nx8Rb4Kt6Wz3Ys9Pd5Hf",
];

/// Tokens of the control gate, 25 characters each.
const CONTROL_TOKENS: [&str; 2] = ["timing-short-1-Qw8Er5Ty2U", "timing-short-2-Lk4Jh7Gf3D"];

/// The first main token with its last byte changed.
const LAST_BYTE_DIFFERS: &str = "timing-token-1-k3Jx9QvT2mLp8ZrW5nYb7HcD4g";

/// A value of the main tokens' length that matches no token of either gate.
const WRONG_LONG: &str = "timing-token-0-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr";

/// A value of the control tokens' length that matches no token of either gate. Both lengths
/// are under 56 bytes, so SHA-256 hashes either value in one block.
const WRONG_SHORT: &str = "timing-token-9-Zc5Tn8Bq2X";

/// Capacity of the buffer behind every presented header value, in bytes. It exceeds the
/// longest value, so `Bytes::from` keeps the buffer and never shrinks it to the value's length.
const HEADER_VALUE_CAPACITY: usize = 64;

/// Samples per class in a full run.
const SAMPLES_PER_CLASS: usize = 200_000;

/// Samples per class without `--bench`, enough to check that every class gets its outcome.
const SMOKE_SAMPLES_PER_CLASS: usize = 2_000;

/// Rounds run and discarded before sampling. They warm the caches and the allocator, and they
/// use up the 20 rejection log lines that each gate admits per minute by default.
const WARM_UP_ROUNDS: usize = 20_000;

/// Percentiles of the pooled samples of a pair above which samples are dropped, because
/// interrupts and preemption add a long tail that hides small differences. dudect crops the same
/// way at its own set of percentiles.
const CROP_PERCENTILES: [f64; 2] = [0.99, 0.90];

/// |t| at or above which a judged pair counts as different. The threshold is a convention.
/// With 200,000 samples per class it can flag differences under a nanosecond, and a small
/// |t| does not prove that the time is constant.
const T_THRESHOLD: f64 = 4.5;

/// Seed of the generator that shuffles the class order, fixed so that runs repeat.
const SHUFFLE_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Accepted,
    Rejected,
}

impl Outcome {
    fn status(self) -> StatusCode {
        match self {
            Self::Accepted => StatusCode::OK,
            Self::Rejected => StatusCode::UNAUTHORIZED,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        })
    }
}

/// Gate that a class of requests goes through.
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

/// One kind of presented value, the gate it goes to and the outcome the gate must give it.
struct Class {
    name: &'static str,
    gate: Gate,
    token: &'static str,
    outcome: Outcome,
}

fn classes() -> Vec<Class> {
    let right = MAIN_TOKENS[0];
    assert_eq!(LAST_BYTE_DIFFERS.len(), right.len());
    assert_eq!(
        LAST_BYTE_DIFFERS[..right.len() - 1],
        right[..right.len() - 1]
    );
    assert_ne!(LAST_BYTE_DIFFERS, right);
    assert_eq!(WRONG_LONG.len(), right.len());
    assert_eq!(WRONG_SHORT.len(), CONTROL_TOKENS[0].len());
    assert_ne!(WRONG_SHORT.len(), right.len());

    // One class per line: name, gate, presented value, expected outcome.
    #[rustfmt::skip]
    let table = [
        ("right token",         Gate::Main,    right,             Outcome::Accepted),
        ("second token",        Gate::Main,    MAIN_TOKENS[1],    Outcome::Accepted),
        ("wrong, same length",  Gate::Main,    WRONG_LONG,        Outcome::Rejected),
        ("wrong, other length", Gate::Main,    WRONG_SHORT,       Outcome::Rejected),
        ("last byte differs",   Gate::Main,    LAST_BYTE_DIFFERS, Outcome::Rejected),
        ("control, 41 chars",   Gate::Control, WRONG_LONG,        Outcome::Rejected),
        ("control, 25 chars",   Gate::Control, WRONG_SHORT,       Outcome::Rejected),
    ];
    table
        .into_iter()
        .map(|(name, gate, token, outcome)| Class {
            name,
            gate,
            token,
            outcome,
        })
        .collect()
}

/// Xorshift64 generator, good enough to shuffle the class order and not for anything secret.
struct Xorshift64(u64);

impl Xorshift64 {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Shuffles `items` in place with the Fisher-Yates algorithm. The modulo bias is below
    /// 2^-60 for the handful of items shuffled here.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let bound = u64::try_from(i + 1).expect("slice length fits in u64");
            let j = usize::try_from(self.next_u64() % bound).expect("index fits in usize");
            items.swap(i, j);
        }
    }
}

async fn ok() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Sends `rounds` rounds of one request per class and returns the time of each call, per
/// class, in nanoseconds.
///
/// Each request is built before the clock starts and its response is dropped after it stops.
/// The call is polled once with `now_or_never`, which panics if it does not finish on that
/// poll, so the time never includes a trip through the runtime.
fn sample<S, B, R>(
    main_app: &S,
    control_app: &S,
    classes: &[Class],
    rounds: usize,
    rng: &mut Xorshift64,
    make_request: impl Fn(&str) -> R,
) -> Vec<Vec<u64>>
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut samples: Vec<Vec<u64>> = (0..classes.len())
        .map(|_| Vec::with_capacity(rounds))
        .collect();
    let mut order: Vec<usize> = (0..classes.len()).collect();

    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &index in &order {
            let class = &classes[index];
            let app = match class.gate {
                Gate::Main => main_app,
                Gate::Control => control_app,
            };
            let request = make_request(class.token);

            let start = Instant::now();
            let response = app
                .call(request)
                .now_or_never()
                .expect("a request to the test app finishes on its first poll");
            let elapsed = start.elapsed();

            let response = response.expect("the test app returns a response, not an error");
            assert_eq!(
                response.status(),
                class.outcome.status(),
                "class {:?} got the wrong status, so it would time the wrong path",
                class.name
            );
            drop(response);

            samples[index].push(duration_nanos(elapsed));
        }
    }
    samples
}

/// Copies `token` into a header value whose buffer has the same capacity for every class.
///
/// Values copied to buffers of their own length land in different allocator size classes, and
/// values from static strings sit at fixed addresses. In trial runs, either gave |t| up to 16
/// between classes, with a sign that changed from run to run. Equal buffers make every class
/// draw its memory from the same pool.
fn header_value(token: &str) -> HeaderValue {
    let mut buffer = Vec::with_capacity(HEADER_VALUE_CAPACITY);
    buffer.extend_from_slice(token.as_bytes());
    HeaderValue::from_maybe_shared(Bytes::from(buffer))
        .expect("timing tokens are valid header values")
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Mean, variance and count of a set of samples.
struct Moments {
    mean: f64,
    variance: f64,
    count: f64,
}

impl Moments {
    /// Computes the moments of the samples at or below `limit`, with the unbiased variance.
    fn below(samples: &[u64], limit: u64) -> Self {
        let retained: Vec<f64> = samples
            .iter()
            .filter(|&&value| value <= limit)
            .map(|&value| value as f64)
            .collect();
        let count = retained.len() as f64;
        let mean = retained.iter().sum::<f64>() / count;
        let squares: f64 = retained.iter().map(|value| (value - mean).powi(2)).sum();
        Self {
            mean,
            variance: squares / (count - 1.0),
            count,
        }
    }
}

/// Returns Welch's t statistic for the difference of the means of `a` and `b`.
fn welch_t(a: &Moments, b: &Moments) -> f64 {
    (a.mean - b.mean) / (a.variance / a.count + b.variance / b.count).sqrt()
}

/// Returns the value at `fraction` (0 to 1) of `sorted`, which is in ascending order, by the
/// nearest-rank rule.
fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Returns the value at `fraction` (0 to 1) of all samples of `sets` together.
fn pooled_percentile(sets: &[&Vec<u64>], fraction: f64) -> u64 {
    let mut pooled: Vec<u64> = sets.iter().flat_map(|set| set.iter().copied()).collect();
    pooled.sort_unstable();
    percentile(&pooled, fraction)
}

fn print_classes(classes: &[Class], samples: &[Vec<u64>]) {
    println!(
        "{:<20} {:>7} {:>6} {:>8} {:>8} {:>7} {:>7} {:>7}",
        "class", "gate", "length", "outcome", "samples", "p10 ns", "p50 ns", "p90 ns"
    );
    for (class, class_samples) in classes.iter().zip(samples) {
        let mut sorted = class_samples.clone();
        sorted.sort_unstable();
        println!(
            "{:<20} {:>7} {:>6} {:>8} {:>8} {:>7} {:>7} {:>7}",
            class.name,
            class.gate.label(),
            class.token.len(),
            class.outcome.to_string(),
            sorted.len(),
            percentile(&sorted, 0.10),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.90),
        );
    }
    println!();
}

/// Prints Welch's t for every pair of classes and returns whether every judged pair stays
/// below the threshold at every crop.
fn print_pairs(classes: &[Class], samples: &[Vec<u64>]) -> bool {
    println!(
        "{:<42} {:>8} {:>9} {:>9} {:>8}",
        "pair",
        "diff ns",
        crop_header(CROP_PERCENTILES[0]),
        crop_header(CROP_PERCENTILES[1]),
        "verdict"
    );

    let mut pass = true;
    for (i, first) in classes.iter().enumerate() {
        for (j, second) in classes.iter().enumerate().skip(i + 1) {
            let results = CROP_PERCENTILES.map(|fraction| {
                let threshold = pooled_percentile(&[&samples[i], &samples[j]], fraction);
                let first_moments = Moments::below(&samples[i], threshold);
                let second_moments = Moments::below(&samples[j], threshold);
                (
                    first_moments.mean - second_moments.mean,
                    welch_t(&first_moments, &second_moments),
                )
            });
            let t_values = results.map(|(_, t)| t);
            let verdict = if first.outcome != second.outcome {
                "outcome"
            } else if first.token.len() != second.token.len() {
                "length"
            } else if first.gate != second.gate {
                "gate"
            } else if exceeds_threshold(&t_values) {
                pass = false;
                "DIFFERS"
            } else {
                "ok"
            };
            println!(
                "{:<42} {:>8.1} {:>9.2} {:>9.2} {:>8}",
                format!("{} vs {}", first.name, second.name),
                results[0].0,
                t_values[0],
                t_values[1],
                verdict
            );
        }
    }
    println!(
        "diff ns: difference of the means after the first crop. verdict: ok or DIFFERS for \
         judged pairs, and outcome, length or gate for pairs not judged because they differ in it"
    );
    println!();
    pass
}

/// Prints the length check, which is not part of the verdict.
///
/// The statistic is a difference of differences: (main gate, 41 chars − 25 chars) − (control
/// gate, 41 chars − 25 chars). The cost of the presented length and any fixed difference
/// between the two gates cancel out. What remains is the effect of matching the length of the
/// configured tokens, plus any effect of the presented value that differs between the apps.
fn print_length_check(classes: &[Class], samples: &[Vec<u64>]) {
    let index = |gate, token| {
        classes
            .iter()
            .position(|class| class.gate == gate && class.token == token)
            .expect("every gate has a class for each wrong value")
    };
    let sets = [
        &samples[index(Gate::Main, WRONG_LONG)],
        &samples[index(Gate::Main, WRONG_SHORT)],
        &samples[index(Gate::Control, WRONG_LONG)],
        &samples[index(Gate::Control, WRONG_SHORT)],
    ];

    let results = CROP_PERCENTILES.map(|fraction| {
        let threshold = pooled_percentile(&sets, fraction);
        let [main_long, main_short, control_long, control_short] =
            sets.map(|set| Moments::below(set, threshold));
        let main_difference = main_long.mean - main_short.mean;
        let control_difference = control_long.mean - control_short.mean;
        let standard_error = [&main_long, &main_short, &control_long, &control_short]
            .iter()
            .map(|moments| moments.variance / moments.count)
            .sum::<f64>()
            .sqrt();
        let t = (main_difference - control_difference) / standard_error;
        (main_difference, control_difference, t)
    });

    println!(
        "{:<42} {:>9} {:>9} {:>8}",
        "length check (not judged)",
        crop_header(CROP_PERCENTILES[0]),
        crop_header(CROP_PERCENTILES[1]),
        ""
    );
    for (gate, pick) in [("main", 0), ("control", 1)] {
        let differences = results.map(|result| if pick == 0 { result.0 } else { result.1 });
        println!(
            "{:<42} {:>9.2} {:>9.2}",
            format!("{gate} gate: 41 chars - 25 chars, ns"),
            differences[0],
            differences[1]
        );
    }
    println!(
        "{:<42} {:>9.2} {:>9.2}",
        "t of main difference - control difference", results[0].2, results[1].2
    );
    println!();
}

fn crop_header(fraction: f64) -> String {
    format!("t <p{:.0}", fraction * 100.0)
}

fn exceeds_threshold(t_values: &[f64]) -> bool {
    t_values.iter().any(|t| t.abs() >= T_THRESHOLD)
}

fn main() -> ExitCode {
    let full_run = std::env::args().any(|arg| arg == "--bench");
    let samples_per_class = if full_run {
        SAMPLES_PER_CLASS
    } else {
        SMOKE_SAMPLES_PER_CLASS
    };
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger is installed, so rejections would write log lines during the measurement"
    );

    let classes = classes();
    let gate = |tokens: [&str; 2]| {
        let config = GateConfig::with_tokens(tokens).expect("timing tokens are valid");
        ServiceTokenGate::new(config)
    };
    let make_request = |token: &str| {
        TestRequest::get()
            .uri(PATH)
            .insert_header((DEFAULT_HEADER_NAME, header_value(token)))
            .to_request()
    };

    let started = Instant::now();
    let samples = System::new().block_on(async {
        let app = |tokens| {
            test::init_service(
                App::new()
                    .wrap(gate(tokens))
                    .service(web::resource(PATH).route(web::get().to(ok))),
            )
        };
        let main_app = app(MAIN_TOKENS).await;
        let control_app = app(CONTROL_TOKENS).await;

        let mut rng = Xorshift64(SHUFFLE_SEED);
        let mut run = |rounds| {
            sample(
                &main_app,
                &control_app,
                &classes,
                rounds,
                &mut rng,
                make_request,
            )
        };
        run(WARM_UP_ROUNDS);
        run(samples_per_class)
    });

    println!(
        "main gate: 2 tokens of {} chars; control gate: 2 tokens of {} chars",
        MAIN_TOKENS[0].len(),
        CONTROL_TOKENS[0].len()
    );
    println!(
        "{samples_per_class} samples per class in {:.1} s, threshold |t| < {T_THRESHOLD}",
        started.elapsed().as_secs_f64()
    );
    println!();
    print_classes(&classes, &samples);
    let pass = print_pairs(&classes, &samples);
    print_length_check(&classes, &samples);

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
