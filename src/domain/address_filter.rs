//! The admin listing's address filter: one address, the start of one (`10.1.`, `2001:db8:`)
//! or a network (`10.0.0.0/8`, `2001:db8::/32`), matched against the address a session was
//! created from and the one it was last used from.

use super::session::Session;
use ipnet::IpNet;
use std::net::IpAddr;

/// What an `ip` filter asks for; made only by [`AddressFilter::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressFilter {
    /// One address, as stored.
    Exact(String),
    /// Addresses whose text begins with this (digits, hex digits, `.` and `:` only).
    Prefix(String),
    /// Addresses inside this network.
    Network(IpNet),
}

impl AddressFilter {
    /// Reads a filter as typed; the error says what is accepted ("an address …, not …").
    pub fn parse(text: &str) -> Result<AddressFilter, String> {
        let text = text.trim();
        let refused = || {
            format!(
                "an address (203.0.113.7), the start of one (10.1.) or a network \
                 (10.0.0.0/8, 2001:db8::/32), not {text:?}"
            )
        };
        if text.contains('/') {
            return text
                .parse::<IpNet>()
                .map(|net| AddressFilter::Network(net.trunc()))
                .map_err(|_| refused());
        }
        if let Ok(address) = text.parse::<IpAddr>() {
            return Ok(AddressFilter::Exact(address.to_string()));
        }
        let allowed = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
        if text.is_empty() || !text.chars().all(allowed) {
            return Err(refused());
        }
        Ok(AddressFilter::Prefix(text.to_ascii_lowercase()))
    }

    /// The text every address the filter matches begins with: what the stores' address
    /// indexes are searched by before [`AddressFilter::matches`] judges each address found.
    /// A network's is its whole leading octets (IPv4), or its first group when that is not
    /// zero (IPv6, whose text may shorten any later run of zeros).
    pub fn text_prefix(&self) -> String {
        match self {
            AddressFilter::Exact(address) => address.clone(),
            AddressFilter::Prefix(prefix) => prefix.clone(),
            AddressFilter::Network(IpNet::V4(net)) => {
                let whole = usize::from(net.prefix_len() / 8);
                let octets = net.network().octets();
                octets[..whole].iter().map(|o| format!("{o}.")).collect()
            }
            AddressFilter::Network(IpNet::V6(net)) => {
                let first = net.network().segments()[0];
                if net.prefix_len() >= 16 && first != 0 {
                    format!("{first:x}:")
                } else {
                    String::new()
                }
            }
        }
    }

    /// Whether `address` is one the filter asks for.
    pub fn matches(&self, address: &str) -> bool {
        match self {
            AddressFilter::Exact(exact) => address == exact,
            AddressFilter::Prefix(prefix) => address.starts_with(prefix.as_str()),
            AddressFilter::Network(net) => address
                .parse::<IpAddr>()
                .is_ok_and(|address| net.contains(&address)),
        }
    }

    /// Whether the session was created from, or last used from, an address the filter asks for.
    pub fn matches_session(&self, session: &Session) -> bool {
        self.matches(&session.ip_address) || self.matches(&session.last_ip_address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> AddressFilter {
        AddressFilter::parse(text).unwrap()
    }

    #[test]
    fn addresses_prefixes_and_networks_are_told_apart() {
        assert_eq!(
            parsed(" 10.0.0.1 "),
            AddressFilter::Exact("10.0.0.1".into())
        );
        assert_eq!(
            parsed("2001:DB8::1"),
            AddressFilter::Exact("2001:db8::1".into())
        );
        assert_eq!(parsed("10.1."), AddressFilter::Prefix("10.1.".into()));
        assert_eq!(
            parsed("2001:DB8:"),
            AddressFilter::Prefix("2001:db8:".into())
        );
        assert_eq!(
            parsed("10.1.2.3/8"),
            AddressFilter::Network("10.0.0.0/8".parse().unwrap())
        );
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "abc/8",
            "evil'--",
            "10.0.0.1 or 1=1",
            "",
        ] {
            let error = AddressFilter::parse(bad).unwrap_err();
            assert!(error.contains("10.0.0.0/8"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn every_match_begins_with_the_text_prefix() {
        let cases = [
            (
                "10.0.0.0/8",
                "10.",
                &["10.0.0.1", "10.255.1.1"][..],
                &["11.0.0.1", "1.10.0.0"][..],
            ),
            (
                "10.16.0.0/12",
                "10.",
                &["10.16.0.1", "10.31.9.9"],
                &["10.32.0.1", "10.15.0.1"],
            ),
            ("10.1.2.0/24", "10.1.2.", &["10.1.2.200"], &["10.1.20.1"]),
            ("0.0.0.0/0", "", &["192.0.2.1"], &["2001:db8::1"]),
            (
                "2001:db8::/32",
                "2001:",
                &["2001:db8::1", "2001:db8:0:1::5"],
                &["2001:db9::1", "10.0.0.1"],
            ),
            ("::/0", "", &["::1", "2001:db8::1"], &["10.0.0.1"]),
            ("10.1.", "10.1.", &["10.1.0.1"], &["10.10.0.1", "10.2.0.1"]),
            ("192.0.2.7", "192.0.2.7", &["192.0.2.7"], &["192.0.2.70"]),
        ];
        for (filter, prefix, inside, outside) in cases {
            let filter = parsed(filter);
            assert_eq!(filter.text_prefix(), prefix, "{filter:?}");
            for address in inside {
                assert!(filter.matches(address), "{filter:?} {address}");
                assert!(address.starts_with(prefix), "{filter:?} {address}");
            }
            for address in outside {
                assert!(!filter.matches(address), "{filter:?} {address}");
            }
        }
    }
}
