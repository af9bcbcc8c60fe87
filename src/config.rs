//! Settings: defaults (docs/reference.md), then a TOML file, then `SESSIOND_<SECTION>__<KEY>`
//! variables.

use crate::domain::duration::HumanDuration;
use ipnet::IpNet;
use serde::Deserialize;
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
        let mut table: toml::Table =
            toml::from_str(toml_text).map_err(|e| format!("bad configuration file: {e}"))?;
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
        let settings: Settings = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| format!("bad configuration: {}", e.message()))?;
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
        if s.max_per_user == 0 {
            return Err("sessions.max_per_user must be at least 1".into());
        }
        if self.login.password_min_length < 8 {
            return Err("login.password_min_length must be at least 8".into());
        }
        if self.login.lockout_threshold == 0 {
            return Err("login.lockout_threshold must be at least 1".into());
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
