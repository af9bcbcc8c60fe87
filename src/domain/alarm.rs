//! IP-spread alarms: one user's active sessions coming from too many addresses.

use super::time::Timestamp;
use serde::Serialize;
use std::net::IpAddr;

/// An alarm about one user; open until an administrator acknowledges it.
#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    /// The distinct addresses seen among the user's active sessions, in [`sort_addresses`]'s
    /// order.
    pub ip_addresses: Vec<String>,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
}

impl Alarm {
    pub fn is_open(&self) -> bool {
        self.acknowledged_at.is_none()
    }
}

/// Sorts addresses as numbers, IPv4 before IPv6 (`9.1.1.1` before `10.0.0.9` before
/// `10.0.0.10`), so a spread reads in order; anything that is not an address comes first.
pub fn sort_addresses(addresses: &mut [String]) {
    addresses.sort_by_cached_key(|address| (address.parse::<IpAddr>().ok(), address.clone()));
}

#[cfg(test)]
mod tests {
    use super::sort_addresses;

    #[test]
    fn addresses_sort_as_numbers() {
        let mut addresses = ["::1", "10.0.0.10", "9.1.1.1", "10.0.0.9", "2001:db8::2"]
            .map(str::to_owned)
            .to_vec();
        sort_addresses(&mut addresses);
        assert_eq!(
            addresses,
            ["9.1.1.1", "10.0.0.9", "10.0.0.10", "::1", "2001:db8::2"]
        );
    }
}
