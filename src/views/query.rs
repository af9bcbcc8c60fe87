//! The paging and filter values of the admin listings, parsed once for the API, the pages and
//! the CLI; a bad value is a [`BadQuery`] naming what is accepted.

use crate::domain::address_filter::AddressFilter;
use crate::domain::audit::AuditKind;
use crate::service::admin::MAX_PAGE;

/// The default page size of every admin listing.
pub const DEFAULT_PAGE: u32 = 50;

/// The largest `offset` a listing takes: the SQL stores count rows in signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// A paging or filter value that is not one of those accepted; the text says which are.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadQuery(pub String);

/// `limit` (default 50, 1 to 500) and `offset` (default 0, at most [`MAX_OFFSET`]), checked.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub limit: u32,
    pub offset: u64,
}

impl Paging {
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Paging, BadQuery> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    BadQuery(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}, not {text:?}"
                    ))
                })?,
        };
        let offset = match offset {
            None => 0,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|o| *o <= MAX_OFFSET)
                .ok_or_else(|| {
                    BadQuery(format!(
                        "offset must be a whole number from 0 to {MAX_OFFSET}, not {text:?}"
                    ))
                })?,
        };
        Ok(Paging { limit, offset })
    }
}

/// A `userId` filter: a numeric user id.
pub fn parse_user_id(text: Option<&str>) -> Result<Option<i64>, BadQuery> {
    text.map(|t| {
        RecordId::parse(t)
            .map(|RecordId(id)| id)
            .ok_or_else(|| BadQuery(format!("userId must be a numeric user id, not {t:?}")))
    })
    .transpose()
}

/// The id of a stored record (a user, an alarm): the stores number them from 1 in signed
/// 64-bit integers, so any other text names none and is a bad request, not a missing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordId(pub i64);

impl RecordId {
    pub fn parse(text: &str) -> Option<RecordId> {
        text.parse().ok().filter(|id| *id > 0).map(RecordId)
    }
}

impl<'de> serde::Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        RecordId::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not an id: ids are whole numbers from 1 to {}",
                i64::MAX
            ))
        })
    }
}

/// An `ip` filter: an address, the start of one or a network; empty means every address.
pub fn parse_address_filter(text: Option<&str>) -> Result<Option<AddressFilter>, BadQuery> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| AddressFilter::parse(t).map_err(|e| BadQuery(format!("ip must be {e}"))))
        .transpose()
}

/// An audit `kind` filter; empty means every kind.
pub fn parse_audit_kind(text: Option<&str>) -> Result<Option<AuditKind>, BadQuery> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => AuditKind::parse(text).map(Some).ok_or_else(|| {
            let known: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
            BadQuery(format!(
                "unknown event kind {text:?}; use one of {}",
                known.join(", ")
            ))
        }),
    }
}

/// Whether an alarm listing wants open alarms only (`open`, the default) or all of them.
pub fn parse_alarm_state(text: Option<&str>) -> Result<bool, BadQuery> {
    match text.unwrap_or("open") {
        "open" | "" => Ok(true),
        "all" => Ok(false),
        other => Err(BadQuery(format!(
            "state must be open or all, not {other:?}"
        ))),
    }
}

/// A `dry_run` flag: `true` (the default) or `false`.
pub fn parse_dry_run(text: Option<&str>) -> Result<bool, BadQuery> {
    match text {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(BadQuery(format!(
            "dry_run must be true or false, not {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_takes_only_values_within_its_bounds() {
        let paging = Paging::parse(Some("500"), Some(&MAX_OFFSET.to_string())).unwrap();
        assert_eq!((paging.limit, paging.offset), (500, MAX_OFFSET));
        for (limit, offset) in [
            (Some("0"), None),
            (Some("501"), None),
            (None, Some("-1")),
            (None, Some("9223372036854775808")),
        ] {
            assert!(
                Paging::parse(limit, offset).is_err(),
                "{limit:?} {offset:?}"
            );
        }
    }
}
