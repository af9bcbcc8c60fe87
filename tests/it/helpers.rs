//! Spawning the real server on a random loopback port over a temporary SQLite file.

use crate::browser::Chromium;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
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
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";
pub const WRONG_PASSWORD: &str = "wrong password here";
pub const FIREFOX_UBUNTU: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
pub const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

pub struct TestServer {
    pub base: String,
    /// `http://ADDRESS` of `server.metrics_listen`, when set.
    pub metrics_base: Option<String>,
    pub service: Arc<Service>,
    pub db_path: PathBuf,
    _dir: TempDir,
}

/// Starts a server with default settings changed by `configure`; the public URL is the
/// server's own address unless `configure` sets another.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
    spawn_with_policy(configure, |_| {}).await
}

/// [`spawn_with`], with the service's policy `adjust`ed once read from the settings: for
/// rules no setting reaches, such as the remember-me reuse grace.
pub async fn spawn_with_policy(
    configure: impl FnOnce(&mut Settings),
    adjust: impl FnOnce(&mut Policy),
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("sessiond.db");
    let mut settings = Settings::default();
    let url = format!("sqlite://{}", db_path.display());
    settings.storage.sessions = url.clone();
    settings.storage.directory = url;
    settings.server.listen = "127.0.0.1:0".into();
    configure(&mut settings);
    let app = Application::bind(&settings.server).await.unwrap();
    let address = app.local_addr().unwrap();
    let metrics_base = app
        .metrics_addr()
        .map(|metrics| format!("http://{}", metrics.unwrap()));
    if settings.server.public_url == Settings::default().server.public_url {
        settings.server.public_url = format!("http://{address}");
    }
    let stores = sessiond::store::open(&settings.storage).await.unwrap();
    let mut policy = Policy::from_settings(&settings);
    adjust(&mut policy);
    let service = Arc::new(Service::new(stores, Arc::new(SystemClock), policy));
    let state = AppState::new(service.clone(), &settings);
    tokio::spawn(app.run(state, std::future::pending()));
    TestServer {
        base: format!("http://{address}"),
        metrics_base,
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
        self.create_user_with(username, admin, PASSWORD).await
    }

    /// Adds a user with `password` straight through the service.
    pub async fn create_user_with(&self, username: &str, admin: bool, password: &str) -> i64 {
        let request = CreateUser {
            username: username.into(),
            email: format!("{username}@example.com"),
            name: Some(format!("{username} Example")),
            is_admin: admin,
            is_bot: false,
            password: Some(Password::new(password)),
            must_change_password: false,
            reuse_deleted_username: false,
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

    /// Blocks a user straight through the service.
    pub async fn block(&self, username: &str) {
        let user = self.service.find_user(username).await.unwrap();
        self.service
            .block_user(&user, &"test".into())
            .await
            .unwrap();
    }

    /// A new browser signed in as `login` with [`PASSWORD`].
    pub async fn signed_in(&self, user_agent: &str, login: &str) -> Browser {
        let browser = self.browser(user_agent);
        browser.login(login).await;
        browser
    }

    /// A client with no cookie jar and no user agent, as a script calls the API.
    pub fn plain(&self) -> Browser {
        Browser {
            client: Client::new(),
            base: self.base.clone(),
        }
    }

    /// A client that sends `token` as its bearer credential.
    pub fn bearer(&self, token: &str) -> Bearer {
        Bearer::new(&self.base, token)
    }

    /// A client with a new admin API token named `name`.
    pub async fn admin_token(&self, name: &str) -> Bearer {
        let (_, secret) = self
            .service
            .create_api_token(name, &"test".into())
            .await
            .unwrap();
        self.bearer(secret.expose())
    }

    /// The status of `GET /api/session` for a client carrying only the cookie `name=value`.
    pub async fn status_with_cookie(&self, name: &str, value: &str) -> StatusCode {
        self.plain()
            .client
            .get(self.url("/api/session"))
            .header("cookie", format!("{name}={value}"))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Opens the SQLite file the server uses, to look at what is really stored.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db_path).unwrap()
    }

    /// The one value `sql` reads from the server's SQLite file.
    pub fn query_one<T: rusqlite::types::FromSql>(&self, sql: &str) -> T {
        self.db().query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// The folder of the server's SQLite file, where the binary finds the same store.
    pub fn dir(&self) -> &Path {
        self.db_path.parent().unwrap()
    }

    /// Runs the binary on the server's store.
    pub fn cli(&self, args: &[&str]) -> Output {
        crate::cli::run(self.dir(), args)
    }

    /// Runs the binary on the server's store and asserts it exited 0; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        let text = crate::cli::text;
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
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

    /// A `POST /api/login` not yet sent, for a caller to add headers to.
    pub fn login_request(&self, login: &str, password: &str, remember_me: bool) -> RequestBuilder {
        self.client
            .post(self.url("/api/login"))
            .json(&json!({"login": login, "password": password, "remember_me": remember_me}))
    }

    pub async fn login_as(&self, login: &str, password: &str, remember_me: bool) -> Response {
        let request = self.login_request(login, password, remember_me);
        request.send().await.unwrap()
    }

    /// Signs in and asserts it worked; returns the login response's JSON.
    pub async fn login(&self, login: &str) -> Value {
        let response = self.login_as(login, PASSWORD, false).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Signs in with "Remember me" and asserts it worked; returns the response for its cookies.
    pub async fn login_remembered(&self, login: &str) -> Response {
        let response = self.login_as(login, PASSWORD, true).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response
    }

    /// Signs in and asserts it worked; returns the session's bearer token.
    pub async fn login_token(&self, login: &str) -> String {
        let body = self.login(login).await;
        body["token"].as_str().unwrap().to_owned()
    }

    /// Signs in and asserts it worked; returns the new session's id.
    pub async fn login_session_id(&self, login: &str) -> String {
        let body = self.login(login).await;
        body["session"]["id"].as_str().unwrap().to_owned()
    }

    /// Signs in with [`PASSWORD`] from `ip`, as a trusted proxy forwards it.
    pub async fn login_from(&self, login: &str, ip: &str) -> Response {
        let request = self.login_request(login, PASSWORD, false);
        request.header("x-forwarded-for", ip).send().await.unwrap()
    }

    /// A sign-in with [`WRONG_PASSWORD`], which counts against the user.
    pub async fn fail_login(&self, login: &str) -> Response {
        self.login_as(login, WRONG_PASSWORD, false).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// `GET path`: the status and the JSON body (`Null` when there is none).
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A `POST` with no body.
    pub async fn post(&self, path: &str) -> Response {
        self.client.post(self.url(path)).send().await.unwrap()
    }

    pub async fn session_status(&self) -> StatusCode {
        self.get("/api/session").await.status()
    }

    /// A request with `body` as JSON.
    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.client
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.send_json(Method::POST, path, body).await
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

/// A client without cookies that sends a token as its bearer credential.
pub struct Bearer {
    client: Client,
    base: String,
    token: String,
}

impl Bearer {
    /// A client of the node at `base`.
    pub fn new(base: &str, token: &str) -> Bearer {
        Bearer {
            client: Client::new(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    pub async fn send(&self, method: Method, path: &str) -> Response {
        let url = format!("{}{path}", self.base);
        let request = self.client.request(method, url).bearer_auth(&self.token);
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        let url = format!("{}{path}", self.base);
        let request = self.client.post(url).bearer_auth(&self.token).json(body);
        request.send().await.unwrap()
    }

    /// The status of the forward-auth check, `GET /api/session`.
    pub async fn session_status(&self) -> StatusCode {
        self.get("/api/session").await.status()
    }

    /// The status of `POST /api/logout`.
    pub async fn logout(&self) -> StatusCode {
        self.send(Method::POST, "/api/logout").await.status()
    }
}

/// Asserts an error answer's status and `error.code`; returns its `error.message`.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> String {
    let url = response.url().clone();
    assert_eq!(response.status(), status, "{url}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{url}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// Asserts a 303 and returns where it points.
pub fn redirect_target(response: &Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.url()
    );
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Asserts a 303 to exactly `location`.
pub fn assert_is_redirect_to(response: &Response, location: &str) {
    assert_eq!(redirect_target(response), location);
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
    for i in 0..count {
        let at = Timestamp(now.millis() - i as i64);
        seed_session_at(server, user_id, username, ip, at, at).await;
    }
}

/// Puts one session of `username` from Firefox on Ubuntu at `ip` straight into the store,
/// signed in at `created` and last active at `last_active`, expiring an hour after that.
pub async fn seed_session_at(
    server: &TestServer,
    user_id: i64,
    username: &str,
    ip: &str,
    created: Timestamp,
    last_active: Timestamp,
) {
    let unlimited = SessionLimit {
        max_per_user: u32::MAX,
        evict_oldest: false,
    };
    let session = Session {
        id: new_public_id(),
        token_hash: SecretToken::generate().hash(),
        user_id,
        username: username.into(),
        ip_address: ip.into(),
        last_ip_address: ip.into(),
        user_agent: FIREFOX_UBUNTU.into(),
        browser: "Firefox".into(),
        os: "Ubuntu".into(),
        device_type: DeviceType::Desktop,
        created_at: created,
        last_active_at: last_active,
        expires_at: Timestamp(last_active.millis() + 3_600_000),
        absolute_expires_at: Timestamp(last_active.millis() + 3_600_000),
        remember_me: false,
    };
    let now = server.service.now();
    server
        .service
        .sessions
        .create(&session, unlimited, now)
        .await
        .unwrap();
}

/// Signs in a new administrator `root` in a browser of its own.
pub async fn admin_browser(server: &TestServer) -> Browser {
    server.create_user("root", true).await;
    server.signed_in(FIREFOX_UBUNTU, "root").await
}

/// Signs in through the login form Chromium shows, then waits until it lands on `url`.
pub async fn sign_in_with_chromium(chromium: &Chromium, login: &str, url: &str) {
    chromium
        .type_into(&chromium.find("#login").await, login)
        .await;
    let password = chromium.find("#password").await;
    chromium.type_into(&password, PASSWORD).await;
    chromium.click(&chromium.find("button.primary").await).await;
    let landed = async || chromium.current_url().await == url;
    chromium
        .wait_for(&format!("{url} after signing in"), landed)
        .await;
}

/// Asserts the open confirmation asks about `question`, accepts it and waits for the page's
/// banner; returns the banner's text.
pub async fn confirm_and_read_banner(chromium: &Chromium, question: &str) -> String {
    let dialog = chromium.dialog_text().await;
    assert!(dialog.contains(question), "{dialog}");
    chromium.accept_dialog().await;
    let shown = async || !chromium.find_all(".alert-ok").await.is_empty();
    chromium.wait_for("the banner", shown).await;
    chromium.text(&chromium.find(".alert-ok").await).await
}

/// Whether a `<script>` written into the page (as an injection would) runs there.
pub async fn inline_script_runs(chromium: &Chromium) -> bool {
    let script = "var s = document.createElement('script');\
         s.textContent = 'window.injected = true;';\
         document.body.appendChild(s);\
         return window.injected === true;";
    chromium.execute(script).await == true
}

/// The kinds of the audit trail, oldest first.
pub fn audit_kinds(server: &TestServer) -> Vec<String> {
    let db = server.db();
    let mut stmt = db
        .prepare("SELECT kind FROM audit_events ORDER BY id")
        .unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn duration(text: &str) -> sessiond::domain::duration::HumanDuration {
    sessiond::domain::duration::HumanDuration::parse(text).unwrap()
}
