//! Settings: defaults (docs/reference.md), then a TOML file, then `SESSIOND_<SECTION>__<KEY>`
//! variables.

use crate::domain::duration::HumanDuration;
use crate::domain::password::MAX_LENGTH;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub sessions: SessionSettings,
    pub login: LoginSettings,
    pub alarms: AlarmSettings,
    pub server: ServerSettings,
    pub storage: StorageSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLimit {
    Reject,
    EvictOldest,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    pub idle_timeout: HumanDuration,
    pub absolute_lifetime: HumanDuration,
    pub max_per_user: u32,
    pub on_limit: OnLimit,
    /// Unset: [`DEFAULT_ACTIVITY_WRITE_INTERVAL`], or half the idle timeout when shorter;
    /// read through [`SessionSettings::activity_write_interval`].
    pub activity_write_interval: Option<HumanDuration>,
    pub remember_me_lifetime: HumanDuration,
    pub check_cache_capacity: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    pub password_min_length: usize,
    pub lockout_threshold: u32,
    pub lockout_duration: HumanDuration,
    /// Failed sign-ins from one client address within the window before it is refused; 0 never.
    pub address_failures: u32,
    pub address_window: HumanDuration,
    /// Failed sign-ins at one account, from any address, within the window before it is
    /// refused; 0 never.
    pub account_failures: u32,
    pub account_window: HumanDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmSettings {
    pub ip_spread_threshold: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: String,
    /// Where `/metrics` is served, alone and without credentials; unset, the main listener
    /// serves it to administrators.
    pub metrics_listen: Option<String>,
    pub public_url: String,
    pub trusted_proxies: Vec<IpNet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    pub sessions: String,
    pub directory: String,
}

fn minutes(n: u64) -> HumanDuration {
    HumanDuration(Duration::from_secs(n * 60))
}

/// How often a session's last activity is written at most, unless set or the idle timeout
/// asks for less.
pub const DEFAULT_ACTIVITY_WRITE_INTERVAL: Duration = Duration::from_secs(60);

impl SessionSettings {
    /// How often a session's last activity is written at most. Never more than half the idle
    /// timeout, so a session used at least that often is written before it idles out: its
    /// expiry is judged by the stored activity, which lags the true one by up to this much.
    pub fn activity_write_interval(&self) -> Duration {
        match self.activity_write_interval {
            Some(set) => set.0,
            None => DEFAULT_ACTIVITY_WRITE_INTERVAL.min(self.idle_timeout.0 / 2),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_timeout: minutes(60),
            absolute_lifetime: minutes(24 * 60),
            max_per_user: 10,
            on_limit: OnLimit::Reject,
            activity_write_interval: None,
            remember_me_lifetime: minutes(14 * 24 * 60),
            check_cache_capacity: 65_536,
        }
    }
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            password_min_length: 12,
            lockout_threshold: 10,
            lockout_duration: minutes(15),
            address_failures: 20,
            address_window: minutes(10),
            account_failures: 30,
            account_window: minutes(60),
        }
    }
}

impl Default for AlarmSettings {
    fn default() -> Self {
        AlarmSettings {
            ip_spread_threshold: 4,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            public_url: "http://localhost:8080".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            sessions: "sqlite://sessiond.db".into(),
            directory: "sqlite://sessiond.db".into(),
        }
    }
}

const ENV_PREFIX: &str = "SESSIOND_";

impl Settings {
    /// Loads `file` (or `./sessiond.toml` when present), then applies environment overrides.
    pub fn load(file: Option<&Path>) -> Result<Settings, String> {
        let default_file = Path::new("sessiond.toml");
        let text = match file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            None if default_file.exists() => std::fs::read_to_string(default_file)
                .map_err(|e| format!("cannot read sessiond.toml: {e}"))?,
            None => String::new(),
        };
        Settings::from_sources(&text, std::env::vars())
    }

    /// Builds settings from TOML text and `(name, value)` environment pairs.
    pub fn from_sources(
        toml_text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, String> {
        let mut table: toml::Table = toml::from_str(toml_text).map_err(|e| {
            let line = e.span().map_or(0, |span| line_at(toml_text, span.start).0);
            format!(
                "bad configuration file, line {line}: {}",
                e.message().trim()
            )
        })?;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            // Only SECTION__KEY names are settings; others (e.g. SESSIOND_REQUIRE_SERVICES) are not.
            let Some((section, key)) = rest.split_once("__") else {
                continue;
            };
            let section_table = table
                .entry(section.to_lowercase())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| format!("{name}: [{}] is not a section", section.to_lowercase()))?;
            section_table.insert(key.to_lowercase(), env_value(&value));
        }
        // Read back from text, so that an error's position names the setting it is about.
        let text = toml::to_string(&table).map_err(|e| format!("bad configuration: {e}"))?;
        let settings: Settings = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim();
            match e.span().map(|span| setting_at(&text, span.start)) {
                Some(setting) => format!("{setting}: {message}"),
                None => format!("bad configuration: {message}"),
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        let s = &self.sessions;
        if s.idle_timeout.0.is_zero() || s.absolute_lifetime.0.is_zero() {
            return Err(
                "sessions.idle_timeout and sessions.absolute_lifetime must be above 0".into(),
            );
        }
        if let Some(interval) = &s.activity_write_interval
            && interval.0 > s.idle_timeout.0 / 2
        {
            return Err(format!(
                "sessions.activity_write_interval ({interval}) must be at most half of \
                 sessions.idle_timeout ({}), or sessions in use would idle out before their \
                 activity is written; leave it unset to have it chosen",
                s.idle_timeout
            ));
        }
        for (setting, duration) in [
            (
                "sessions.remember_me_lifetime",
                Some(&s.remember_me_lifetime),
            ),
            (
                "sessions.activity_write_interval",
                s.activity_write_interval.as_ref(),
            ),
            ("login.lockout_duration", Some(&self.login.lockout_duration)),
        ] {
            if duration.is_some_and(|d| d.0.is_zero()) {
                return Err(format!("{setting} must be above 0"));
            }
        }
        if s.max_per_user == 0 {
            return Err("sessions.max_per_user must be at least 1".into());
        }
        if !(8..=MAX_LENGTH).contains(&self.login.password_min_length) {
            return Err(format!(
                "login.password_min_length = {} must be from 8 to {MAX_LENGTH}, the longest \
                 password accepted",
                self.login.password_min_length
            ));
        }
        if self.login.lockout_threshold == 0 {
            return Err("login.lockout_threshold must be at least 1".into());
        }
        if let Err(error) = self.server.listen.to_socket_addrs() {
            return Err(format!(
                "server.listen = {:?} is not an address to listen on (HOST:PORT): {error}",
                self.server.listen
            ));
        }
        if self.login.address_window.0.is_zero() || self.login.account_window.0.is_zero() {
            return Err("login.address_window and login.account_window must be above 0".into());
        }
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return Err(format!(
                "server.public_url = {:?} must start with http:// or https://",
                self.server.public_url
            ));
        }
        Ok(())
    }
}

/// The line of `text` holding byte `offset`: its number (from 1) and its text.
fn line_at(text: &str, offset: usize) -> (usize, &str) {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    (text[..start].matches('\n').count() + 1, line)
}

/// The setting (`section.key`, or a section) written at byte `offset` of TOML `text` as
/// `toml::to_string` writes a table: one `[section]` header, then its `key = value` lines.
fn setting_at(text: &str, offset: usize) -> String {
    let (number, line) = line_at(text, offset);
    let header = |line: &str| {
        let name = line.trim().strip_prefix('[')?.strip_suffix(']')?;
        Some(name.trim().to_owned())
    };
    if let Some(section) = header(line) {
        return section;
    }
    let key = line.split('=').next().unwrap_or("").trim();
    let section = text.lines().take(number).filter_map(header).last();
    match section {
        Some(section) => format!("{section}.{key}"),
        None => key.to_owned(),
    }
}

/// An environment value read as TOML when it is one (numbers, booleans, arrays), else as a string.
fn env_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_reference() {
        let s = Settings::from_sources("", env(&[])).unwrap();
        assert_eq!(s.sessions.idle_timeout.0.as_secs(), 3600);
        assert_eq!(s.sessions.absolute_lifetime.0.as_secs(), 86_400);
        assert_eq!(s.sessions.max_per_user, 10);
        assert_eq!(s.sessions.on_limit, OnLimit::Reject);
        assert_eq!(s.sessions.activity_write_interval().as_secs(), 60);
        assert_eq!(s.sessions.remember_me_lifetime.0.as_secs(), 14 * 86_400);
        assert_eq!(s.login.password_min_length, 12);
        assert_eq!(s.login.lockout_threshold, 10);
        assert_eq!(s.login.lockout_duration.0.as_secs(), 900);
        assert_eq!(s.login.address_failures, 20);
        assert_eq!(s.login.address_window.0.as_secs(), 600);
        assert_eq!(s.login.account_failures, 30);
        assert_eq!(s.login.account_window.0.as_secs(), 3600);
        assert_eq!(s.alarms.ip_spread_threshold, 4);
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert_eq!(s.server.metrics_listen, None);
        assert_eq!(s.server.public_url, "http://localhost:8080");
        assert!(s.server.trusted_proxies.is_empty());
        assert_eq!(s.storage.sessions, "sqlite://sessiond.db");
        assert_eq!(s.storage.directory, "sqlite://sessiond.db");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let file = "[sessions]\nidle_timeout = \"10m\"\non_limit = \"evict_oldest\"\n";
        let s = Settings::from_sources(
            file,
            env(&[
                ("SESSIOND_SESSIONS__IDLE_TIMEOUT", "1h30m"),
                ("SESSIOND_SERVER__LISTEN", "127.0.0.1:9000"),
                ("SESSIOND_SESSIONS__MAX_PER_USER", "3"),
                ("SESSIOND_SERVER__TRUSTED_PROXIES", "[\"10.0.0.0/8\"]"),
                ("SESSIOND_REQUIRE_SERVICES", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(s.sessions.idle_timeout.0.as_secs(), 5400);
        assert_eq!(s.sessions.on_limit, OnLimit::EvictOldest);
        assert_eq!(s.sessions.max_per_user, 3);
        assert_eq!(s.server.listen, "127.0.0.1:9000");
        assert_eq!(s.server.trusted_proxies.len(), 1);
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(Settings::from_sources("[sessions]\nidle_timeuot = \"1m\"", env(&[])).is_err());
        assert!(Settings::from_sources("[sessions]\nidle_timeout = \"1x\"", env(&[])).is_err());
        assert!(
            Settings::from_sources("", env(&[("SESSIOND_SESSIONS__MAX_PER_USER", "0")])).is_err()
        );
    }

    #[test]
    fn a_mistyped_value_is_named_by_its_setting_in_one_line() {
        let from_env = Settings::from_sources(
            "[login]\nlockout_threshold = 3\n",
            env(&[("SESSIOND_SESSIONS__MAX_PER_USER", "ten")]),
        )
        .unwrap_err();
        assert!(
            from_env.starts_with("sessions.max_per_user: "),
            "{from_env}"
        );
        let from_file =
            Settings::from_sources("[alarms]\nip_spread_threshold = true\n", env(&[])).unwrap_err();
        assert!(
            from_file.starts_with("alarms.ip_spread_threshold: "),
            "{from_file}"
        );
        let broken = Settings::from_sources("[login\n", env(&[])).unwrap_err();
        assert!(
            broken.starts_with("bad configuration file, line 1: "),
            "{broken}"
        );
        for message in [from_env, from_file, broken] {
            assert_eq!(message.lines().count(), 1, "{message}");
        }
    }

    #[test]
    fn the_activity_write_interval_stays_within_half_the_idle_timeout() {
        let read = |file: &str| Settings::from_sources(file, env(&[]));
        let interval = |file: &str| read(file).unwrap().sessions.activity_write_interval();
        assert_eq!(interval("").as_secs(), 60);
        assert_eq!(interval("[sessions]\nidle_timeout = \"30s\"").as_secs(), 15);
        assert_eq!(
            interval("[sessions]\nidle_timeout = \"30s\"\nactivity_write_interval = \"15s\"")
                .as_secs(),
            15
        );
        let refused = read("[sessions]\nidle_timeout = \"30s\"\nactivity_write_interval = \"60s\"")
            .unwrap_err();
        assert!(
            refused.contains("sessions.activity_write_interval (1m)"),
            "{refused}"
        );
        assert!(refused.contains("sessions.idle_timeout (30s)"), "{refused}");
    }
}
