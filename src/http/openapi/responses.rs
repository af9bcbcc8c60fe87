//! Response sets that many operations share, so each says its own answers and lists these
//! by name (`responses(AdminErrors, ...)`) instead of repeating them.

// Only their derived `IntoResponses` is used: the handlers answer with `ApiError`.
#![expect(dead_code, reason = "the types exist for the OpenAPI document only")]

use super::examples;
use crate::views::ErrorBody;
use utoipa::IntoResponses;

/// The answers of an operation for signed-in callers that do not depend on the operation.
#[derive(IntoResponses)]
pub enum SignedInErrors {
    /// No valid session or token: sign in first.
    #[response(status = 401, example = json!(examples::unauthorized()))]
    Unauthorized(ErrorBody),
    /// A store is unreachable; try again shortly.
    #[response(status = 503, example = json!(examples::store_unavailable()))]
    Unavailable(ErrorBody),
}

/// The answers of an admin operation that do not depend on the operation.
#[derive(IntoResponses)]
pub enum AdminErrors {
    /// No valid session or admin API token: sign in first.
    #[response(status = 401, example = json!(examples::unauthorized()))]
    Unauthorized(ErrorBody),
    /// The caller is not an administrator, or a browser sent a state-changing request from
    /// another origin.
    #[response(status = 403, example = json!(examples::not_admin()))]
    Forbidden(ErrorBody),
    /// A store is unreachable; try again shortly.
    #[response(status = 503, example = json!(examples::store_unavailable()))]
    Unavailable(ErrorBody),
}

/// A browser sent this state-changing request from another origin.
#[derive(IntoResponses)]
#[response(status = 403, example = json!(examples::cross_origin()))]
pub struct CrossOrigin(ErrorBody);

/// A path or query value is malformed or out of range; the message says what is accepted.
#[derive(IntoResponses)]
#[response(status = 400, example = json!(examples::bad_query()))]
pub struct BadRequest(ErrorBody);

/// A store is unreachable; try again shortly.
#[derive(IntoResponses)]
#[response(status = 503, example = json!(examples::store_unavailable()))]
pub struct Unavailable(ErrorBody);

/// The answers to a JSON request body that cannot be read.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// The body is not valid JSON.
    #[response(status = 400, example = json!(examples::malformed_json()))]
    Malformed(ErrorBody),
    /// The body is larger than 16 KiB.
    #[response(status = 413, example = json!(examples::body_too_large()))]
    TooLarge(ErrorBody),
    /// The body is not sent as `Content-Type: application/json`.
    #[response(status = 415, example = json!(examples::not_json()))]
    NotJson(ErrorBody),
    /// The JSON lacks a field or has one of the wrong type.
    #[response(status = 422, example = json!(examples::wrong_fields()))]
    WrongFields(ErrorBody),
}
