//! The one mapping from failures to HTTP status codes and the JSON error body. A `code` is
//! stable; the `message` is in the request's language when the catalogue has it, else English.

use crate::domain::password::{self, PolicyViolation};
use crate::i18n::{Lang, msg, t, time};
use crate::service::ServiceError;
use crate::service::throttle::retry_after_seconds;
use crate::store::StoreError;
use crate::views::BadQuery;
use axum::Json;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered as `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before asking again, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            t("error-unauthorized"),
        )
    }

    /// A session that may do nothing before its user chooses a new password.
    pub fn password_change_required() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "password_change_required",
            "your password was reset; choose a new one first (POST /api/user/password, or the page /-/user/password)",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A store did not answer; what went wrong is for the log, not for the client.
    pub fn store_unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            t("error-store-unavailable"),
        )
    }

    /// The JSON body this error answers with.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self
            .retry_after
            .map(|seconds| [(RETRY_AFTER, seconds.to_string())]);
        (self.status, retry_after, Json(self.body())).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let message = words(&error);
        let (status, code) = match &error {
            ServiceError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ServiceError::Locked => (StatusCode::LOCKED, "locked"),
            ServiceError::Blocked => (StatusCode::FORBIDDEN, "blocked"),
            ServiceError::Throttled(wait) => {
                let mut throttled =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", message);
                throttled.retry_after = Some(retry_after_seconds(*wait));
                return throttled;
            }
            ServiceError::OwnerProtected(_) => (StatusCode::CONFLICT, "owner_protected"),
            ServiceError::CannotBlockSelf => (StatusCode::CONFLICT, "cannot_block_self"),
            ServiceError::CannotDeleteSelf => (StatusCode::CONFLICT, "cannot_delete_self"),
            ServiceError::DeletedUsername(_) => (StatusCode::CONFLICT, "username_was_deleted"),
            ServiceError::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
            ServiceError::SamePassword => (StatusCode::BAD_REQUEST, "same_password"),
            ServiceError::WeakPassword(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ServiceError::SessionLimit(_) | ServiceError::SignInHeld { .. } => {
                (StatusCode::CONFLICT, "session_limit")
            }
            ServiceError::PendingSignInGone => (StatusCode::UNAUTHORIZED, "pending_sign_in_gone"),
            ServiceError::CurrentSession => (StatusCode::CONFLICT, "current_session"),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::BadInput(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ServiceError::Store(StoreError::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::Store(StoreError::Unavailable(detail)) => {
                // The detail goes to the log, not to the client.
                tracing::error!(%detail, "store unavailable");
                return ApiError::store_unavailable();
            }
        };
        ApiError::new(status, code, message)
    }
}

/// What `error` says to a person, in the request's language where the catalogue has it.
fn words(error: &ServiceError) -> String {
    match error {
        ServiceError::InvalidCredentials => t("error-invalid-credentials"),
        ServiceError::Locked => t("error-locked"),
        ServiceError::Blocked => t("error-blocked"),
        ServiceError::Throttled(wait) => {
            let wait = time::wait(Lang::current(), retry_after_seconds(*wait));
            msg("error-throttled").arg("wait", wait).to_string()
        }
        ServiceError::OwnerProtected(action) => msg("error-owner-protected")
            .arg("action", action)
            .to_string(),
        ServiceError::CannotBlockSelf => t("error-cannot-block-self"),
        ServiceError::CannotDeleteSelf => t("error-cannot-delete-self"),
        ServiceError::DeletedUsername(name) => msg("error-username-was-deleted")
            .arg("name", name)
            .to_string(),
        ServiceError::WrongPassword => t("error-wrong-password"),
        ServiceError::SamePassword => t("error-same-password"),
        ServiceError::WeakPassword(violation) => match violation {
            PolicyViolation::TooShort(length) => msg("error-password-too-short")
                .arg("count", length)
                .to_string(),
            PolicyViolation::TooLong => msg("error-password-too-long")
                .arg("count", password::MAX_LENGTH)
                .to_string(),
            PolicyViolation::TooCommon => t("error-password-too-common"),
            PolicyViolation::OnlyWhitespace => t("error-password-only-whitespace"),
            PolicyViolation::ContainsUsername => t("error-password-contains-username"),
        },
        ServiceError::SessionLimit(limit) => {
            msg("error-session-limit").arg("count", limit).to_string()
        }
        ServiceError::SignInHeld { max, .. } => {
            msg("error-sign-in-held").arg("count", max).to_string()
        }
        ServiceError::PendingSignInGone => t("error-pending-sign-in-gone"),
        ServiceError::CurrentSession => t("error-current-session"),
        // Details of the request (a name, an id), which the catalogue cannot know.
        ServiceError::NotFound(_)
        | ServiceError::Conflict(_)
        | ServiceError::BadInput(_)
        | ServiceError::Store(_) => error.to_string(),
    }
}

impl From<BadQuery> for ApiError {
    fn from(error: BadQuery) -> Self {
        ApiError::bad_request(error.0)
    }
}
