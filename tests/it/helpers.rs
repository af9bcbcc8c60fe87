//! Spawning the real server on a random loopback port over a temporary SQLite file.

use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sessiond::config::Settings;
use sessiond::domain::password::Password;
use sessiond::domain::session::Session;
use sessiond::domain::time::SystemClock;
use sessiond::domain::time::Timestamp;
use sessiond::domain::token::{SecretToken, new_public_id};
use sessiond::domain::user_agent::DeviceType;
use sessiond::http::{AppState, Application};
use sessiond::service::users::CreateUser;
use sessiond::service::{Policy, Service};
use sessiond::store::SessionLimit;
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";
pub const FIREFOX_UBUNTU: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
pub const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub struct TestServer {
    pub base: String,
    pub service: Arc<Service>,
    pub db_path: PathBuf,
    _dir: TempDir,
}

/// Starts a server with default settings changed by `configure`.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("sessiond.db");
    let mut settings = Settings::default();
    let url = format!("sqlite://{}", db_path.display());
    settings.storage.sessions = url.clone();
    settings.storage.directory = url;
    settings.server.listen = "127.0.0.1:0".into();
    configure(&mut settings);
    let app = Application::bind(&settings.server.listen).await.unwrap();
    let address = app.local_addr().unwrap();
    settings.server.public_url = format!("http://{address}");
    let stores = sessiond::store::open(&settings.storage).await.unwrap();
    let service = Arc::new(Service::new(
        stores,
        Arc::new(SystemClock),
        Policy::from_settings(&settings),
    ));
    let state = AppState::new(service.clone(), &settings);
    tokio::spawn(app.run(state, std::future::pending()));
    TestServer {
        base: format!("http://{address}"),
        service,
        db_path,
        _dir: dir,
    }
}

pub async fn spawn() -> TestServer {
    spawn_with(|_| {}).await
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a user with [`PASSWORD`] straight through the service.
    pub async fn create_user(&self, username: &str, admin: bool) -> i64 {
        let request = CreateUser {
            username: username.into(),
            email: format!("{username}@example.com"),
            name: Some(format!("{username} Example")),
            is_admin: admin,
            is_bot: false,
            password: Some(Password::new(PASSWORD)),
        };
        self.service
            .create_user(request, &"test".into())
            .await
            .unwrap()
            .user
            .id
    }

    /// A browser-like client with its own cookie jar; redirects are not followed.
    pub fn browser(&self, user_agent: &str) -> Browser {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .unwrap();
        Browser {
            client,
            base: self.base.clone(),
        }
    }

    /// Opens the SQLite file the server uses, to look at what is really stored.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db_path).unwrap()
    }
}

pub struct Browser {
    pub client: Client,
    pub base: String,
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login_as(&self, login: &str, password: &str, remember_me: bool) -> Response {
        self.client
            .post(self.url("/api/login"))
            .json(&json!({"login": login, "password": password, "remember_me": remember_me}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and asserts it worked; returns the login response's JSON.
    pub async fn login(&self, login: &str) -> Value {
        let response = self.login_as(login, PASSWORD, false).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn session_status(&self) -> StatusCode {
        self.get("/api/session").await.status()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client.delete(self.url(path)).send().await.unwrap()
    }

    /// Posts a form; redirects are not followed.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn logout(&self) -> Response {
        self.client
            .post(self.url("/api/logout"))
            .send()
            .await
            .unwrap()
    }
}

/// The `error.code` of a JSON error body.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
}

/// The value of `name=...` among a response's Set-Cookie headers.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The hidden CSRF field of a page.
pub fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Taken by tests that time themselves or load the CPU hard (a browser), so that on a small
/// machine one does not skew the other's measurements.
static QUIET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn quiet_machine() -> tokio::sync::MutexGuard<'static, ()> {
    QUIET.lock().await
}

/// Reports a missing external service: a notice and the test skips, or under
/// `SESSIOND_REQUIRE_SERVICES=1` (as `.ci/run` sets) a failure.
pub fn missing_service(what: &str) {
    if std::env::var("SESSIOND_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("{what} not available, and SESSIOND_REQUIRE_SERVICES=1 says to fail");
    }
    eprintln!(
        "notice: skipping, {what} not available (set SESSIOND_REQUIRE_SERVICES=1 to fail instead)"
    );
}

/// Stores `count` sessions for a user straight into the real store, each a millisecond apart.
pub async fn seed_sessions(
    server: &TestServer,
    user_id: i64,
    username: &str,
    count: usize,
    ip: &str,
) {
    let now = server.service.now();
    let unlimited = SessionLimit {
        max_per_user: u32::MAX,
        evict_oldest: false,
    };
    for i in 0..count {
        let at = Timestamp(now.millis() - i as i64);
        let session = Session {
            id: new_public_id(),
            token_hash: SecretToken::generate().hash(),
            user_id,
            username: username.into(),
            ip_address: ip.into(),
            user_agent: FIREFOX_UBUNTU.into(),
            browser: "Firefox".into(),
            os: "Ubuntu".into(),
            device_type: DeviceType::Desktop,
            created_at: at,
            last_active_at: at,
            expires_at: Timestamp(at.millis() + 3_600_000),
            absolute_expires_at: Timestamp(at.millis() + 3_600_000),
            remember_me: false,
        };
        server
            .service
            .sessions
            .create(&session, unlimited, now)
            .await
            .unwrap();
    }
}

/// Signs in a new administrator `root` in a browser of its own.
pub async fn admin_browser(server: &TestServer) -> Browser {
    server.create_user("root", true).await;
    let admin = server.browser(FIREFOX_UBUNTU);
    admin.login("root").await;
    admin
}
