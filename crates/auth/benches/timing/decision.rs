//! Decision-level part: [`ServiceTokenGate::matching_token`] on values of five classes.
//!
//! This times the decision that the middleware makes on a single header value (the format
//! checks, SHA-256 of the value and the comparison with every configured token) without the
//! request, the routing or the response around it. Accepted and rejected values therefore do
//! the same work, and all 10 pairs of the five classes on the main gate are judged.
//!
//! The time of the decision grows with the length of the presented value, because the gate
//! scans and hashes it, and the client chose that length. A pair of values of different
//! lengths is therefore judged on a difference of differences, as in the length check of the
//! request level. The statistic is the pair's difference on the main gate minus the difference
//! between values of the same two lengths on a control gate with 25-character tokens. The
//! length cost cancels out, and what remains is any effect of the configured tokens. Pairs of
//! equal length are judged on Welch's t of their times.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use service_token_gate::{GateConfig, ServiceTokenGate, TokenFingerprint};

use crate::{
    CONTROL_TOKENS, Gate, LAST_BYTE_DIFFERS, MAIN_TOKENS, VALUE_BUFFER_CAPACITY, WRONG_LONG,
    WRONG_SHORT,
    stats::{
        CROP_PERCENTILES, SHUFFLE_SEED, T_THRESHOLD, Xorshift64, compare_at_crops,
        compare_differences_at_crops, crop_header, duration_nanos, exceeds_threshold, percentile,
    },
};

/// Calls of `matching_token` per timed sample. One call took 0.15 to 0.25 µs on the machine
/// that BENCHMARKS.md describes, so a batch lasts a few microseconds, far longer than one
/// reading of the clock.
const CALLS_PER_SAMPLE: u32 = 16;

/// Samples per class in a full run.
const SAMPLES_PER_CLASS: usize = 200_000;

/// Samples per class without `--bench`, enough to check that the part runs.
const SMOKE_SAMPLES_PER_CLASS: usize = 2_000;

/// Rounds run and discarded before sampling, to warm the caches and the branch predictors.
const WARM_UP_ROUNDS: usize = 20_000;

/// Warm-up rounds without `--bench`. The unoptimized build of `cargo test --benches` takes
/// about 5 µs per call, so the full warm-up would take 10 seconds there.
const SMOKE_WARM_UP_ROUNDS: usize = 200;

/// One kind of presented value, the gate that checks it and whether the gate accepts it.
struct Class {
    name: &'static str,
    gate: Gate,
    value: &'static str,
    accepted: bool,
}

/// Returns the five judged classes on the main gate, then the two control classes.
fn classes() -> [Class; 7] {
    // One class per line: name, gate, presented value, whether the gate accepts it.
    #[rustfmt::skip]
    let table = [
        ("right token",         Gate::Main,    MAIN_TOKENS[0],    true),
        ("wrong, same length",  Gate::Main,    WRONG_LONG,        false),
        ("wrong, other length", Gate::Main,    WRONG_SHORT,       false),
        ("last byte differs",   Gate::Main,    LAST_BYTE_DIFFERS, false),
        ("second token",        Gate::Main,    MAIN_TOKENS[1],    true),
        ("control, 41 chars",   Gate::Control, WRONG_LONG,        false),
        ("control, 25 chars",   Gate::Control, WRONG_SHORT,       false),
    ];
    table.map(|(name, gate, value, accepted)| Class {
        name,
        gate,
        value,
        accepted,
    })
}

/// Buffer of one presented value, aligned to a 64-byte cache line.
///
/// Every value starts at the beginning of its own cache line, in a buffer of the same size, so
/// all classes read their value at the same alignment and none straddles two cache lines.
#[repr(align(64))]
struct ValueBuffer {
    bytes: [u8; VALUE_BUFFER_CAPACITY],
    len: usize,
}

impl ValueBuffer {
    fn new(value: &str) -> Self {
        let mut bytes = [0; VALUE_BUFFER_CAPACITY];
        bytes[..value.len()].copy_from_slice(value.as_bytes());
        Self {
            bytes,
            len: value.len(),
        }
    }

    fn value(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Times `CALLS_PER_SAMPLE` calls of `matching_token` on `value`.
///
/// `black_box` hides the value from the optimizer, so no call is hoisted out of the loop, and
/// keeps each result alive, so no call is removed. `Option<TokenFingerprint>` has no
/// destructor, so `Some` and `None` cost the same once the call returns.
fn time_batch(gate: &ServiceTokenGate, value: &[u8]) -> Duration {
    let start = Instant::now();
    for _ in 0..CALLS_PER_SAMPLE {
        let result: Option<TokenFingerprint> = gate.matching_token(black_box(value));
        black_box(result);
    }
    start.elapsed()
}

/// The main gate and the control gate.
struct Gates {
    main: ServiceTokenGate,
    control: ServiceTokenGate,
}

impl Gates {
    fn new() -> Self {
        let gate = |tokens: [&str; 2]| {
            let config = GateConfig::with_tokens(tokens).expect("timing tokens are valid");
            ServiceTokenGate::new(config)
        };
        Self {
            main: gate(MAIN_TOKENS),
            control: gate(CONTROL_TOKENS),
        }
    }

    fn get(&self, gate: Gate) -> &ServiceTokenGate {
        match gate {
            Gate::Main => &self.main,
            Gate::Control => &self.control,
        }
    }
}

/// Runs `rounds` rounds of one batch per class, in an order shuffled every round, and returns
/// the time of each batch, per class, in nanoseconds.
fn sample(
    gates: &Gates,
    classes: &[Class],
    buffers: &[ValueBuffer],
    rounds: usize,
    rng: &mut Xorshift64,
) -> Vec<Vec<u64>> {
    let mut samples: Vec<Vec<u64>> = buffers.iter().map(|_| Vec::with_capacity(rounds)).collect();
    let mut order: Vec<usize> = (0..buffers.len()).collect();

    for _ in 0..rounds {
        rng.shuffle(&mut order);
        for &index in &order {
            let gate = gates.get(classes[index].gate);
            let elapsed = time_batch(gate, buffers[index].value());
            samples[index].push(duration_nanos(elapsed));
        }
    }
    samples
}

/// Converts a time per batch to a time per call.
fn per_call(batch_nanos: f64) -> f64 {
    batch_nanos / f64::from(CALLS_PER_SAMPLE)
}

fn print_classes(classes: &[Class], samples: &[Vec<u64>]) {
    println!(
        "{:<20} {:>7} {:>6} {:>8} {:>8} {:>7} {:>7} {:>7}",
        "class", "gate", "length", "result", "samples", "p10 ns", "p50 ns", "p90 ns"
    );
    for (class, class_samples) in classes.iter().zip(samples) {
        let mut sorted = class_samples.clone();
        sorted.sort_unstable();
        let per_call_at = |fraction| per_call(percentile(&sorted, fraction) as f64);
        println!(
            "{:<20} {:>7} {:>6} {:>8} {:>8} {:>7.1} {:>7.1} {:>7.1}",
            class.name,
            class.gate.label(),
            class.value.len(),
            if class.accepted { "Some" } else { "None" },
            sorted.len(),
            per_call_at(0.10),
            per_call_at(0.50),
            per_call_at(0.90),
        );
    }
    println!("times per call: each sample times {CALLS_PER_SAMPLE} calls");
    println!();
}

/// Returns the index of each pair of distinct classes on the main gate.
fn main_pairs(classes: &[Class]) -> Vec<(usize, usize)> {
    let main: Vec<usize> = (0..classes.len())
        .filter(|&index| classes[index].gate == Gate::Main)
        .collect();
    let mut pairs = Vec::new();
    for (position, &first) in main.iter().enumerate() {
        for &second in &main[position + 1..] {
            pairs.push((first, second));
        }
    }
    pairs
}

/// Returns the index of the control class whose value has `length` bytes.
fn control_class(classes: &[Class], length: usize) -> usize {
    classes
        .iter()
        .position(|class| class.gate == Gate::Control && class.value.len() == length)
        .expect("the control gate has a class of every presented length")
}

/// Prints Welch's t of the times of every pair on the main gate, and returns whether every
/// pair of equal lengths stays below the threshold at every crop. Pairs of different lengths
/// are printed for information and judged by [`print_length_adjusted_pairs`].
fn print_pairs(classes: &[Class], samples: &[Vec<u64>]) -> bool {
    println!(
        "{:<42} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "pair",
        "diff ns",
        "flag ns",
        crop_header(CROP_PERCENTILES[0]),
        crop_header(CROP_PERCENTILES[1]),
        "verdict"
    );

    let mut pass = true;
    for (i, j) in main_pairs(classes) {
        let (first, second) = (&classes[i], &classes[j]);
        let results = compare_at_crops(&samples[i], &samples[j]);
        let t_values = results.map(|result| result.t);
        let verdict = if first.value.len() != second.value.len() {
            "length"
        } else if exceeds_threshold(&t_values) {
            pass = false;
            "DIFFERS"
        } else {
            "ok"
        };
        println!(
            "{:<42} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>8}",
            format!("{} vs {}", first.name, second.name),
            per_call(results[0].mean_difference),
            per_call(T_THRESHOLD * results[0].standard_error),
            t_values[0],
            t_values[1],
            verdict
        );
    }
    println!(
        "diff ns: difference of the means per call after the first crop. flag ns: the smallest \
         difference per call that would reach the threshold at that crop. verdict: ok or \
         DIFFERS, or length for pairs judged in the next table"
    );
    println!();
    pass
}

/// Prints the difference-of-differences t of every pair of different lengths on the main gate,
/// and returns whether every such pair stays below the threshold at every crop.
fn print_length_adjusted_pairs(classes: &[Class], samples: &[Vec<u64>]) -> bool {
    println!(
        "{:<42} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "pair, minus the control gate",
        "main ns",
        "ctrl ns",
        "flag ns",
        crop_header(CROP_PERCENTILES[0]),
        crop_header(CROP_PERCENTILES[1]),
        "verdict"
    );

    let mut pass = true;
    for (i, j) in main_pairs(classes) {
        let (first, second) = (&classes[i], &classes[j]);
        if first.value.len() == second.value.len() {
            continue;
        }
        let first_control = control_class(classes, first.value.len());
        let second_control = control_class(classes, second.value.len());
        let results = compare_differences_at_crops([
            &samples[i],
            &samples[j],
            &samples[first_control],
            &samples[second_control],
        ]);
        let t_values = results.map(|result| result.t);
        let differs = exceeds_threshold(&t_values);
        pass &= !differs;
        println!(
            "{:<42} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>8}",
            format!("{} vs {}", first.name, second.name),
            per_call(results[0].first_difference),
            per_call(results[0].second_difference),
            per_call(T_THRESHOLD * results[0].standard_error),
            t_values[0],
            t_values[1],
            if differs { "DIFFERS" } else { "ok" }
        );
    }
    println!(
        "main ns: difference of the means per call on the main gate after the first crop. ctrl \
         ns: the same for values of the same two lengths on the control gate. flag ns: the \
         smallest main - ctrl that would reach the threshold. t: of main - ctrl"
    );
    println!();
    pass
}

/// Runs the decision-level part, prints its tables and returns whether every pair passed. A
/// smoke run (`full_run` false) samples fewer rounds.
pub fn run(full_run: bool) -> bool {
    let (warm_up_rounds, samples_per_class) = if full_run {
        (WARM_UP_ROUNDS, SAMPLES_PER_CLASS)
    } else {
        (SMOKE_WARM_UP_ROUNDS, SMOKE_SAMPLES_PER_CLASS)
    };

    let classes = classes();
    let gates = Gates::new();
    let buffers: Vec<ValueBuffer> = classes
        .iter()
        .map(|class| ValueBuffer::new(class.value))
        .collect();
    for (class, buffer) in classes.iter().zip(&buffers) {
        assert_eq!(
            gates
                .get(class.gate)
                .matching_token(buffer.value())
                .is_some(),
            class.accepted,
            "class {:?} got the wrong decision, so it would time the wrong path",
            class.name
        );
    }

    let started = Instant::now();
    let mut rng = Xorshift64(SHUFFLE_SEED);
    sample(&gates, &classes, &buffers, warm_up_rounds, &mut rng);
    let samples = sample(&gates, &classes, &buffers, samples_per_class, &mut rng);

    println!("== Decision level: ServiceTokenGate::matching_token ==");
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
    let equal_lengths_pass = print_pairs(&classes, &samples);
    let other_lengths_pass = print_length_adjusted_pairs(&classes, &samples);
    equal_lengths_pass && other_lengths_pass
}
