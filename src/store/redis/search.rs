//! Finding a deep admin-listing page by score: how many entries score above a candidate,
//! summed over the shards, brackets the page's two ends.

/// A deeper page is read once the entries between its two search bounds are at most a page
/// and this many more.
const SEARCH_SLACK: u64 = 64;

/// A listing position found by score: how many entries (over all shards) score above `score`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    pub(super) score: i64,
    pub(super) above: u64,
}

/// Brackets, by score, the two ends of a deep listing page: rows `first..end` of the
/// listing. `start` bounds where the page starts (`start.1.above <= first < start.0.above`),
/// `stop` where it ends (`stop.0.above >= end > stop.1.above`); each pair is (lower score,
/// higher score). Counting entries above a few candidate scores narrows both.
pub(super) struct Search {
    first: u64,
    end: u64,
    pub(super) start: (Mark, Mark),
    pub(super) stop: (Mark, Mark),
}

impl Search {
    /// A search over entries scoring from `lowest` to `highest`, `total` of them.
    pub(super) fn new(first: u64, end: u64, lowest: i64, highest: i64, total: u64) -> Search {
        let below_all = Mark {
            score: lowest.saturating_sub(1),
            above: total,
        };
        let top = Mark {
            score: highest,
            above: 0,
        };
        Search {
            first,
            end,
            start: (below_all, top),
            stop: (below_all, top),
        }
    }

    /// Narrows the brackets with a counted candidate.
    pub(super) fn learn(&mut self, mark: Mark) {
        let (low, high) = &mut self.start;
        if low.score < mark.score && mark.score < high.score {
            *(if mark.above <= self.first { high } else { low }) = mark;
        }
        let (low, high) = &mut self.stop;
        if low.score < mark.score && mark.score < high.score {
            *(if mark.above >= self.end { low } else { high }) = mark;
        }
    }

    /// Whether a bracket can still narrow: its end is not exact and scores lie strictly inside.
    fn open(bracket: &(Mark, Mark), exact: bool) -> bool {
        !exact && bracket.1.score - bracket.0.score > 1
    }

    fn start_open(&self) -> bool {
        Self::open(&self.start, self.start.1.above == self.first)
    }

    fn stop_open(&self) -> bool {
        Self::open(&self.stop, self.stop.0.above == self.end)
    }

    /// Whether the entries between the outer bounds are few enough to read.
    pub(super) fn done(&self) -> bool {
        let between = self.stop.0.above.saturating_sub(self.start.1.above);
        between <= self.end - self.first + SEARCH_SLACK || !(self.start_open() || self.stop_open())
    }

    /// Scores to count next: for each open bracket its middle (so it at least halves) and
    /// guesses just outside the page's end, placed by interpolating positions linearly on
    /// score, at distances around the square root of the bracket's size (the typical error
    /// of that guess when activity is spread evenly).
    pub(super) fn candidates(&self) -> Vec<i64> {
        let mut scores = Vec::new();
        let brackets = [
            (self.start_open(), &self.start, self.first as f64, -1.0),
            (self.stop_open(), &self.stop, self.end as f64, 1.0),
        ];
        for (open, (low, high), target, side) in brackets {
            if !open {
                continue;
            }
            scores.push(low.score + (high.score - low.score) / 2);
            // Counts taken in different rounds disagree if sessions came or went meanwhile.
            let span = low.above.saturating_sub(high.above) as f64;
            if span == 0.0 {
                continue;
            }
            let width = (high.score - low.score) as f64;
            for factor in [1.0 / 16.0, 0.25, 1.0, 4.0, 16.0] {
                let position = target + side * factor * span.sqrt();
                let score = high.score as f64 - (position - high.above as f64) / span * width;
                let score = score.round() as i64;
                if low.score < score && score < high.score {
                    scores.push(score);
                }
            }
        }
        scores.sort_unstable();
        scores.dedup();
        scores
    }
}
