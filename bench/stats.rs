//! Latency samples and their percentiles.

use std::time::{Duration, Instant};

/// The most time one series of samples may take.
const BUDGET: Duration = Duration::from_secs(30);

/// Wall times of repeated runs of one operation.
pub struct Samples(Vec<Duration>);

/// How long one run of `operation` takes.
pub fn time(operation: impl FnOnce()) -> Duration {
    let started = Instant::now();
    operation();
    started.elapsed()
}

impl Samples {
    pub fn new(mut times: Vec<Duration>) -> Samples {
        times.sort();
        Samples(times)
    }

    /// Runs `operation` `count` times, one after another, timing each run; stops early
    /// (after at least 20 runs) once `BUDGET` is spent, so a slow operation cannot stall the run.
    pub fn collect(count: usize, mut operation: impl FnMut()) -> Samples {
        let mut times = Vec::with_capacity(count);
        let begun = Instant::now();
        for _ in 0..count {
            if times.len() >= 20 && begun.elapsed() > BUDGET {
                break;
            }
            times.push(time(&mut operation));
        }
        Samples::new(times)
    }

    /// The nearest-rank percentile, `p` in 0..=100.
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Microseconds, for costs per request.
pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Milliseconds with two decimals, the unit of every table.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1e3)
}
