//! Fixed-window limit on rejection log lines, so a flood of bad requests cannot flood the log.

use std::{
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// Default maximum number of rejection lines logged per window.
pub(crate) const DEFAULT_MAX_LINES: u32 = 20;

/// Default window length.
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// Decision of [`LogLimiter::admit`] for one log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Log the line. `suppressed_before` lines were suppressed in the previous window, and the
    /// caller logs that count first when it is not zero.
    Log { suppressed_before: u64 },
    /// Drop the line and count it.
    Suppress,
}

/// Fixed-window limiter that admits at most `max_lines` log lines per window and counts the
/// rest.
///
/// A window starts at the first line after the previous window ended. The count of lines
/// suppressed in a window is returned with the first line admitted after it.
///
/// NOTE: the limiter has no timer, so the suppressed count of the last window before the
/// rejections stop is never reported.
#[derive(Debug)]
pub(crate) struct LogLimiter {
    max_lines: u32,
    window: Duration,
    state: Mutex<WindowState>,
}

#[derive(Debug, Default)]
struct WindowState {
    start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// Creates a limiter. A `max_lines` of 0 is raised to 1, so that the suppressed count can
    /// still be reported.
    pub(crate) fn new(max_lines: u32, window: Duration) -> Self {
        Self {
            max_lines: max_lines.max(1),
            window,
            state: Mutex::new(WindowState::default()),
        }
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Decides whether the line for an event at `now` may be logged.
    pub(crate) fn admit(&self, now: Instant) -> Admission {
        // Nothing panics while the lock is held, so a poisoned state is still consistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);

        let window_ended = match state.start {
            None => true,
            Some(start) => now.saturating_duration_since(start) >= self.window,
        };
        let mut suppressed_before = 0;
        if window_ended {
            suppressed_before = std::mem::take(&mut state.suppressed);
            state.start = Some(now);
            state.logged = 0;
        }

        if state.logged < self.max_lines {
            state.logged += 1;
            Admission::Log { suppressed_before }
        } else {
            state.suppressed += 1;
            Admission::Suppress
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(10);

    #[test]
    fn limiter_allows_max_lines_then_suppresses() {
        let limiter = LogLimiter::new(3, WINDOW);
        let start = Instant::now();

        for line in 1..=3 {
            assert_eq!(
                limiter.admit(start),
                Admission::Log {
                    suppressed_before: 0
                },
                "line {line} of 3 should be logged"
            );
        }
        for line in 4..=6 {
            assert_eq!(
                limiter.admit(start + Duration::from_secs(1)),
                Admission::Suppress,
                "line {line} should be suppressed"
            );
        }
    }

    #[test]
    fn limiter_reports_suppressed_count_when_window_rolls() {
        let limiter = LogLimiter::new(2, WINDOW);
        let start = Instant::now();
        for _ in 0..7 {
            limiter.admit(start);
        }

        let after_window = start + WINDOW;

        assert_eq!(
            limiter.admit(after_window),
            Admission::Log {
                suppressed_before: 5
            },
            "first line of the next window should carry the 5 suppressed lines"
        );
        assert_eq!(
            limiter.admit(after_window),
            Admission::Log {
                suppressed_before: 0
            },
            "second line of the next window should carry no count"
        );
        assert_eq!(
            limiter.admit(after_window),
            Admission::Suppress,
            "third line of the next window should be suppressed"
        );
    }

    #[test]
    fn limiter_keeps_window_until_it_ends() {
        let limiter = LogLimiter::new(1, WINDOW);
        let start = Instant::now();
        limiter.admit(start);

        let just_before_end = start + WINDOW - Duration::from_millis(1);

        assert_eq!(limiter.admit(just_before_end), Admission::Suppress);
    }

    #[test]
    fn limiter_raises_zero_max_lines_to_one() {
        let limiter = LogLimiter::new(0, WINDOW);
        let start = Instant::now();

        assert_eq!(
            limiter.admit(start),
            Admission::Log {
                suppressed_before: 0
            }
        );
        assert_eq!(limiter.admit(start), Admission::Suppress);
    }
}
