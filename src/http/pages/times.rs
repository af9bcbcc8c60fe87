//! Times as pages show them: relative ("5 minutes ago") or exact in UTC, inside
//! `<time datetime>` so that the script can show the reader's own time zone.

use crate::domain::time::Timestamp;
use time::OffsetDateTime;
use time::macros::format_description;

/// One point in time, ready for a `<time>` element.
pub struct TimeView {
    /// RFC 3339, for the `datetime` attribute.
    pub datetime: String,
    /// "14 Nov 2023, 22:13 UTC", for text and hover.
    pub exact: String,
    /// "5 minutes ago", relative to when the page was made.
    pub relative: String,
}

impl TimeView {
    pub fn new(at: Timestamp, now: Timestamp) -> TimeView {
        TimeView {
            datetime: at.to_rfc3339(),
            exact: exact(at),
            relative: relative(at, now),
        }
    }
}

fn exact(at: Timestamp) -> String {
    let format =
        format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// "just now", "3 minutes ago", "2 hours ago", "yesterday", "4 days ago", else the date.
fn relative(at: Timestamp, now: Timestamp) -> String {
    let seconds = (now.millis() - at.millis()).max(0) / 1000;
    let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86_400);
    let ago = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    if minutes < 1 {
        "just now".to_owned()
    } else if hours < 1 {
        ago(minutes, "minute")
    } else if days < 1 {
        ago(hours, "hour")
    } else if days < 2 {
        "yesterday".to_owned()
    } else if days < 30 {
        ago(days, "day")
    } else {
        format!("on {}", exact(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn relative_times_read_naturally() {
        let now = Timestamp(1_700_000_000_000);
        let before = |ms: i64| relative(Timestamp(now.millis() - ms), now);
        assert_eq!(before(20_000), "just now");
        assert_eq!(before(-5_000), "just now", "a clock slightly ahead");
        assert_eq!(before(MINUTE), "1 minute ago");
        assert_eq!(before(59 * MINUTE), "59 minutes ago");
        assert_eq!(before(120 * MINUTE), "2 hours ago");
        assert_eq!(before(30 * 60 * MINUTE), "yesterday");
        assert_eq!(before(3 * 24 * 60 * MINUTE), "3 days ago");
        assert_eq!(before(40 * 24 * 60 * MINUTE), "on 5 Oct 2023, 22:13 UTC");
    }

    #[test]
    fn exact_times_are_utc() {
        let view = TimeView::new(Timestamp(1_700_000_000_999), Timestamp(1_700_000_000_999));
        assert_eq!(view.exact, "14 Nov 2023, 22:13 UTC");
        assert_eq!(view.datetime, "2023-11-14T22:13:20Z");
    }
}
