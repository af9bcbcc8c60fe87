//! Accounts: changing and resetting passwords, the change forced after a reset, editing and
//! deleting users, the owner's protection, and the sign-in page telling a signed-out browser
//! why.

use crate::browser::{Chromium, Element};
use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The notice the sign-in page shows `browser`, if any.
async fn sign_in_notice(browser: &Browser) -> Option<String> {
    let page = browser.get("/login").await.text().await.unwrap();
    let start = page.find("<p class=\"alert alert-info\" role=\"status\">")?;
    let rest = &page[start..];
    let text = &rest[rest.find('>')? + 1..rest.find("</p>")?];
    Some(text.to_owned())
}

/// The newest audit event of `kind`.
async fn newest_event(admin: &Browser, kind: &str) -> Value {
    let (status, page) = admin
        .get_json(&format!("/api/admin/audit?kind={kind}&limit=1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    page["events"][0].clone()
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_devices_and_tells_them_why() {
    let server = spawn().await;
    server.create_user("alice", false).await;
    let admin = admin_browser(&server).await;
    let laptop = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let phone = server.signed_in(CHROME_ANDROID, "alice").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    let wrong = laptop
        .post_json("/api/user/password", change(WRONG_PASSWORD, NEW_PASSWORD))
        .await;
    assert_error(wrong, StatusCode::FORBIDDEN, "wrong_password").await;
    let with_name = laptop
        .post_json(
            "/api/user/password",
            change(PASSWORD, "my alice passphrase"),
        )
        .await;
    let message = assert_error(with_name, StatusCode::BAD_REQUEST, "bad_request").await;
    assert_eq!(message, "the password must not contain the username");
    let same = laptop
        .post_json("/api/user/password", change(PASSWORD, PASSWORD))
        .await;
    assert_error(same, StatusCode::BAD_REQUEST, "same_password").await;
    let short = laptop
        .post_json("/api/user/password", change(PASSWORD, "short"))
        .await;
    assert_error(short, StatusCode::BAD_REQUEST, "bad_request").await;
    assert_eq!(
        phone.session_status().await,
        StatusCode::OK,
        "nothing changed yet"
    );

    let changed = laptop
        .post_json("/api/user/password", change(PASSWORD, NEW_PASSWORD))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["signed_out"], 1);
    assert_eq!(
        laptop.session_status().await,
        StatusCode::OK,
        "this device stays"
    );
    assert_eq!(phone.session_status().await, StatusCode::UNAUTHORIZED);

    // The phone's next page is the sign-in page, telling why, once.
    assert_eq!(
        sign_in_notice(&phone).await.as_deref(),
        Some("You were signed out because your password was changed.")
    );
    assert_eq!(sign_in_notice(&phone).await, None, "told once");
    // A made-up cookie, or none, is told nothing.
    let stranger = server.browser(FIREFOX_UBUNTU);
    assert_eq!(sign_in_notice(&stranger).await, None);
    let forged = server
        .plain()
        .client
        .get(server.url("/login"))
        .header(
            "cookie",
            "sessiond_session=st_forgedforgedforgedforgedforgedforged",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!forged.contains("alert-info"));

    let fresh = server.browser(SAFARI_IPAD);
    assert_eq!(
        fresh.login_as("alice", PASSWORD, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh.login_as("alice", NEW_PASSWORD, false).await.status(),
        StatusCode::CREATED
    );
    let event = newest_event(&admin, "password_changed").await;
    assert_eq!(event["actor"], "user:alice");
    assert_eq!(event["outcome"], "success");
    assert_eq!(event["session_count"], 1);
    let revoked = newest_event(&admin, "session_revoked").await;
    assert!(
        revoked["reason"]
            .as_str()
            .unwrap()
            .starts_with("password_changed: "),
        "{revoked}"
    );
}

#[tokio::test]
async fn an_idle_session_is_told_and_audited_at_the_sign_in_page_and_an_evicted_one_too() {
    let server = spawn_with(|s| {
        s.sessions.idle_timeout = duration("1s");
        s.sessions.max_per_user = 1;
        s.sessions.on_limit = sessiond::config::OnLimit::EvictOldest;
    })
    .await;
    server.create_user("alice", false).await;
    let idle = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        sign_in_notice(&idle).await.as_deref(),
        Some("You were signed out after a while without activity.")
    );
    let expired: String = server.query_one(
        "SELECT reason FROM audit_events WHERE kind = 'session_expired' ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(expired, "idle_expiry");

    let first = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    server.signed_in(CHROME_ANDROID, "alice").await;
    assert_eq!(
        sign_in_notice(&first).await.as_deref(),
        Some("You were signed out because you signed in on more devices than allowed.")
    );
}

#[tokio::test]
async fn group_and_everyone_revocations_tell_each_browser_why() {
    let server = spawn().await;
    server.create_user("bob", false).await;
    server.create_user("carol", false).await;
    server.cli_ok(&["groups", "create", "ops"]);
    server.cli_ok(&["groups", "add-member", "ops", "bob"]);
    let bobs = server.signed_in(FIREFOX_UBUNTU, "bob").await;
    let carols = server.signed_in(FIREFOX_UBUNTU, "carol").await;

    server.cli_ok(&["sessions", "revoke", "--group", "ops", "--execute"]);
    let told = Some("You were signed out by an administrator.");
    assert_eq!(sign_in_notice(&bobs).await.as_deref(), told);
    assert_eq!(
        carols.session_status().await,
        StatusCode::OK,
        "not in the group"
    );

    server.cli_ok(&["sessions", "revoke", "--all", "--execute"]);
    assert_eq!(sign_in_notice(&carols).await.as_deref(), told);
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_lockout() {
    let server = spawn_with(|s| s.login.lockout_threshold = 3).await;
    server.create_user("alice", false).await;
    let alice = server.signed_in(FIREFOX_UBUNTU, "alice").await;
    let wrong = json!({"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD});
    for _ in 0..2 {
        let response = alice.post_json("/api/user/password", wrong.clone()).await;
        assert_error(response, StatusCode::FORBIDDEN, "wrong_password").await;
    }
    let third = alice.post_json("/api/user/password", wrong).await;
    assert_error(third, StatusCode::LOCKED, "locked").await;
    // Locked now, even with the right password, and for signing in too.
    let right = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let response = alice.post_json("/api/user/password", right).await;
    assert_error(response, StatusCode::LOCKED, "locked").await;
    let other = server.browser(CHROME_ANDROID);
    assert_eq!(
        other.login_as("alice", PASSWORD, false).await.status(),
        StatusCode::LOCKED
    );
    let kinds = audit_kinds(&server);
    assert!(kinds.contains(&"lockout".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_reset_password_must_be_changed_before_anything_else_works() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let created = admin
        .post_json(
            "/api/admin/users",
            json!({"username": "carol", "email": "Carol@Example.com", "name": "Carol"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["user"]["username"], "carol");
    assert_eq!(created["user"]["email"], "carol@example.com");
    assert_eq!(created["user"]["must_change_password"], true);
    let id = created["user"]["id"].as_i64().unwrap();
    let first = created["password"].as_str().unwrap().to_owned();

    // Signed in with the one-time password: only the change works.
    let carol = server.browser(FIREFOX_UBUNTU);
    let login = carol.login_as("carol", &first, false).await;
    assert_eq!(login.status(), StatusCode::CREATED);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["password_change_required"], true);
    for path in ["/api/session", "/api/user/sessions"] {
        let response = carol.get(path).await;
        assert_error(
            response,
            StatusCode::UNAUTHORIZED,
            "password_change_required",
        )
        .await;
    }
    let forward_auth = carol
        .client
        .get(carol.url("/api/session"))
        .header("x-forwarded-uri", "/app/")
        .send()
        .await
        .unwrap();
    assert!(forward_auth.headers().contains_key("x-sessiond-login"));
    assert_error(
        forward_auth,
        StatusCode::UNAUTHORIZED,
        "password_change_required",
    )
    .await;
    assert_is_redirect_to(&carol.get("/-/user/sessions").await, "/-/user/password");
    // Where a forward-auth proxy sends the browser: on to the change, not round in a loop.
    assert_is_redirect_to(
        &carol.get("/login?return_to=/app/").await,
        "/-/user/password",
    );
    let change = json!({"current_password": first, "new_password": NEW_PASSWORD});
    let changed = carol.post_json("/api/user/password", change).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(carol.session_status().await, StatusCode::OK);

    // An administrator resets it: carol is signed out, told why, and must change it again.
    let reset = admin
        .post_json(&format!("/api/admin/users/{id}/reset-password"), json!({}))
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    let reset: Value = reset.json().await.unwrap();
    assert_eq!(reset["revoked"], 1);
    let second = reset["password"].as_str().unwrap().to_owned();
    assert_eq!(carol.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_notice(&carol).await.as_deref(),
        Some("You were signed out because an administrator reset your password.")
    );
    assert_eq!(
        carol.login_as("carol", NEW_PASSWORD, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    carol.login_as("carol", &second, false).await;
    let response = carol.get("/api/session").await;
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        "password_change_required",
    )
    .await;
    // A password the administrator typed works the same; it must meet the policy.
    let typed = admin
        .post_json(
            &format!("/api/admin/users/{id}/reset-password"),
            json!({"password": "short"}),
        )
        .await;
    assert_error(typed, StatusCode::BAD_REQUEST, "bad_request").await;
    let event = newest_event(&admin, "password_reset").await;
    assert_eq!(event["actor"], "user:root");
    assert_eq!(event["subject_username"], "carol");
    assert_eq!(event["session_count"], 1);
}

#[tokio::test]
async fn administrators_edit_search_and_delete_users() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let dave = server.create_user("dave", false).await;
    server.create_user("erin", false).await;
    let daves = server.signed_in(FIREFOX_UBUNTU, "dave").await;

    let path = format!("/api/admin/users/{dave}");
    let edit = |body: Value| admin.send_json(Method::PATCH, &path, body);
    let edited = edit(json!({"email": "dave@corp.example", "name": "Dave D", "admin": true})).await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(
        (&edited["email"], &edited["name"], &edited["is_admin"]),
        (&json!("dave@corp.example"), &json!("Dave D"), &json!(true))
    );
    assert_error(
        edit(json!({"email": "erin@example.com"})).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_error(
        edit(json!({"email": "nope"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    let event = newest_event(&admin, "user_updated").await;
    assert_eq!(event["subject_username"], "dave");
    assert!(
        event["reason"]
            .as_str()
            .unwrap()
            .contains("admin no -> yes")
    );

    let search = async |text: &str| -> Vec<String> {
        let (_, page) = admin
            .get_json(&format!("/api/admin/users?search={text}"))
            .await;
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(search("DA").await, ["dave"]);
    assert_eq!(search("dave%40corp").await, ["dave"]);
    assert_eq!(search("erin%20ex").await, ["erin"]);
    assert_eq!(search("zz").await, Vec::<String>::new());

    let deleted = admin.delete(&format!("/api/admin/users/{dave}")).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let deleted: Value = deleted.json().await.unwrap();
    assert_eq!(deleted["revoked"], 1);
    assert_eq!(daves.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_notice(&daves).await.as_deref(),
        Some("You were signed out because your account was deleted.")
    );
    let missing = admin.delete(&format!("/api/admin/users/{dave}")).await;
    assert_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    let event = newest_event(&admin, "user_deleted").await;
    assert_eq!(
        (&event["actor"], &event["subject_username"]),
        (&json!("user:root"), &json!("dave"))
    );

    // The username comes back only when the administrator confirms.
    let again = json!({"username": "dave", "email": "dave2@example.com", "password": NEW_PASSWORD});
    let refused = admin.post_json("/api/admin/users", again.clone()).await;
    assert_error(refused, StatusCode::CONFLICT, "username_was_deleted").await;
    let mut confirmed = again;
    confirmed["reuse_deleted_username"] = json!(true);
    let created = admin.post_json("/api/admin/users", confirmed).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["password"], Value::Null, "typed, so not shown");
}

#[tokio::test]
async fn the_owner_cannot_be_deleted_demoted_or_blocked_and_nobody_deletes_themselves() {
    let server = spawn().await;
    server.service.ensure_owner().await.unwrap();
    let owner = server.service.find_user("admin").await.unwrap().id;
    let admin = admin_browser(&server).await;
    let myself = server.service.find_user("root").await.unwrap().id;

    let delete = admin.delete(&format!("/api/admin/users/{owner}")).await;
    let message = assert_error(delete, StatusCode::CONFLICT, "owner_protected").await;
    assert_eq!(message, "the owner account cannot be deleted");
    let demote = admin
        .send_json(
            Method::PATCH,
            &format!("/api/admin/users/{owner}"),
            json!({"admin": false}),
        )
        .await;
    let message = assert_error(demote, StatusCode::CONFLICT, "owner_protected").await;
    assert_eq!(message, "the owner account cannot be demoted");
    let block = admin.post(&format!("/api/admin/users/{owner}/block")).await;
    assert_error(block, StatusCode::CONFLICT, "owner_protected").await;
    let own = admin.delete(&format!("/api/admin/users/{myself}")).await;
    assert_error(own, StatusCode::CONFLICT, "cannot_delete_self").await;

    // The page refuses the same, with a banner.
    let html = admin.get("/admin/users").await.text().await.unwrap();
    let csrf = csrf_field(&html);
    for action in ["delete", "block"] {
        let back = admin
            .post_form(
                &format!("/admin/users/{owner}/{action}"),
                &[("csrf_token", csrf.as_str())],
            )
            .await;
        let page = admin
            .get(&redirect_target(&back))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("The owner account cannot be blocked, demoted or deleted."),
            "{action}"
        );
    }
    let demote = admin
        .post_form(
            &format!("/admin/users/{owner}/edit"),
            &[
                ("csrf_token", csrf.as_str()),
                ("email", "admin@localhost"),
                ("name", "Owner"),
            ],
        )
        .await;
    let page = admin
        .get(&redirect_target(&demote))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The owner account cannot be blocked, demoted or deleted."));

    let owner_now = server.service.user(owner).await.unwrap();
    assert!(owner_now.is_admin);
    assert_eq!(owner_now.state, sessiond::domain::user::UserState::Active);
}

#[tokio::test]
async fn the_command_line_edits_resets_and_deletes_users() {
    let server = spawn().await;
    server.service.ensure_owner().await.unwrap();
    server.create_user("frank", true).await;
    let franks = server.signed_in(FIREFOX_UBUNTU, "frank").await;

    let out = server.cli_ok(&[
        "users",
        "edit",
        "frank",
        "--email",
        "Frank@Corp.example",
        "--name",
        "Frank F",
        "--no-admin",
    ]);
    assert_eq!(out.trim(), "Updated frank.");
    let frank = server.service.find_user("frank").await.unwrap();
    assert_eq!(
        (frank.email.as_str(), frank.name.as_str(), frank.is_admin),
        ("frank@corp.example", "Frank F", false)
    );
    let nothing = server.cli(&["users", "edit", "frank"]);
    assert_eq!(nothing.status.code(), Some(2));
    let demote = server.cli(&["users", "edit", "admin", "--no-admin"]);
    assert_eq!(demote.status.code(), Some(2));
    assert!(crate::cli::text(&demote.stderr).contains("the owner account cannot be demoted"));
    let both = server.cli(&["users", "edit", "frank", "--admin", "--no-admin"]);
    assert_eq!(both.status.code(), Some(2));

    // A generated password, printed once; the sessions end and the change is due.
    let out = server.cli_ok(&["users", "set-password", "frank"]);
    assert!(out.contains("1 active session(s) ended"), "{out}");
    let password = out
        .lines()
        .find_map(|line| line.strip_prefix("Password, shown only this once: "))
        .expect("the password")
        .to_owned();
    assert_eq!(franks.session_status().await, StatusCode::UNAUTHORIZED);
    let again = server.browser(FIREFOX_UBUNTU);
    assert_eq!(
        again.login_as("frank", &password, false).await.status(),
        StatusCode::CREATED
    );
    assert_error(
        again.get("/api/session").await,
        StatusCode::UNAUTHORIZED,
        "password_change_required",
    )
    .await;
    // The owner's way back: a password typed on the server's machine.
    let typed = crate::cli::run_with_stdin(
        server.dir(),
        &["users", "set-password", "admin", "--password-stdin"],
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(
        typed.status.success(),
        "{}",
        crate::cli::text(&typed.stderr)
    );
    assert!(!crate::cli::text(&typed.stdout).contains("shown only this once"));
    let owner = server.browser(FIREFOX_UBUNTU);
    assert_eq!(
        owner.login_as("admin", NEW_PASSWORD, false).await.status(),
        StatusCode::CREATED
    );
    let weak = crate::cli::run_with_stdin(
        server.dir(),
        &["users", "set-password", "frank", "--password-stdin"],
        "short\n",
    );
    assert_eq!(weak.status.code(), Some(2));

    // Deleting asks for --yes when nobody can answer; the owner is never deleted.
    let unconfirmed = server.cli(&["users", "delete", "frank"]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(server.service.find_user("frank").await.is_ok());
    let owner_delete = server.cli(&["users", "delete", "admin", "--yes"]);
    assert_eq!(owner_delete.status.code(), Some(2));
    let out = server.cli_ok(&["users", "delete", "frank", "--yes"]);
    assert!(out.starts_with("Deleted frank;"), "{out}");
    assert!(server.service.find_user("frank").await.is_err());
    let kinds = audit_kinds(&server);
    for kind in ["user_updated", "password_reset", "user_deleted"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }
    let actor: String = server.query_one(
        "SELECT actor FROM audit_events WHERE kind = 'user_deleted' ORDER BY id DESC LIMIT 1",
    );
    assert!(actor.starts_with("cli:"), "{actor}");
    let reused = crate::cli::create_user(server.dir(), "frank", PASSWORD, &[]);
    assert_eq!(reused.status.code(), Some(2));
    let reused = crate::cli::create_user(
        server.dir(),
        "frank",
        PASSWORD,
        &["--reuse-deleted-username"],
    );
    assert!(
        reused.status.success(),
        "{}",
        crate::cli::text(&reused.stderr)
    );
}

/// Signs in through the form Chromium shows with `password`, and waits until it lands on
/// `landing`.
async fn sign_in_as(chromium: &Chromium, login: &str, password: &str, landing: &str) {
    chromium
        .type_into(&chromium.find("#login").await, login)
        .await;
    chromium
        .type_into(&chromium.find("#password").await, password)
        .await;
    chromium.click(&chromium.find("button.primary").await).await;
    let landed = async || chromium.current_url().await == landing;
    chromium
        .wait_for(&format!("{landing} after signing in"), landed)
        .await;
}

/// Fills the change-password form Chromium shows and sends it; waits for the sessions page's
/// banner and returns it.
async fn change_password_in(chromium: &Chromium, current: &str, new: &str) -> String {
    for (field, value) in [
        ("#current_password", current),
        ("#new_password", new),
        ("#confirm_password", new),
    ] {
        chromium.type_into(&chromium.find(field).await, value).await;
    }
    chromium.click(&chromium.find("button.primary").await).await;
    let shown = async || !chromium.find_all(".alert-ok").await.is_empty();
    chromium.wait_for("the banner", shown).await;
    chromium.text(&chromium.find(".alert-ok").await).await
}

/// Opens the actions menu of `username`'s row on the Users page.
async fn open_row_menu(chromium: &Chromium, username: &str) -> Element {
    let summary = chromium
        .find(&format!("summary[aria-label=\"Actions for {username}\"]"))
        .await;
    chromium.click(&summary).await;
    chromium
        .find(&format!(
            "summary[aria-label=\"Actions for {username}\"] + .row-menu-items"
        ))
        .await
}

#[tokio::test]
async fn in_chromium_a_password_change_signs_the_other_browser_out_with_a_notice() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("alice", false).await;
    let phone = server.signed_in(CHROME_ANDROID, "alice").await;
    let home = server.url("/-/user/sessions");
    chromium.goto(&home).await;
    sign_in_as(&chromium, "alice", PASSWORD, &home).await;

    // In this browser: the Password page, then the sessions page says what happened.
    chromium
        .click(&chromium.find_with_text("nav a", "Password").await)
        .await;
    let banner = change_password_in(&chromium, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(
        banner,
        "Your password was changed. 1 other device was signed out."
    );
    assert_eq!(phone.session_status().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_notice(&phone).await.as_deref(),
        Some("You were signed out because your password was changed.")
    );

    // The other way round: the phone signs in again and changes it; this browser's next page
    // is the sign-in page with the notice.
    phone.login_as("alice", NEW_PASSWORD, false).await;
    let change =
        json!({"current_password": NEW_PASSWORD, "new_password": "yet another passphrase"});
    let changed = phone.post_json("/api/user/password", change).await;
    assert_eq!(changed.status(), StatusCode::OK);
    chromium.goto(&home).await;
    let notice = chromium.find(".alert-info").await;
    assert_eq!(
        chromium.text(&notice).await,
        "You were signed out because your password was changed."
    );
    assert!(
        chromium
            .current_url()
            .await
            .starts_with(&server.url("/login"))
    );
    chromium.goto(&server.url("/login")).await;
    assert!(
        chromium.find_all(".alert-info").await.is_empty(),
        "told once"
    );
}

#[tokio::test]
async fn in_chromium_an_admin_creates_a_user_resets_the_password_and_the_user_must_change_it() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.create_user("root", true).await;
    let users = server.url("/admin/users");
    chromium.goto(&users).await;
    sign_in_as(&chromium, "root", PASSWORD, &users).await;

    // New user: the form, then the one-time password shown once.
    chromium
        .click(&chromium.find_with_text("a.button", "New user").await)
        .await;
    chromium
        .type_into(&chromium.find("#username").await, "carol")
        .await;
    chromium
        .type_into(&chromium.find("#email").await, "carol@example.com")
        .await;
    chromium.click(&chromium.find("button.primary").await).await;
    let question = chromium.dialog_text().await;
    assert!(question.starts_with("Create this user?"), "{question}");
    chromium.accept_dialog().await;
    let shown = async || !chromium.find_all("#one-time-password").await.is_empty();
    chromium.wait_for("the one-time password", shown).await;
    let first = chromium
        .text(&chromium.find("#one-time-password").await)
        .await;
    let carols_phone = server.browser(CHROME_ANDROID);
    assert_eq!(
        carols_phone.login_as("carol", &first, false).await.status(),
        StatusCode::CREATED
    );

    // Reset from the row's actions menu, through the confirmation.
    chromium.goto(&users).await;
    let menu = open_row_menu(&chromium, "carol").await;
    let reset = chromium.find_in(&menu, "button.menu-item").await;
    assert_eq!(chromium.text(&reset).await, "Reset password");
    chromium.click(&reset).await;
    let question = chromium.dialog_text().await;
    assert!(
        question.starts_with("Reset the password of carol?"),
        "{question}"
    );
    chromium.accept_dialog().await;
    chromium.wait_for("the new password", shown).await;
    let second = chromium
        .text(&chromium.find("#one-time-password").await)
        .await;
    assert_ne!(first, second);
    let detail = chromium.text(&chromium.find("section p.muted").await).await;
    assert!(detail.starts_with("1 session ended."), "{detail}");
    assert_eq!(
        sign_in_notice(&carols_phone).await.as_deref(),
        Some("You were signed out because an administrator reset your password.")
    );

    // Carol signs in here: the change-password step comes before any other page.
    chromium
        .click(&chromium.find_with_text(".who button", "Log out").await)
        .await;
    let home = server.url("/-/user/sessions");
    chromium.goto(&home).await;
    let step = server.url("/-/user/password");
    sign_in_as(&chromium, "carol", &second, &step).await;
    assert!(
        chromium.find_all("nav a").await.is_empty(),
        "no way around it"
    );
    let screenshots = crate::browser::screenshots_dir();
    chromium
        .screenshot(&screenshots.join("change-password.png"))
        .await;
    chromium.goto(&server.url("/admin/users")).await;
    assert_eq!(chromium.current_url().await, step);
    chromium.goto(&home).await;
    assert_eq!(chromium.current_url().await, step);
    let banner = change_password_in(&chromium, &second, NEW_PASSWORD).await;
    assert_eq!(banner, "Your password was changed.");
    assert_eq!(chromium.current_url().await, home);
}

#[tokio::test]
async fn in_chromium_an_admin_deletes_a_user_and_the_owner_offers_no_such_action() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    server.service.ensure_owner().await.unwrap();
    server.create_user("root", true).await;
    server.create_user("dave", false).await;
    let daves = server.signed_in(FIREFOX_UBUNTU, "dave").await;
    let users = server.url("/admin/users");
    chromium.goto(&users).await;
    sign_in_as(&chromium, "root", PASSWORD, &users).await;

    // The search finds by prefix, any case.
    chromium
        .type_into(&chromium.find("#search").await, "DA")
        .await;
    chromium
        .click(
            &chromium
                .find_with_text("form[role=search] button", "Search")
                .await,
        )
        .await;
    let filtered = async || chromium.find_all("tbody tr").await.len() == 1;
    chromium.wait_for("one row", filtered).await;

    // The owner's menu offers neither Block nor Delete; the edit form no admin switch.
    chromium.goto(&users).await;
    let menu = open_row_menu(&chromium, "admin").await;
    let screenshots = crate::browser::screenshots_dir();
    chromium
        .screenshot(&screenshots.join("admin-users-menu.png"))
        .await;
    let items = chromium.text(&menu).await;
    assert!(items.contains("Reset password"), "{items}");
    assert!(
        !items.contains("Block") && !items.contains("Delete"),
        "{items}"
    );
    chromium
        .click(&chromium.find_in(&menu, "a.menu-item").await)
        .await;
    let editing = async || !chromium.find_all("#email").await.is_empty();
    chromium.wait_for("the edit form", editing).await;
    assert!(
        chromium
            .find_all("input[type=checkbox][name=admin]")
            .await
            .is_empty()
    );

    // Deleting dave, through the confirmation.
    chromium.goto(&users).await;
    let menu = open_row_menu(&chromium, "dave").await;
    let delete = chromium
        .find_in(&menu, "form[action$='/delete'] button")
        .await;
    chromium.click(&delete).await;
    let banner = confirm_and_read_banner(&chromium, "Delete dave?").await;
    assert_eq!(banner, "Deleted dave; terminated 1 session.");
    assert!(server.service.find_user("dave").await.is_err());
    assert_eq!(daves.session_status().await, StatusCode::UNAUTHORIZED);
    let rows = chromium
        .find_all("summary[aria-label=\"Actions for dave\"]")
        .await;
    assert!(rows.is_empty());
}
