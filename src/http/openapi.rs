//! The OpenAPI 3.1 document, collected from the handlers' own annotations so it cannot drift;
//! its licence is Cargo.toml's.

pub mod examples;
mod responses;

pub use responses::{
    AdminErrors, BadRequest, CrossOrigin, JsonBodyErrors, SignedInErrors, Unavailable,
};

use crate::views::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sessiond",
        description = "Session server with active-session management. Every error has the body \
                       ErrorBody; times are RFC 3339 UTC."
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "session", description = "Sign in, sign out, forward-auth"),
        (name = "self-service", description = "The signed-in user's own sessions"),
        (name = "admin", description = "Administrators only: by an admin's session or an admin API token"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "sessiond_session",
                "The session cookie set at sign-in (`__Host-sessiond_session` on https)",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token, or an admin API token (`sat_...`) from `sessiond tokens create`",
                    ))
                    .build(),
            ),
        );
    }
}
