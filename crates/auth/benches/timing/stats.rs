//! Shuffling, cropping and Welch's t statistic, shared by both parts of the timing test.

use std::time::Duration;

/// Percentiles of the pooled samples of a pair above which samples are dropped, because
/// interrupts and preemption add a long tail that hides small differences. dudect crops the same
/// way at its own set of percentiles.
pub const CROP_PERCENTILES: [f64; 2] = [0.99, 0.90];

/// |t| at or above which a judged pair counts as different. The threshold is a convention.
/// With 200,000 samples per class it can flag differences under a nanosecond, and a small
/// |t| does not prove that the time is constant.
pub const T_THRESHOLD: f64 = 4.5;

/// Seed of the generator that shuffles the class order, fixed so that runs repeat.
pub const SHUFFLE_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Xorshift64 generator, good enough to shuffle the class order and not for anything secret.
pub struct Xorshift64(pub u64);

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
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let bound = u64::try_from(i + 1).expect("slice length fits in u64");
            let j = usize::try_from(self.next_u64() % bound).expect("index fits in usize");
            items.swap(i, j);
        }
    }
}

pub fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Mean, variance and count of a set of samples.
pub struct Moments {
    pub mean: f64,
    pub variance: f64,
    pub count: f64,
}

impl Moments {
    /// Computes the moments of the samples at or below `limit`, with the unbiased variance.
    pub fn below(samples: &[u64], limit: u64) -> Self {
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

/// Returns the standard error of the difference of the means of `a` and `b`, as Welch's t
/// test computes it.
pub fn welch_standard_error(a: &Moments, b: &Moments) -> f64 {
    (a.variance / a.count + b.variance / b.count).sqrt()
}

/// Returns the value at `fraction` (0 to 1) of `sorted`, which is in ascending order, by the
/// nearest-rank rule.
pub fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Returns the value at `fraction` (0 to 1) of all samples of `sets` together.
pub fn pooled_percentile(sets: &[&[u64]], fraction: f64) -> u64 {
    let mut pooled: Vec<u64> = sets.iter().flat_map(|set| set.iter().copied()).collect();
    pooled.sort_unstable();
    percentile(&pooled, fraction)
}

/// Difference of the means, its standard error and Welch's t of one pair of classes after one
/// crop.
#[derive(Clone, Copy)]
pub struct Comparison {
    pub mean_difference: f64,
    pub standard_error: f64,
    pub t: f64,
}

/// Compares two sets of samples at each crop of [`CROP_PERCENTILES`].
pub fn compare_at_crops(first: &[u64], second: &[u64]) -> [Comparison; 2] {
    CROP_PERCENTILES.map(|fraction| {
        let threshold = pooled_percentile(&[first, second], fraction);
        let first_moments = Moments::below(first, threshold);
        let second_moments = Moments::below(second, threshold);
        let mean_difference = first_moments.mean - second_moments.mean;
        let standard_error = welch_standard_error(&first_moments, &second_moments);
        Comparison {
            mean_difference,
            standard_error,
            t: mean_difference / standard_error,
        }
    })
}

/// Differences of the means of two pairs of sample sets, and the standard error and t
/// statistic of the difference between them, after one crop.
#[derive(Clone, Copy)]
pub struct DifferenceOfDifferences {
    pub first_difference: f64,
    pub second_difference: f64,
    pub standard_error: f64,
    pub t: f64,
}

/// Compares `sets[0] - sets[1]` with `sets[2] - sets[3]` at each crop of
/// [`CROP_PERCENTILES`], with the threshold taken from the four sets pooled.
///
/// Effects that shift both sets of a pair alike cancel out, and so does a difference that is
/// the same in both pairs. The standard error treats the four sets as independent, as Welch's
/// t does for two.
pub fn compare_differences_at_crops(sets: [&[u64]; 4]) -> [DifferenceOfDifferences; 2] {
    CROP_PERCENTILES.map(|fraction| {
        let threshold = pooled_percentile(&sets, fraction);
        let moments = sets.map(|set| Moments::below(set, threshold));
        let first_difference = moments[0].mean - moments[1].mean;
        let second_difference = moments[2].mean - moments[3].mean;
        let standard_error = moments
            .iter()
            .map(|moments| moments.variance / moments.count)
            .sum::<f64>()
            .sqrt();
        DifferenceOfDifferences {
            first_difference,
            second_difference,
            standard_error,
            t: (first_difference - second_difference) / standard_error,
        }
    })
}

pub fn crop_header(fraction: f64) -> String {
    format!("t <p{:.0}", fraction * 100.0)
}

pub fn exceeds_threshold(t_values: &[f64]) -> bool {
    t_values.iter().any(|t| t.abs() >= T_THRESHOLD)
}
