//! The one mapping from failures to HTTP status codes and the JSON error body.

use crate::service::ServiceError;
use crate::store::StoreError;
use crate::views::BadQuery;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered as `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "no valid session; sign in first",
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
            "the session store is unavailable; try again shortly",
        )
    }

    /// The JSON body this error answers with.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        let (status, code) = match &error {
            ServiceError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ServiceError::Locked => (StatusCode::LOCKED, "locked"),
            ServiceError::Blocked => (StatusCode::FORBIDDEN, "blocked"),
            ServiceError::SessionLimit(_) => (StatusCode::CONFLICT, "session_limit"),
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

impl From<BadQuery> for ApiError {
    fn from(error: BadQuery) -> Self {
        ApiError::bad_request(error.0)
    }
}
