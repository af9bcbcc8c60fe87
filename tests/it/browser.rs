//! A small W3C WebDriver client for tests in headless Chromium, over `reqwest`: navigate, find
//! by CSS, click, type, answer confirmation dialogs, run scripts, take screenshots.
//!
//! [`Chromium::start`] runs Debian's `chromedriver` on a free port with a fresh profile; the
//! browser and the driver end when the value is dropped, also when a test fails.

use crate::helpers::{missing_service, quiet_machine};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::sync::MutexGuard;

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_for` and the driver's start-up may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// Where the browser tests leave their screenshots: `target/screenshots/`, never `docs/`, so
/// a test run changes nothing in the tree. The pictures in `docs/` are copied from here.
pub fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// A headless Chromium driven through its own chromedriver process.
pub struct Chromium {
    http: reqwest::Client,
    driver: Child,
    port: u16,
    /// `/session/<id>`, the prefix of every command.
    session: String,
    _profile: TempDir,
    /// One browser at a time, and none beside a timing test: the machine may have 2 cores.
    _quiet: MutexGuard<'static, ()>,
}

/// An element of the current page, as the driver refers to it.
pub struct Element(String);

impl Chromium {
    /// Starts the browser, or returns `None` after a notice when Chromium or chromedriver is not
    /// installed (a failure instead under `SESSIOND_REQUIRE_SERVICES=1`).
    pub async fn start() -> Option<Chromium> {
        Chromium::start_speaking(None).await
    }

    /// [`Chromium::start`], with the browser in the language `lang` (`ja`) — its interface,
    /// `navigator.language` and the `Accept-Language` it sends — and in the time zone
    /// `time_zone` (`Asia/Tokyo`).
    pub async fn start_in(lang: &str, time_zone: &str) -> Option<Chromium> {
        Chromium::start_speaking(Some((lang, time_zone))).await
    }

    async fn start_speaking(locale: Option<(&str, &str)>) -> Option<Chromium> {
        let browser = find_program(&["chromium", "chromium-browser"]);
        let Some((browser, driver)) = browser.zip(find_program(&["chromedriver"])) else {
            missing_service("Chromium and chromedriver (Debian: chromium, chromium-driver)");
            return None;
        };
        let quiet = quiet_machine().await;
        let port = free_port();
        let mut driver = Command::new(driver);
        if let Some((_, time_zone)) = locale {
            // The browser inherits the driver's environment.
            driver.env("TZ", time_zone);
        }
        let driver = driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut options = json!({"binary": browser, "args": args});
        if let Some((lang, _)) = locale {
            // `--lang` sets the interface and `navigator.language`; the preference sets the
            // `Accept-Language` header, which headless Chromium does not take from `--lang`.
            options["args"]
                .as_array_mut()
                .unwrap()
                .push(json!(format!("--lang={lang}")));
            options["prefs"] = json!({"intl.accept_languages": lang});
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // Dialogs stay open until a test accepts or dismisses them.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": options,
        }}});
        let mut chromium = Chromium {
            http: reqwest::Client::new(),
            driver,
            port,
            session: String::new(),
            _profile: profile,
            _quiet: quiet,
        };
        chromium.wait_for_driver().await;
        let created = chromium
            .raw(Method::POST, "/session", Some(capabilities))
            .await
            .expect("starting a Chromium session");
        chromium.session = format!("/session/{}", created["sessionId"].as_str().unwrap());
        Some(chromium)
    }

    async fn wait_for_driver(&self) {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if let Ok(status) = self.raw(Method::GET, "/status", None).await
                && status["ready"] == true
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start within {PATIENCE:?}");
    }

    /// Sends one WebDriver request; its `value`, or the driver's error message.
    async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        let value = body["value"].clone();
        if ok {
            Ok(value)
        } else {
            Err(format!("{}: {}", value["error"], value["message"]))
        }
    }

    /// A command on this browser session; a driver error fails the test with its message.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("{method} {path}");
        self.raw(method, &format!("{}{path}", self.session), body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {what}: {error}"))
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn current_url(&self) -> String {
        let url = self.command(Method::GET, "/url", None).await;
        url.as_str().unwrap_or_default().to_owned()
    }

    /// Every element matching a CSS selector, in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let body = json!({"using": "css selector", "value": css});
        let found = self.command(Method::POST, "/elements", Some(body)).await;
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|element| element[ELEMENT_KEY].as_str())
            .map(|id| Element(id.to_owned()))
            .collect()
    }

    /// The first element matching a CSS selector; fails the test when there is none.
    pub async fn find(&self, css: &str) -> Element {
        self.find_all(css)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css:?}"))
    }

    /// The first element matching `css` whose visible text contains `text`.
    pub async fn find_with_text(&self, css: &str, text: &str) -> Element {
        for element in self.find_all(css).await {
            if self.text(&element).await.contains(text) {
                return element;
            }
        }
        panic!("no {css:?} contains {text:?}")
    }

    /// The first element matching `css` inside `parent`.
    pub async fn find_in(&self, parent: &Element, css: &str) -> Element {
        let body = json!({"using": "css selector", "value": css});
        let path = format!("/element/{}/element", parent.0);
        let found = self.command(Method::POST, &path, Some(body)).await;
        Element(found[ELEMENT_KEY].as_str().unwrap().to_owned())
    }

    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.command(Method::POST, &path, Some(json!({}))).await;
    }

    /// Types `text` into a field, after what it already holds.
    pub async fn type_into(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.command(Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    /// The element's rendered text, as a reader sees it.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        let text = self.command(Method::GET, &path, None).await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The question of the open `confirm`/`alert` dialog.
    pub async fn dialog_text(&self) -> String {
        let text = self.command(Method::GET, "/alert/text", None).await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Answers the open dialog with OK.
    pub async fn accept_dialog(&self) {
        self.command(Method::POST, "/alert/accept", Some(json!({})))
            .await;
    }

    /// Answers the open dialog with Cancel.
    pub async fn dismiss_dialog(&self) {
        self.command(Method::POST, "/alert/dismiss", Some(json!({})))
            .await;
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub async fn execute(&self, script: &str) -> Value {
        let body = json!({"script": script, "args": []});
        self.command(Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Resizes the window, e.g. to a phone's width.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        let body = json!({"width": width, "height": height});
        self.command(Method::POST, "/window/rect", Some(body)).await;
    }

    /// Saves a PNG of the viewport at `path` (folders created as needed).
    pub async fn screenshot(&self, path: &Path) {
        let encoded = self.command(Method::GET, "/screenshot", None).await;
        let png = STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Polls `condition` until it holds; fails the test, naming `what`, after a while.
    pub async fn wait_for(&self, what: &str, mut condition: impl AsyncFnMut() -> bool) {
        let started = Instant::now();
        while !condition().await {
            assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Chromium {
    /// Closes the browser through the driver (blocking I/O: drop cannot await), then ends the
    /// driver, so neither outlives the test.
    fn drop(&mut self) {
        if !self.session.is_empty()
            && let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port))
        {
            let _ = stream.set_read_timeout(Some(PATIENCE));
            let request = format!(
                "DELETE {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.port
            );
            // The driver answers once the browser has quit; the start of the answer will do,
            // as the driver may keep the connection open.
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read(&mut [0; 512]);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The first of these programs found on `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|folder| folder.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A loopback port free right now, for the driver to listen on.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
