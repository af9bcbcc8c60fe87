//! Reading a browser's `Accept-Language` (RFC 9110): the most wanted language the catalogue
//! has, matched by its full tag or else by its primary language ("ja-JP" → "ja").

use super::Lang;

/// Most `Accept-Language` entries looked at; browsers send a handful.
const MAX_ENTRIES: usize = 16;

/// The catalogue's language the header wants most; `None` when it wants none of them.
pub fn accept_language(header: &str) -> Option<Lang> {
    let mut wanted: Vec<(&str, u16)> = header
        .split(',')
        .take(MAX_ENTRIES)
        .filter_map(entry)
        .filter(|&(_, weight)| weight > 0)
        .collect();
    // Stable: among equal weights the header's order stands.
    wanted.sort_by_key(|&(_, weight)| std::cmp::Reverse(weight));
    wanted.into_iter().find_map(|(tag, _)| {
        Lang::parse(tag).or_else(|| Lang::parse(tag.split('-').next().unwrap_or(tag)))
    })
}

/// One entry, `ja-JP;q=0.8`, as its tag and its weight in thousandths.
fn entry(text: &str) -> Option<(&str, u16)> {
    let mut parts = text.split(';').map(str::trim);
    let tag = parts.next().filter(|tag| !tag.is_empty() && *tag != "*")?;
    let weight = parts
        .find_map(|param| {
            param
                .strip_prefix("q=")
                .or_else(|| param.strip_prefix("Q="))
        })
        .map_or(Some(1000), weight)?;
    Some((tag, weight))
}

/// A `q` value, "0.8" → 800; `None` when malformed.
fn weight(text: &str) -> Option<u16> {
    let value: f32 = text.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(header: &str) -> Option<&'static str> {
        accept_language(header).map(Lang::tag)
    }

    #[test]
    fn the_most_wanted_language_the_catalogue_has() {
        assert_eq!(tag("ja"), Some("ja"));
        assert_eq!(tag("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"), Some("ko"));
        assert_eq!(tag("fr-FR, ja;q=0.5, en;q=0.9"), Some("en"));
        assert_eq!(tag("en;q=0.2, ja-JP"), Some("ja"));
        assert_eq!(tag("fr, de"), None);
        assert_eq!(tag("ja;q=0, ko;q=0.1"), Some("ko"));
        assert_eq!(tag("*"), None);
        assert_eq!(tag(""), None);
        assert_eq!(tag("ja;q=bogus, ko"), Some("ko"));
    }
}
