//! Human durations such as `30s`, `15m`, `1h30m` and `14d`.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// A duration written the way operators write them in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration; write e.g. 30s, 15m, 1h30m or 14d".into());
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => {
                    return Err(format!(
                        "bad duration {text:?}: unknown unit {c:?} (use s, m, h, d)"
                    ));
                }
            };
            let value: u64 = digits
                .parse()
                .map_err(|_| format!("bad duration {text:?}: a number must come before {c:?}"))?;
            total = value
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("duration {text:?} is too large"))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(format!(
                "bad duration {text:?}: {digits} needs a unit (s, m, h, d)"
            ));
        }
        Ok(HumanDuration(Duration::from_secs(total)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_secs();
        if rest == 0 {
            return write!(f, "0s");
        }
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HumanDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        let secs = |t: &str| HumanDuration::parse(t).unwrap().0.as_secs();
        assert_eq!(secs("30s"), 30);
        assert_eq!(secs("15m"), 900);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("14d"), 14 * 86_400);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in ["", "10", "5x", "m", "1h30"] {
            assert!(HumanDuration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(HumanDuration::parse("90m").unwrap().to_string(), "1h30m");
    }
}
