//! The pages in Japanese and Korean: chosen from `Accept-Language`, from the picker (kept
//! across sign-out and across devices), and walked in headless Chromium, which saves the
//! screenshots (copied into docs/).

use crate::browser::{Chromium, screenshots_dir};
use crate::helpers::*;
use reqwest::StatusCode;
use reqwest::header::ACCEPT_LANGUAGE;
use sessiond::domain::time::Timestamp;

const MINUTE: i64 = 60_000;

/// What a language's pages must say, for the walk through them.
struct Expected {
    lang: &'static str,
    /// Where the browser is, so that the script's local times differ from the server's UTC.
    time_zone: &'static str,
    sign_in: &'static str,
    active_sessions: &'static str,
    revoke: &'static str,
    device: &'static str,
    /// The seeded session, last active five and a half minutes ago.
    five_minutes_ago: &'static str,
    admin_sessions: &'static str,
    terminate: &'static str,
    terminate_question: &'static str,
    /// A character every date of the language has ("年").
    date_mark: &'static str,
    users: &'static str,
    groups: &'static str,
    change_password: &'static str,
}

const JAPANESE: Expected = Expected {
    lang: "ja",
    time_zone: "Asia/Tokyo",
    sign_in: "ログイン",
    active_sessions: "アクティブなセッション",
    revoke: "取り消す",
    device: "Firefox(Ubuntu)",
    five_minutes_ago: "5 分前",
    admin_sessions: "セッション",
    terminate: "終了",
    terminate_question: "を終了しますか？",
    date_mark: "年",
    users: "ユーザー",
    groups: "グループ",
    change_password: "パスワードの変更",
};

const KOREAN: Expected = Expected {
    lang: "ko",
    time_zone: "Asia/Seoul",
    sign_in: "로그인",
    active_sessions: "활성 세션",
    revoke: "세션 취소",
    device: "Ubuntu의 Firefox",
    five_minutes_ago: "5분 전",
    admin_sessions: "세션",
    terminate: "세션 종료",
    terminate_question: "종료할까요?",
    date_mark: "년",
    users: "사용자",
    groups: "그룹",
    change_password: "비밀번호 변경",
};

/// A page's language, as `<html lang>` says.
async fn html_lang(chromium: &Chromium) -> String {
    let lang = chromium
        .execute("return document.documentElement.lang;")
        .await;
    lang.as_str().unwrap_or_default().to_owned()
}

/// Whether the page is no wider than the window: nothing cut off or scrolled sideways.
async fn fits_the_width(chromium: &Chromium) -> bool {
    let script = "return document.documentElement.scrollWidth <= window.innerWidth;";
    chromium.execute(script).await == serde_json::json!(true)
}

/// Saves the window at desktop width as `NAME-LANG.png`, and at a phone's, after checking the
/// page still fits, as `NAME-LANG-phone.png`, in [`screenshots_dir`].
async fn screenshots(chromium: &Chromium, name: &str, lang: &str) {
    let folder = screenshots_dir();
    assert!(
        fits_the_width(chromium).await,
        "{name} in {lang} fits a desktop"
    );
    chromium
        .screenshot(&folder.join(format!("{name}-{lang}.png")))
        .await;
    chromium.set_window_size(390, 844).await;
    chromium.execute("location.reload();").await;
    chromium
        .wait_for("the page again", async || {
            !chromium.find_all("footer form").await.is_empty()
        })
        .await;
    assert!(
        fits_the_width(chromium).await,
        "{name} in {lang} fits a phone"
    );
    chromium
        .screenshot(&folder.join(format!("{name}-{lang}-phone.png")))
        .await;
    chromium.set_window_size(1280, 900).await;
}

/// Signs `root` in through the sign-in page in `expected`'s language and walks Active
/// sessions and the admin console's Sessions page, checking words and times.
async fn walk(expected: &Expected) {
    let Some(chromium) = Chromium::start_in(expected.lang, expected.time_zone).await else {
        return;
    };
    let server = spawn().await;
    let root = server.create_user("root", true).await;
    let now = server.service.now().millis();
    let (created, last_active) = (
        Timestamp(now - 180 * MINUTE),
        Timestamp(now - 11 * MINUTE / 2),
    );
    seed_session_at(&server, root, "root", "192.0.2.10", created, last_active).await;
    server.cli_ok(&["groups", "create", "acme/platform", "--parents"]);
    server.cli_ok(&["groups", "add-member", "acme/platform", "root"]);

    let home = server.url("/-/user/sessions");
    chromium.goto(&server.url("/login")).await;
    assert_eq!(html_lang(&chromium).await, expected.lang);
    assert_eq!(
        chromium.text(&chromium.find("h1").await).await,
        expected.sign_in
    );
    chromium
        .screenshot(&screenshots_dir().join(format!("sign-in-{}.png", expected.lang)))
        .await;
    chromium
        .goto(&server.url("/login?return_to=/-/user/sessions"))
        .await;
    sign_in_with_chromium(&chromium, "root", &home).await;

    // Active sessions: the words, the device, and times in the language.
    assert_eq!(html_lang(&chromium).await, expected.lang);
    assert_eq!(
        chromium.text(&chromium.find("h1").await).await,
        expected.active_sessions
    );
    let other = chromium.find("li.session:not(.is-current)").await;
    let details = chromium.text(&other).await;
    assert!(details.contains(expected.device), "{details}");
    assert!(details.contains(expected.five_minutes_ago), "{details}");
    // The script shows when it signed in in the browser's time zone, written the language's way.
    let signed_in = chromium.find_in(&other, "time[data-local=absolute]").await;
    let signed_in = chromium.text(&signed_in).await;
    assert!(signed_in.contains(expected.date_mark), "{signed_in}");
    assert!(
        !signed_in.contains("UTC"),
        "local, not the server's UTC: {signed_in}"
    );
    let button = chromium.find_in(&other, "button").await;
    assert_eq!(chromium.text(&button).await, expected.revoke);
    screenshots(&chromium, "user-sessions", expected.lang).await;

    // The admin console's Sessions page, and its confirmation dialog.
    chromium.goto(&server.url("/admin/sessions")).await;
    assert_eq!(html_lang(&chromium).await, expected.lang);
    assert_eq!(
        chromium.text(&chromium.find("h1").await).await,
        expected.admin_sessions
    );
    let row = chromium.find_with_text("tbody tr", "192.0.2.10").await;
    let cells = chromium.text(&row).await;
    assert!(cells.contains(expected.device), "{cells}");
    assert!(cells.contains(expected.five_minutes_ago), "{cells}");
    let terminate = chromium.find_in(&row, "button").await;
    assert_eq!(chromium.text(&terminate).await, expected.terminate);
    screenshots(&chromium, "admin-sessions", expected.lang).await;
    let row = chromium.find_with_text("tbody tr", "192.0.2.10").await;
    chromium
        .click(&chromium.find_in(&row, "button").await)
        .await;
    let question = chromium.dialog_text().await;
    assert!(question.contains(expected.terminate_question), "{question}");
    assert!(question.contains(expected.device), "{question}");
    chromium.dismiss_dialog().await;

    // The Users and Groups pages and the password page.
    for (path, heading, name) in [
        ("/admin/users", expected.users, Some("admin-users")),
        ("/admin/groups", expected.groups, Some("admin-groups")),
        ("/-/user/password", expected.change_password, None),
    ] {
        chromium.goto(&server.url(path)).await;
        assert_eq!(html_lang(&chromium).await, expected.lang);
        assert_eq!(chromium.text(&chromium.find("h1").await).await, heading);
        if let Some(name) = name {
            screenshots(&chromium, name, expected.lang).await;
        }
    }
}

#[tokio::test]
async fn in_chromium_the_pages_speak_japanese() {
    walk(&JAPANESE).await;
}

#[tokio::test]
async fn in_chromium_the_pages_speak_korean() {
    walk(&KOREAN).await;
}

#[tokio::test]
async fn pages_and_api_messages_follow_accept_language() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let asked = async |lang: &str| {
        let request = server.plain().client.get(server.url("/login"));
        let response = request.header(ACCEPT_LANGUAGE, lang).send().await.unwrap();
        response.text().await.unwrap()
    };
    assert!(
        asked("ko-KR,ko;q=0.9,en;q=0.8")
            .await
            .contains("<html lang=\"ko\">")
    );
    assert!(asked("fr, ja;q=0.5").await.contains("<h1>ログイン</h1>"));
    assert!(asked("fr").await.contains("<html lang=\"en\">"));

    let wrong = server
        .plain()
        .login_request("alice", "not the password", false)
        .header(ACCEPT_LANGUAGE, "ja")
        .send()
        .await
        .unwrap();
    let message = assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(message, "ログイン名またはパスワードが正しくありません。");
    let english = server.plain().fail_login("alice").await;
    let message = assert_error(english, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(message, "invalid login or password");
}

#[tokio::test]
async fn a_picked_language_outlasts_sign_out_and_follows_to_another_device() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("alice", false).await;
    let home = server.url("/-/user/sessions");
    chromium.goto(&home).await;
    sign_in_with_chromium(&chromium, "alice", &home).await;
    assert_eq!(html_lang(&chromium).await, "en");

    // Pick Japanese: the same page comes back in Japanese.
    chromium
        .execute("document.querySelector('#language-picker').value = 'ja';")
        .await;
    chromium.click(&chromium.find("footer button").await).await;
    chromium
        .wait_for("the page in Japanese", async || {
            html_lang(&chromium).await == "ja"
        })
        .await;
    assert_eq!(chromium.current_url().await, home);
    assert_eq!(
        chromium.text(&chromium.find("h1").await).await,
        "アクティブなセッション"
    );

    // Signed out, the sign-in page stays Japanese (the cookie).
    chromium.click(&chromium.find(".who button").await).await;
    let signed_out = async || chromium.current_url().await.ends_with("/login");
    chromium.wait_for("the sign-in page", signed_out).await;
    assert_eq!(html_lang(&chromium).await, "ja");
    assert_eq!(chromium.text(&chromium.find("h1").await).await, "ログイン");

    // Another device of alice's, never told: Japanese too (the profile).
    let phone = server.browser(CHROME_ANDROID);
    phone.login("alice").await;
    let page = phone.get("/-/user/sessions").await.text().await.unwrap();
    assert!(page.contains("<html lang=\"ja\">"), "{page}");
    assert!(page.contains("アクティブなセッション"));
}

#[tokio::test]
async fn the_picker_refuses_a_language_it_does_not_have_and_a_forged_form() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let browser = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let page = browser.get("/-/user/sessions").await.text().await.unwrap();
    let csrf = csrf_field(&page);
    let unknown = browser
        .post_form("/language", &[("csrf_token", &csrf), ("lang", "xx")])
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let forged = browser
        .post_form("/language", &[("csrf_token", "forged"), ("lang", "ja")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let page = browser.get("/-/user/sessions").await.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">"), "nothing changed");
    let picked = browser
        .post_form("/language", &[("csrf_token", &csrf), ("lang", "ko")])
        .await;
    assert_eq!(picked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        set_cookie(picked.headers(), "sessiond_lang").as_deref(),
        Some("ko")
    );
    let page = browser.get("/-/user/sessions").await.text().await.unwrap();
    assert!(page.contains("<html lang=\"ko\">"));
}
