//! Response sets that many operations share, so each says its own answers and lists these
//! by name (`responses(AdminErrors, ...)`) instead of repeating them.

// Only their derived `IntoResponses` is used: the handlers answer with `ApiError`.
#![expect(dead_code, reason = "the types exist for the OpenAPI document only")]

use crate::views::ErrorBody;
use utoipa::IntoResponses;

/// The answers of an operation for signed-in callers that do not depend on the operation.
#[derive(IntoResponses)]
pub enum SignedInErrors {
    /// No valid session or token: sign in first.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// A store is unreachable; try again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The answers of an admin operation that do not depend on the operation.
#[derive(IntoResponses)]
pub enum AdminErrors {
    /// No valid session or admin API token: sign in first.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller is not an administrator, or a browser sent the request from another origin.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// A store is unreachable; try again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// A path or query value is malformed or out of range; the message says what is accepted.
#[derive(IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(ErrorBody);

/// A store is unreachable; try again shortly.
#[derive(IntoResponses)]
#[response(status = 503)]
pub struct Unavailable(ErrorBody);

/// The answers to a JSON request body that cannot be read.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// The body is not valid JSON.
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// The body is larger than 16 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent as `Content-Type: application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// The JSON lacks a field or has one of the wrong type.
    #[response(status = 422)]
    WrongFields(ErrorBody),
}
