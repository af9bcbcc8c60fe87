//! Bad numbers and ids: a 400 with the JSON error body from the API, never a 5xx or a store
//! error; pages start at the top; a `return_to` a header cannot carry leads back to the page.

use crate::helpers::*;
use reqwest::{Method, StatusCode};

/// Path ids that are not ids: words, numbers past 64 bits, negative numbers, zero.
const BAD_IDS: [&str; 5] = [
    "abc",
    "99999999999999999999",
    "-1",
    "-99999999999999999999",
    "0",
];

#[tokio::test]
async fn bad_path_ids_answer_400_with_the_json_body() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let routes = [
        (Method::POST, "/api/admin/users/{}/block"),
        (Method::POST, "/api/admin/users/{}/unblock"),
        (Method::POST, "/api/admin/users/{}/unlock"),
        (Method::POST, "/api/admin/alarms/{}/acknowledge"),
    ];
    for (method, route) in routes {
        for id in BAD_IDS {
            let path = route.replace("{}", id);
            let response = admin
                .client
                .request(method.clone(), admin.url(&path))
                .send()
                .await
                .unwrap();
            assert_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
        }
    }
    // Ids that are text: what is not one of ours is not found, never a server error.
    for id in BAD_IDS
        .into_iter()
        .chain(["%00", "%0D%0A", &"x".repeat(2000)])
    {
        for (method, route) in [
            (Method::DELETE, "/api/admin/sessions/{}"),
            (Method::DELETE, "/api/user/sessions/{}"),
            (Method::POST, "/api/admin/groups/{}/revoke-sessions"),
        ] {
            let path = route.replace("{}", id);
            let response = admin
                .client
                .request(method.clone(), admin.url(&path))
                .send()
                .await
                .unwrap();
            assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
        }
    }
}

#[tokio::test]
async fn admin_pages_start_at_the_top_for_offsets_the_stores_cannot_count() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    for page in ["sessions", "users", "audit", "alarms"] {
        for offset in ["9223372036854775808", "18446744073709551616", "-1", "x"] {
            let path = format!("/admin/{page}?offset={offset}");
            let response = admin.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let html = response.text().await.unwrap();
            assert!(!html.contains("alert-error"), "{path}: {html}");
        }
    }
}

#[tokio::test]
async fn a_return_to_with_control_characters_leads_back_to_the_page() {
    let server = spawn().await;
    let admin = admin_browser(&server).await;
    let csrf = csrf_field(&admin.get("/admin/sessions").await.text().await.unwrap());
    for control in ["\r\nSet-Cookie: planted=1", "\n", "\0", "\r"] {
        let return_to = format!("/admin/sessions?user=root{control}");
        let form = [("csrf_token", csrf.as_str()), ("return_to", &return_to)];
        let response = admin
            .post_form("/admin/sessions/unknown/terminate", &form)
            .await;
        assert_eq!(set_cookie(response.headers(), "planted"), None);
        assert_is_redirect_to(&response, "/admin/sessions");
    }
}
