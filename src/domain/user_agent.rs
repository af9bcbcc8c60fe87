//! What a User-Agent header says about the device: browser, OS and device type.
//!
//! Parsed with `woothee`: a maintained, dependency-light parser whose rules are shared
//! with its Java, Ruby and Python siblings, and which needs no regex database at start-up.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    Desktop,
    Smartphone,
    Tablet,
    Bot,
    Other,
}

impl DeviceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Desktop => "desktop",
            DeviceType::Smartphone => "smartphone",
            DeviceType::Tablet => "tablet",
            DeviceType::Bot => "bot",
            DeviceType::Other => "other",
        }
    }

    pub fn parse(text: &str) -> DeviceType {
        match text {
            "desktop" => DeviceType::Desktop,
            "smartphone" => DeviceType::Smartphone,
            "tablet" => DeviceType::Tablet,
            "bot" => DeviceType::Bot,
            _ => DeviceType::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub browser: String,
    pub os: String,
    pub device_type: DeviceType,
}

const UNKNOWN: &str = "Unknown";

pub fn parse(user_agent: &str) -> Device {
    let Some(result) = woothee::parser::Parser::new().parse(user_agent) else {
        return Device {
            browser: UNKNOWN.into(),
            os: UNKNOWN.into(),
            device_type: DeviceType::Other,
        };
    };
    let known = |value: &str| (value != "UNKNOWN" && !value.is_empty()).then(|| value.to_owned());
    let browser = known(result.name).unwrap_or_else(|| UNKNOWN.into());
    let os = os_name(user_agent, result.os).unwrap_or_else(|| UNKNOWN.into());
    let device_type = match result.category {
        "crawler" => DeviceType::Bot,
        "pc" => DeviceType::Desktop,
        "smartphone" | "mobilephone" if is_tablet(user_agent) => DeviceType::Tablet,
        "smartphone" | "mobilephone" => DeviceType::Smartphone,
        _ => DeviceType::Other,
    };
    Device {
        browser,
        os,
        device_type,
    }
}

/// woothee reports iPads and Android tablets as smartphones; tell them apart.
fn is_tablet(user_agent: &str) -> bool {
    user_agent.contains("iPad")
        || user_agent.contains("Tablet")
        || (user_agent.contains("Android") && !user_agent.contains("Mobile"))
}

/// Names people recognise: "Ubuntu" rather than "Linux", "macOS" rather than "Mac OSX".
fn os_name(user_agent: &str, woothee_os: &str) -> Option<String> {
    let name = match woothee_os {
        "Linux" if user_agent.contains("Ubuntu") => "Ubuntu",
        "Mac OSX" => "macOS",
        "iPad" | "iPhone" | "iPod" => "iOS",
        "UNKNOWN" | "" => return None,
        other => other,
    };
    Some(name.to_owned())
}

/// What a User-Agent told of a device, for naming it: the pages put it into the reader's
/// language, `Display` into English for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceName<'a> {
    /// "Firefox on Ubuntu".
    BrowserOn { browser: &'a str, os: &'a str },
    /// "Firefox".
    Browser(&'a str),
    /// "Unknown browser on Ubuntu".
    UnknownBrowserOn(&'a str),
    /// "Unknown device".
    Unknown,
}

impl<'a> DeviceName<'a> {
    /// The name of the device with this browser and OS, leaving out what the User-Agent did
    /// not tell.
    pub fn of(browser: &'a str, os: &'a str) -> DeviceName<'a> {
        let known = |name: &str| name != UNKNOWN && !name.is_empty();
        match (known(browser), known(os)) {
            (true, true) => DeviceName::BrowserOn { browser, os },
            (true, false) => DeviceName::Browser(browser),
            (false, true) => DeviceName::UnknownBrowserOn(os),
            (false, false) => DeviceName::Unknown,
        }
    }
}

impl std::fmt::Display for DeviceName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceName::BrowserOn { browser, os } => write!(f, "{browser} on {os}"),
            DeviceName::Browser(browser) => f.write_str(browser),
            DeviceName::UnknownBrowserOn(os) => write!(f, "Unknown browser on {os}"),
            DeviceName::Unknown => f.write_str("Unknown device"),
        }
    }
}

/// "Firefox on Ubuntu", in English.
pub fn device_name(browser: &str, os: &str) -> String {
    DeviceName::of(browser, os).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX_UBUNTU: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn recognises_common_devices() {
        let firefox = parse(FIREFOX_UBUNTU);
        assert_eq!(
            (firefox.browser.as_str(), firefox.os.as_str()),
            ("Firefox", "Ubuntu")
        );
        assert_eq!(firefox.device_type, DeviceType::Desktop);
        let chrome = parse(CHROME_ANDROID);
        assert_eq!(
            (chrome.browser.as_str(), chrome.os.as_str()),
            ("Chrome", "Android")
        );
        assert_eq!(chrome.device_type, DeviceType::Smartphone);
        let safari = parse(SAFARI_IPAD);
        assert_eq!(
            (safari.browser.as_str(), safari.os.as_str()),
            ("Safari", "iOS")
        );
        assert_eq!(safari.device_type, DeviceType::Tablet);
    }

    #[test]
    fn bots_and_garbage() {
        let bot = parse("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        assert_eq!(bot.device_type, DeviceType::Bot);
        let curl = parse("curl/8.5.0");
        assert_eq!(curl.device_type, DeviceType::Other);
        assert_eq!(parse("").browser, "Unknown");
    }

    #[test]
    fn device_names_leave_out_the_unknown() {
        assert_eq!(device_name("Firefox", "Ubuntu"), "Firefox on Ubuntu");
        assert_eq!(device_name("Firefox", "Unknown"), "Firefox");
        assert_eq!(device_name("Unknown", "Linux"), "Unknown browser on Linux");
        assert_eq!(device_name("Unknown", "Unknown"), "Unknown device");
    }
}
