//! The OpenAPI document: every JSON endpoint of SPEC.md is in it, and everything in it exists.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

/// SPEC.md's JSON endpoints that exist so far, as (method, OpenAPI path).
const SPEC_ENDPOINTS: &[(&str, &str)] = &[
    ("post", "/api/login"),
    ("post", "/api/logout"),
    ("get", "/api/session"),
    ("get", "/api/user/sessions"),
    ("delete", "/api/user/sessions/{id}"),
    ("delete", "/api/user/sessions"),
    ("get", "/api/admin/sessions"),
    ("delete", "/api/admin/sessions/{id}"),
    ("delete", "/api/admin/sessions"),
    ("get", "/api/admin/users"),
    ("get", "/api/admin/audit"),
    ("get", "/api/admin/alarms"),
    ("post", "/api/admin/groups/{group}/revoke-sessions"),
    ("get", "/healthz"),
    ("get", "/readyz"),
];

async fn document(server: &TestServer) -> Value {
    let response = reqwest::get(server.url("/api/openapi.json")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_spec_endpoint_is_documented_with_errors_and_auth() {
    let server = spawn().await;
    let doc = document(&server).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in SPEC_ENDPOINTS {
        let operation = &doc["paths"][path][method];
        assert!(
            operation.is_object(),
            "{method} {path} is missing from the document"
        );
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session_cookie"]["in"], "cookie");
    let session = &doc["components"]["schemas"]["SessionView"]["properties"];
    for field in [
        "id",
        "user_id",
        "username",
        "ip_address",
        "user_agent",
        "browser",
        "os",
        "device_type",
        "created_at",
        "last_active_at",
        "expires_at",
        "remember_me",
    ] {
        assert!(session[field].is_object(), "SessionView.{field}");
    }
}

#[tokio::test]
async fn everything_documented_is_served() {
    let server = spawn().await;
    server.create_user("root", true).await;
    let admin = server.browser(FIREFOX_UBUNTU);
    admin.login("root").await;
    let doc = document(&server).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= SPEC_ENDPOINTS.len());
    for (path, item) in paths {
        // Path parameters get values that exist nowhere: the answer must be the handler's, not
        // the router's "no such endpoint".
        let concrete = path
            .replace("{id}", "999999")
            .replace("{group}", "no%2Fsuch-group");
        for method in item.as_object().unwrap().keys() {
            if *method == "post" && path == "/api/logout" {
                continue; // would end the session the rest of the walk needs
            }
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = admin
                .client
                .request(method.clone(), admin.url(&concrete))
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(
                body["error"]["message"], "no such endpoint",
                "{method} {path} is documented but not routed"
            );
        }
    }
}
