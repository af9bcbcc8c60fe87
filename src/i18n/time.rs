//! Times in words of a language, by ICU4X and the CLDR data compiled into it: "2 minutes
//! ago", "2 分前", "2분 전", and dates as each language writes them. The page script words
//! times the same way with the browser's `Intl`, which also builds on CLDR.

use super::Lang;
use crate::domain::time::Timestamp;
use fixed_decimal::Decimal;
use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldsets::YMD;
use icu_datetime::input::{Date, DateTime, Time};
use icu_experimental::relativetime::options::Numeric;
use icu_experimental::relativetime::{RelativeTimeFormatter, RelativeTimeFormatterOptions};
use icu_locale_core::Locale;
use time::OffsetDateTime;
use writeable::Writeable;

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How far back a time is still told relatively; older ones get their date.
const RELATIVE_LIMIT: i64 = 30 * DAY;

/// The unit a relative time is told in, as the page script picks it too.
#[derive(Clone, Copy)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
}

fn locale(lang: Lang) -> Locale {
    lang.tag().parse().unwrap_or(Locale::UNKNOWN)
}

/// `value` units from now (negative: ago) in `lang`; with `Numeric::Auto`, in the
/// language's own words where it has them ("now", "yesterday"). `None` if ICU4X has no data
/// for the language.
fn in_units(lang: Lang, value: i64, unit: Unit, numeric: Numeric) -> Option<String> {
    let options = RelativeTimeFormatterOptions::default().with_numeric(numeric);
    let prefs = locale(lang).into();
    let formatter = match unit {
        Unit::Second => RelativeTimeFormatter::try_new_long_second(prefs, options),
        Unit::Minute => RelativeTimeFormatter::try_new_long_minute(prefs, options),
        Unit::Hour => RelativeTimeFormatter::try_new_long_hour(prefs, options),
        Unit::Day => RelativeTimeFormatter::try_new_long_day(prefs, options),
    }
    .ok()?;
    let formatted = formatter.format(Decimal::from(value));
    Some(formatted.write_to_string().into_owned())
}

/// "now", "3 minutes ago", "2 hours ago", "yesterday", "4 days ago" for `at` seen at `now`;
/// `None` from thirty days back, where the date says more.
pub fn ago(lang: Lang, at: Timestamp, now: Timestamp) -> Option<String> {
    let seconds = (now.millis() - at.millis()).max(0) / 1000;
    let (value, unit) = if seconds < MINUTE {
        (0, Unit::Second)
    } else if seconds < HOUR {
        (seconds / MINUTE, Unit::Minute)
    } else if seconds < DAY {
        (seconds / HOUR, Unit::Hour)
    } else if seconds < RELATIVE_LIMIT {
        (seconds / DAY, Unit::Day)
    } else {
        return None;
    };
    in_units(lang, -value, unit, Numeric::Auto)
}

/// A wait ahead, "in 45 seconds" or "in 3 minutes": seconds up to a minute and a half, else
/// whole minutes, rounded up, as the service's English `wait_text` counts them.
pub fn wait(lang: Lang, seconds: u64) -> String {
    let seconds = seconds.max(1);
    let (value, unit) = if seconds <= 90 {
        (seconds, Unit::Second)
    } else {
        (seconds.div_ceil(MINUTE as u64), Unit::Minute)
    };
    let value = i64::try_from(value).unwrap_or(i64::MAX);
    // Numeric words only: "in 1 second", never "now".
    in_units(lang, value, unit, Numeric::Always).unwrap_or_else(|| value.to_string())
}

/// The date and the time to the minute as `lang` writes them in full ("November 14, 2023 at
/// 10:13 PM", "2023年11月14日 22:13"), of `at` in UTC.
pub fn date_time(lang: Lang, at: Timestamp) -> String {
    let Ok(utc) = OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1000)) else {
        return String::new();
    };
    let input = Date::try_new_iso(utc.year(), utc.month().into(), utc.day())
        .ok()
        .zip(Time::try_new(utc.hour(), utc.minute(), 0, 0).ok())
        .map(|(date, time)| DateTime { date, time });
    let formatter = DateTimeFormatter::try_new(locale(lang).into(), YMD::long().with_time_hm());
    match (input, formatter) {
        (Some(input), Ok(formatter)) => formatter.format(&input).write_to_string().into_owned(),
        _ => at.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_MS: i64 = 60_000;

    fn lang(tag: &str) -> Lang {
        Lang::parse(tag).unwrap()
    }

    #[test]
    fn relative_times_in_each_language() {
        let now = Timestamp(1_700_000_000_000);
        let before = |tag: &str, ms: i64| ago(lang(tag), Timestamp(now.millis() - ms), now);
        let en = |ms| before("en", ms).unwrap();
        assert_eq!(en(20_000), "now");
        assert_eq!(en(-5_000), "now", "a clock slightly ahead");
        assert_eq!(en(MINUTE_MS), "1 minute ago");
        assert_eq!(en(59 * MINUTE_MS), "59 minutes ago");
        assert_eq!(en(120 * MINUTE_MS), "2 hours ago");
        assert_eq!(en(30 * 60 * MINUTE_MS), "yesterday");
        assert_eq!(en(3 * 24 * 60 * MINUTE_MS), "3 days ago");
        assert_eq!(before("en", 40 * 24 * 60 * MINUTE_MS), None);
        assert_eq!(before("ja", 2 * MINUTE_MS).unwrap(), "2 分前");
        assert_eq!(before("ko", 2 * MINUTE_MS).unwrap(), "2분 전");
        assert_eq!(before("ja", 30 * 60 * MINUTE_MS).unwrap(), "昨日");
        assert_eq!(before("ko", 3 * 60 * MINUTE_MS).unwrap(), "3시간 전");
    }

    #[test]
    fn waits_ahead() {
        assert_eq!(wait(lang("en"), 1), "in 1 second");
        assert_eq!(wait(lang("en"), 90), "in 90 seconds");
        assert_eq!(wait(lang("en"), 91), "in 2 minutes");
        assert_eq!(wait(lang("ja"), 300), "5 分後");
        assert_eq!(wait(lang("ko"), 300), "5분 후");
    }

    #[test]
    fn dates_as_each_language_writes_them() {
        let at = Timestamp(1_700_000_000_999);
        assert_eq!(
            date_time(lang("en"), at),
            "November 14, 2023 at 10:13\u{202f}PM"
        );
        assert_eq!(date_time(lang("ja"), at), "2023年11月14日 22:13");
        assert_eq!(date_time(lang("ko"), at), "2023년 11월 14일 오후 10:13");
    }
}
