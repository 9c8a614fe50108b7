//! Request-level part: requests of seven classes through two gated apps.
//!
//! The main gate has the two tokens of [`MAIN_TOKENS`], and a control gate has two tokens of 25
//! characters. Each round sends one request of every class in a shuffled order and times each
//! call with `Instant`.
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

use std::{fmt, time::Instant};

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

use crate::{
    CONTROL_TOKENS, Gate, LAST_BYTE_DIFFERS, MAIN_TOKENS, VALUE_BUFFER_CAPACITY, WRONG_LONG,
    WRONG_SHORT,
    stats::{
        CROP_PERCENTILES, SHUFFLE_SEED, T_THRESHOLD, Xorshift64, compare_at_crops,
        compare_differences_at_crops, crop_header, duration_nanos, exceeds_threshold, percentile,
    },
};

const PATH: &str = "/internal/jobs";

/// Samples per class in a full run.
const SAMPLES_PER_CLASS: usize = 200_000;

/// Samples per class without `--bench`, enough to check that every class gets its outcome.
const SMOKE_SAMPLES_PER_CLASS: usize = 2_000;

/// Rounds run and discarded before sampling. They warm the caches and the allocator, and they
/// use up the 20 rejection log lines that each gate admits per minute by default.
const WARM_UP_ROUNDS: usize = 20_000;

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

/// One kind of presented value, the gate it goes to and the outcome the gate must give it.
struct Class {
    name: &'static str,
    gate: Gate,
    token: &'static str,
    outcome: Outcome,
}

fn classes() -> Vec<Class> {
    let right = MAIN_TOKENS[0];

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
    let mut buffer = Vec::with_capacity(VALUE_BUFFER_CAPACITY);
    buffer.extend_from_slice(token.as_bytes());
    HeaderValue::from_maybe_shared(Bytes::from(buffer))
        .expect("timing tokens are valid header values")
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
            let results = compare_at_crops(&samples[i], &samples[j]);
            let t_values = results.map(|result| result.t);
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
                results[0].mean_difference,
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
    let results = compare_differences_at_crops([
        &samples[index(Gate::Main, WRONG_LONG)],
        &samples[index(Gate::Main, WRONG_SHORT)],
        &samples[index(Gate::Control, WRONG_LONG)],
        &samples[index(Gate::Control, WRONG_SHORT)],
    ]);

    println!(
        "{:<42} {:>9} {:>9} {:>8}",
        "length check (not judged)",
        crop_header(CROP_PERCENTILES[0]),
        crop_header(CROP_PERCENTILES[1]),
        ""
    );
    for (gate, pick) in [("main", 0), ("control", 1)] {
        let differences = results.map(|result| {
            if pick == 0 {
                result.first_difference
            } else {
                result.second_difference
            }
        });
        println!(
            "{:<42} {:>9.2} {:>9.2}",
            format!("{gate} gate: 41 chars - 25 chars, ns"),
            differences[0],
            differences[1]
        );
    }
    println!(
        "{:<42} {:>9.2} {:>9.2}",
        "t of main difference - control difference", results[0].t, results[1].t
    );
    println!();
}

/// Runs the request-level part, prints its tables and returns whether every judged pair
/// passed. A smoke run (`full_run` false) samples fewer rounds.
pub fn run(full_run: bool) -> bool {
    let samples_per_class = if full_run {
        SAMPLES_PER_CLASS
    } else {
        SMOKE_SAMPLES_PER_CLASS
    };

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

    println!("== Request level: requests through the middleware ==");
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
    pass
}
