//! The OpenAPI document: every JSON endpoint the README and docs/ describe is in it, everything
//! in it exists, and it passes an OpenAPI 3.1 validator.

use crate::helpers::*;
use crate::services::skip_unless;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

/// The JSON endpoints the documentation describes, as (method, OpenAPI path).
const DOCUMENTED_ENDPOINTS: &[(&str, &str)] = &[
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
async fn every_documented_endpoint_is_there_with_errors_and_auth() {
    let server = spawn().await;
    let doc = document(&server).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in DOCUMENTED_ENDPOINTS {
        let operation = &doc["paths"][path][method];
        assert!(
            operation.is_object(),
            "{method} {path} is missing from the document"
        );
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                // A sign-in held at the limit answers the error body with its limit_token.
                let expected = if (*method, *path, status.as_str()) == ("post", "/api/login", "409")
                {
                    "#/components/schemas/SignInHeldView"
                } else {
                    "#/components/schemas/ErrorBody"
                };
                assert_eq!(schema, expected, "{method} {path} {status}");
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
        "idle_expires_at",
        "remember_me",
    ] {
        assert!(session[field].is_object(), "SessionView.{field}");
    }
}

#[tokio::test]
async fn every_operation_has_examples_and_the_answers_it_can_give() {
    let server = spawn().await;
    let doc = document(&server).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let statuses: Vec<&str> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut examples = 0;
            for (status, response) in operation["responses"].as_object().unwrap() {
                if let Some(content) = response["content"].get("application/json") {
                    let example = content["example"].is_object();
                    assert!(
                        example || !status.starts_with('2'),
                        "{method} {path} {status} has no example"
                    );
                    examples += usize::from(example);
                }
            }
            assert!(examples > 0, "{method} {path} has no example");
            let wanted: &[&str] = match (method.as_str(), path.as_str()) {
                (_, "/healthz") => &[],
                (_, "/readyz") => &["503"],
                ("post", "/api/login") => &["400", "403", "413", "415", "422", "503"],
                // An operation that takes no parameters and no body has nothing to refuse as 400.
                (_, admin)
                    if admin.starts_with("/api/admin/")
                        && operation["parameters"].is_null()
                        && operation["requestBody"].is_null() =>
                {
                    &["401", "403", "503"]
                }
                (_, admin) if admin.starts_with("/api/admin/") => &["400", "401", "403", "503"],
                ("get", _) => &["401", "503"],
                _ => &["401", "403", "503"],
            };
            for status in wanted {
                assert!(
                    statuses.contains(status),
                    "{method} {path} does not document {status}"
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                match parameter["name"].as_str().unwrap() {
                    "limit" => assert_eq!(
                        (&schema["minimum"], &schema["maximum"]),
                        (&1.into(), &500.into())
                    ),
                    "offset" => assert!(schema["maximum"].is_u64(), "{method} {path} offset"),
                    "state" | "kind" => assert!(schema["enum"].is_array(), "{method} {path}"),
                    _ => {}
                }
            }
        }
    }
}

/// Whether Python's `openapi_spec_validator` (PyPI's `openapi-spec-validator`) is installed.
fn validator_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|status| status.success())
}

#[tokio::test]
async fn the_document_passes_an_openapi_validator() {
    if skip_unless(
        validator_installed(),
        "python3 -m openapi_spec_validator is not installed (pip install openapi-spec-validator)",
    )
    .is_none()
    {
        return;
    }
    let server = spawn().await;
    let doc = document(&server).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["info"]["license"]["identifier"],
        env!("CARGO_PKG_LICENSE")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the OpenAPI document does not validate:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn everything_documented_is_served() {
    let server = spawn().await;
    server.create_user("root", true).await;
    let admin = server.browser(FIREFOX_UBUNTU);
    admin.login("root").await;
    let doc = document(&server).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= DOCUMENTED_ENDPOINTS.len());
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
