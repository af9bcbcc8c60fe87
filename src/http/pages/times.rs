//! Times as pages show them: relative ("5 minutes ago") or exact in UTC, in the request's
//! language, inside `<time datetime>` so that the script can show the reader's own time zone
//! and keep relative times current.

use crate::domain::time::Timestamp;
use crate::i18n::{Lang, msg, time};

/// One point in time, ready for a `<time>` element.
pub struct TimeView {
    /// RFC 3339, for the `datetime` attribute.
    pub datetime: String,
    /// "November 14, 2023 at 10:13 PM UTC", for text and hover.
    pub exact: String,
    /// "5 minutes ago", relative to when the page was made; the exact time when long ago.
    pub relative: String,
}

impl TimeView {
    pub fn new(at: Timestamp, now: Timestamp) -> TimeView {
        let lang = Lang::current();
        let exact = msg("time-in-utc")
            .arg("time", time::date_time(lang, at))
            .to_string();
        TimeView {
            datetime: at.to_rfc3339(),
            relative: time::ago(lang, at, now).unwrap_or_else(|| exact.clone()),
            exact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[tokio::test]
    async fn exact_times_are_utc_in_the_request_language() {
        let at = Timestamp(1_700_000_000_999);
        let view = TimeView::new(at, Timestamp(at.millis() + 3 * DAY));
        assert_eq!(view.exact, "November 14, 2023 at 10:13\u{202f}PM UTC");
        assert_eq!(view.datetime, "2023-11-14T22:13:20Z");
        assert_eq!(view.relative, "3 days ago");
        let korean = Lang::parse("ko").unwrap();
        let view = korean
            .speak(async { TimeView::new(at, Timestamp(at.millis() + 40 * DAY)) })
            .await;
        assert_eq!(view.exact, "2023년 11월 14일 오후 10:13 UTC");
        assert_eq!(view.relative, view.exact, "long ago: the date");
    }
}
