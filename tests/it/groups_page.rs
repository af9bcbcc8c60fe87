//! The console's Groups page over HTTP and in Chromium: access, the tree, edits, and a
//! group revocation from its dry-run preview to its outcome.

use crate::browser::Chromium;
use crate::helpers::*;
use reqwest::StatusCode;

async fn page(browser: &Browser, path: &str) -> (StatusCode, String) {
    let response = browser.get(path).await;
    (response.status(), response.text().await.unwrap())
}

/// Posts a Groups page form and reads the banner the page shows after the redirect.
async fn act(browser: &Browser, action: &str, fields: &[(&str, &str)]) -> String {
    let (_, html) = page(browser, "/admin/groups").await;
    let csrf = csrf_field(&html);
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let response = browser.post_form(action, &form).await;
    assert_eq!(redirect_target(&response), "/admin/groups", "{action}");
    groups_page_banner(browser).await
}

/// The banner the Groups page shows, unescaped.
pub async fn groups_page_banner(browser: &Browser) -> String {
    let (_, html) = page(browser, "/admin/groups").await;
    let banner = html
        .split("<p class=\"alert ")
        .nth(1)
        .unwrap_or_else(|| panic!("no banner on {html}"));
    let text = &banner[banner.find('>').unwrap() + 1..banner.find("</p>").unwrap()];
    text.replace("&#x27;", "'").replace("&#39;", "'")
}

/// The dry-run preview of group `id`'s revocation: its text, and the form token and
/// members' fingerprint its confirmation carries.
pub async fn preview(browser: &Browser, id: i64) -> (String, String, String) {
    let (_, preview) = page(browser, &format!("/admin/groups/{id}/revoke")).await;
    let marker = "name=\"members\" value=\"";
    let start = preview.find(marker).unwrap() + marker.len();
    let fingerprint = preview[start..start + preview[start..].find('"').unwrap()].to_owned();
    let csrf = csrf_field(&preview);
    (preview, csrf, fingerprint)
}

/// `acme` ⊃ `acme/platform` ⊃ `acme/platform/infra`, and `partners`; members added and
/// `acme/platform` shared with `partners`, all through the page's forms.
async fn build_groups(admin: &Browser) {
    let created = act(
        admin,
        "/admin/groups",
        &[("path", "acme/platform/infra"), ("parents", "yes")],
    )
    .await;
    assert_eq!(
        created,
        "Created group acme, acme/platform, acme/platform/infra."
    );
    act(admin, "/admin/groups", &[("path", "partners")]).await;
    for (id, user) in [("1", "ceo"), ("2", "pat"), ("3", "ivan"), ("4", "carol")] {
        let added = act(
            admin,
            &format!("/admin/groups/{id}/add-member"),
            &[("user", user)],
        )
        .await;
        assert!(added.starts_with(&format!("Added {user} to ")), "{added}");
    }
    let shared = act(admin, "/admin/groups/2/share", &[("with", "partners")]).await;
    assert_eq!(shared, "Shared acme/platform with partners.");
}

#[tokio::test]
async fn the_groups_page_edits_groups_for_administrators_only() {
    let server = spawn().await;
    for user in ["ceo", "pat", "ivan", "carol"] {
        server.create_user(user, false).await;
    }
    let user = server.signed_in(FIREFOX_UBUNTU, "carol").await;
    let admin = admin_browser(&server).await;
    build_groups(&admin).await;
    for path in ["/admin/groups", "/admin/groups/1/revoke"] {
        let (status, html) = page(&user, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("Administrators only"));
    }
    let (_, own) = page(&admin, "/-/user/sessions").await;
    assert!(own.contains("href=\"/admin/groups\""));

    let (status, html) = page(&admin, "/admin/groups").await;
    assert_eq!(status, StatusCode::OK);
    // Nested: infra's item lies inside platform's, inside acme's; partners after acme's.
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at("data-path=\"acme\"") < at("data-path=\"acme/platform\""));
    let between = &html[at("data-path=\"acme/platform\"")..at("data-path=\"acme/platform/infra\"")];
    assert!(between.contains("<ul class=\"group-children\">"));
    assert!(!between.contains("</ul>"));

    // Refused edits say why; nothing changed is a refusal too.
    let cycle = act(
        &admin,
        "/admin/groups/4/share",
        &[("with", "acme/platform")],
    )
    .await;
    assert!(cycle.contains("cycle"), "{cycle}");
    let again = act(&admin, "/admin/groups/1/add-member", &[("user", "ceo")]).await;
    assert_eq!(again, "Ceo is already a member of acme.");
    let unknown = act(&admin, "/admin/groups/99/add-member", &[("user", "ceo")]).await;
    assert_eq!(unknown, "No group with id 99.");
    let bad = act(&admin, "/admin/groups", &[("path", "Not A Path")]).await;
    assert!(bad.starts_with("Invalid group path"), "{bad}");

    let removed = act(&admin, "/admin/groups/1/remove-member", &[("user", "ceo")]).await;
    assert_eq!(removed, "Removed ceo from acme.");
    let unshared = act(&admin, "/admin/groups/2/unshare", &[("with", "partners")]).await;
    assert_eq!(unshared, "Ended the share of acme/platform with partners.");
    let kinds = audit_kinds(&server);
    assert!(kinds.contains(&"group_member_removed".to_owned()));
    assert!(kinds.contains(&"group_unshared".to_owned()));

    // Without the form token nothing happens.
    let response = admin
        .post_form("/admin/groups/2/add-member", &[("user", "ceo")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = admin
        .post_form("/admin/groups/2/revoke", &[("members", "x")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_revocation_confirmed_after_its_members_changed_ends_nothing() {
    let server = spawn().await;
    for user in ["ceo", "pat", "ivan", "carol"] {
        server.create_user(user, false).await;
    }
    let admin = admin_browser(&server).await;
    build_groups(&admin).await;
    let pat = server.signed_in(FIREFOX_UBUNTU, "pat").await;
    let (preview, csrf, fingerprint) = preview(&admin, 2).await;
    assert!(
        preview.contains("Would revoke 1 session for 1 user."),
        "{preview}"
    );
    // Someone joins between the preview and the confirmation.
    server.create_user("newcomer", false).await;
    server.cli_ok(&["groups", "add-member", "acme/platform", "newcomer"]);
    let response = admin
        .post_form(
            "/admin/groups/2/revoke",
            &[("csrf_token", &csrf), ("members", &fingerprint)],
        )
        .await;
    let progress = redirect_target(&response);
    assert!(
        progress.starts_with("/admin/groups/revocations/"),
        "{progress}"
    );
    // Another session does not see this revocation.
    let other = server.signed_in(CHROME_ANDROID, "root").await;
    assert_eq!(other.get(&progress).await.status(), StatusCode::NOT_FOUND);
    let outcome = loop {
        let response = admin.get(&progress).await;
        if response.status() == StatusCode::SEE_OTHER {
            break redirect_target(&response);
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(outcome, "/admin/groups");
    let (_, html) = page(&admin, "/admin/groups").await;
    assert!(html.contains("changed since the preview"), "{html}");
    assert_eq!(pat.session_status().await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_page_in_chromium_shows_the_tree_previews_and_revokes() {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let server = spawn().await;
    for user in ["ceo", "pat", "ivan", "carol"] {
        server.create_user(user, false).await;
    }
    server.create_user("root", true).await;
    let api_admin = server.signed_in(FIREFOX_UBUNTU, "root").await;
    build_groups(&api_admin).await;
    let mut devices = Vec::new();
    for user in ["pat", "carol", "carol", "ceo"] {
        devices.push((user, server.signed_in(FIREFOX_UBUNTU, user).await));
    }

    let groups_page = server.url("/admin/groups");
    chromium.set_window_size(1280, 1100).await;
    chromium.goto(&groups_page).await;
    sign_in_with_chromium(&chromium, "root", &groups_page).await;
    // The tree: infra nested two levels down, in platform's list of sub-groups.
    let nested = chromium
        .execute(
            "return document.querySelector('li[data-path=\"acme/platform/infra\"]')\
             .parentElement.closest('li').dataset.path;",
        )
        .await;
    assert_eq!(nested, "acme/platform");
    let platform = chromium.find("#group-2").await;
    let text = chromium.text(&platform).await;
    assert!(text.contains("4 active sessions"), "{text}");
    let inherited = chromium
        .text(&chromium.find("#group-2 .group-inherited").await)
        .await;
    assert_eq!(
        inherited.split_whitespace().collect::<Vec<_>>(),
        ["carol", "ceo", "ivan"],
        "by the share, the parent and the sub-group"
    );
    assert!(!inline_script_runs(&chromium).await);
    chromium
        .screenshot(&crate::browser::screenshots_dir().join("admin-groups.png"))
        .await;

    // The button opens the dry run; nothing has ended yet.
    chromium
        .click(&chromium.find("#group-2 .group-head .button.danger").await)
        .await;
    let summary = chromium.find("#preview-summary").await;
    assert_eq!(
        chromium.text(&summary).await,
        "Would revoke 4 sessions for 3 users."
    );
    let found = chromium.text(&chromium.find("#preview-found").await).await;
    assert!(found.starts_with("Found 4 unique members"), "{found}");
    let skipped = chromium
        .text(&chromium.find("#preview-skipped").await)
        .await;
    assert_eq!(skipped, "Users skipped (no active sessions): 1");
    let rows = chromium.find_all(".preview-users tbody tr").await;
    assert_eq!(rows.len(), 3);
    for (_, device) in &devices {
        assert_eq!(device.session_status().await, StatusCode::OK);
    }

    // The second confirmation executes it, and the outcome comes back as the banner.
    chromium
        .click(&chromium.find("#confirm-revocation").await)
        .await;
    let shown = async || !chromium.find_all(".alert-ok").await.is_empty();
    chromium.wait_for("the outcome banner", shown).await;
    let banner = chromium.text(&chromium.find(".alert-ok").await).await;
    assert_eq!(
        banner,
        "Revoked 4 sessions of 3 users in group acme/platform."
    );
    assert_eq!(chromium.current_url().await, groups_page);
    for (user, device) in &devices {
        assert_eq!(
            device.session_status().await,
            StatusCode::UNAUTHORIZED,
            "{user}"
        );
    }
    let text = chromium.text(&chromium.find("#group-2").await).await;
    assert!(text.contains("0 active sessions"), "{text}");
    let revoked: i64 = server.query_one(
        "SELECT COUNT(*) FROM audit_events WHERE kind = 'session_revoked' \
         AND actor = 'user:root' AND reason LIKE '%acme/platform%'",
    );
    assert_eq!(revoked, 3, "one event per user, with the count");
    let (actor, count, reason): (String, i64, String) = server
        .db()
        .query_row(
            "SELECT actor, session_count, reason FROM audit_events \
             WHERE kind = 'group_sessions_revoked'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!((actor.as_str(), count), ("user:root", 4));
    assert_eq!(
        reason,
        "group 'acme/platform' (ID: 2): 4 sessions of 3 users ended"
    );
}

/// Progress as a console sees it: what `begin` and `advance` were told.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(&'static str, u64)>>);

#[async_trait::async_trait]
impl sessiond::service::Progress for Recorded {
    async fn begin(&self, total: u64) {
        self.0.lock().unwrap().push(("begin", total));
    }

    async fn advance(&self, steps: u64) {
        self.0.lock().unwrap().push(("advance", steps));
    }
}

#[tokio::test]
async fn a_large_group_is_revoked_in_steps_of_users_that_a_console_can_show() {
    use sessiond::domain::group::{GroupPath, NewGroup};
    use sessiond::domain::time::Timestamp;
    use sessiond::domain::user::{Email, NewUser, UserKind, Username};
    use sessiond::store::DirectoryImport;
    let server = spawn().await;
    let names: Vec<String> = (0..501).map(|i| format!("member{i:03}")).collect();
    let import = DirectoryImport {
        users: names
            .iter()
            .map(|name| NewUser {
                username: Username::parse(name).unwrap(),
                name: name.clone(),
                email: Email::parse(&format!("{name}@example.com")).unwrap(),
                kind: UserKind::Human,
                is_admin: false,
                is_owner: false,
                password_hash: None,
                must_change_password: false,
            })
            .collect(),
        groups: vec![NewGroup {
            path: GroupPath::parse("everyone").unwrap(),
            name: "everyone".into(),
        }],
        memberships: names
            .iter()
            .map(|name| {
                (
                    GroupPath::parse("everyone").unwrap(),
                    Username::parse(name).unwrap(),
                )
            })
            .collect(),
        ..DirectoryImport::default()
    };
    server
        .service
        .directory
        .import(&import, Timestamp(0))
        .await
        .unwrap();
    let recorded = Recorded::default();
    let report = server
        .service
        .revoke_group_sessions("everyone", false, &"test".into(), &recorded)
        .await
        .unwrap();
    assert_eq!(report.members, 501);
    assert_eq!(
        *recorded.0.lock().unwrap(),
        [("begin", 501), ("advance", 500), ("advance", 1)]
    );
}

/// A revocation whose node stopped part of the way through, and so is no longer updated,
/// shows as interrupted instead of running for ever.
#[tokio::test]
async fn a_revocation_left_without_updates_shows_as_interrupted() {
    use sessiond::domain::revocation_job::{RevocationJob, STALLED_AFTER};
    let server = spawn().await;
    server.create_user("root", true).await;
    let admin = server.browser(FIREFOX_UBUNTU);
    let session_id = admin.login_session_id("root").await;
    // What a node left behind that stopped after the first step of 1,000 users.
    let last_update = server.service.now().minus(STALLED_AFTER);
    let mut job = RevocationJob::new(&session_id, "staff", last_update);
    (job.done, job.total) = (500, 1000);
    let sessions = &server.service.sessions;
    sessions.put_revocation_job("stalled", &job).await.unwrap();
    let (status, body) = admin
        .get_json("/admin/groups/revocations/stalled/status")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"done": 500, "total": 1000, "finished": true}),
        "nothing more to wait for"
    );
    let (status, html) = page(&admin, "/admin/groups/revocations/stalled").await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("stopped part of the way through"), "{html}");

    // Updated just now, the same job is still running.
    job.updated_at = server.service.now();
    sessions.put_revocation_job("stalled", &job).await.unwrap();
    let (status, html) = page(&admin, "/admin/groups/revocations/stalled").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<span id=\"revocation-done\">500</span>"),
        "{html}"
    );
}
