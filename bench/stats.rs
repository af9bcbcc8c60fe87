//! Latency samples and their percentiles.

use std::time::{Duration, Instant};

/// The most time one series of samples may take.
const BUDGET: Duration = Duration::from_secs(30);

/// Wall times of repeated runs of one operation.
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Runs `operation` `count` times, one after another, timing each run; stops early
    /// (after at least 20 runs) once `BUDGET` is spent, so a slow operation cannot stall the run.
    pub fn collect(count: usize, mut operation: impl FnMut()) -> Samples {
        let mut times = Vec::with_capacity(count);
        let begun = Instant::now();
        for _ in 0..count {
            if times.len() >= 20 && begun.elapsed() > BUDGET {
                break;
            }
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

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Milliseconds with two decimals, the unit of every table.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1e3)
}
