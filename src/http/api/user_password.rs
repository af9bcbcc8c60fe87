//! The self-service API: changing one's own password. Rules live in the service.

use crate::domain::password::Password;
use crate::domain::session::ClientInfo;
use crate::http::AppState;
use crate::http::api::JsonBody;
use crate::http::error::ApiError;
use crate::http::extract::PasswordDueSession;
use crate::http::openapi::{CrossOrigin, JsonBodyErrors, SignedInErrors};
use crate::service::passwords::ChangePassword;
use crate::views::{ErrorBody, PasswordChanged};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordBody {
    current_password: String,
    /// At least `login.password_min_length` characters, not too common, not containing the
    /// username, and not the current one.
    new_password: String,
}

#[utoipa::path(
    post, path = "/api/user/password", tag = "self-service",
    summary = "Change the caller's password; every other session and remember-me login ends",
    request_body(content = ChangePasswordBody, example = json!({
        "current_password": "correct horse battery staple",
        "new_password": "a new and longer passphrase"
    })),
    responses(
        (status = 200, body = PasswordChanged,
         description = "Changed; the current session stays, the others are signed out",
         example = json!(PasswordChanged { signed_out: 2 })),
        JsonBodyErrors,
        (status = 400, body = ErrorBody,
         description = "The body is not valid JSON, or the new password is against the policy \
                        (`bad_request`) or the current one (`same_password`)"),
        (status = 403, body = ErrorBody,
         description = "The current password is wrong (`wrong_password`; counted towards the \
                        lockout as a failed sign-in), or a browser sent the request from another origin"),
        (status = 423, body = ErrorBody, description = "Locked after failed attempts"),
        (status = 429, body = ErrorBody, description = "Too many failed attempts: wait",
         headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        SignedInErrors, CrossOrigin,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn change_password(
    State(state): State<AppState>,
    PasswordDueSession(auth): PasswordDueSession,
    client: ClientInfo,
    JsonBody(body): JsonBody<ChangePasswordBody>,
) -> Result<Json<PasswordChanged>, ApiError> {
    let change = ChangePassword {
        current: Password::new(body.current_password),
        new: Password::new(body.new_password),
    };
    let signed_out = state
        .service
        .change_password(&auth.session, change, &client)
        .await?;
    Ok(Json(PasswordChanged { signed_out }))
}
