//! Latency samples and their percentiles.

use std::time::{Duration, Instant};

/// Wall times of repeated runs of one operation.
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Runs `operation` `count` times, one after another, timing each run.
    pub fn collect(count: usize, mut operation: impl FnMut()) -> Samples {
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            operation();
            times.push(started.elapsed());
        }
        times.sort();
        Samples(times)
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
}

/// Milliseconds with two decimals, the unit of every table.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1e3)
}
