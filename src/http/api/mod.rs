//! The JSON API, one module per area. Handlers parse the request, call one service function
//! and answer with a view; the rules live in the service.

mod admin_sessions;
mod admin_users;
mod alarms;
mod audit;
mod groups;
mod health;
mod session;
mod sign_in_limit;
mod user_password;
mod user_sessions;

use super::AppState;
use super::error::ApiError;
use super::extract::authenticate;
use super::language;
use crate::views::{BadQuery, Paging};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::{Json, middleware};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    // The session check (`GET /api/session`) resolves its own session and answers in English:
    // it is the hottest path, spared the layers' per-request cost.
    let signed_in = OpenApiRouter::new()
        .merge(session::signed_in_routes())
        .merge(user_sessions::routes())
        .merge(user_password::routes())
        .merge(admin_sessions::routes())
        .merge(admin_users::routes())
        .merge(audit::routes())
        .merge(alarms::routes())
        .merge(groups::routes())
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    let spoken = OpenApiRouter::new()
        .merge(session::routes())
        .merge(sign_in_limit::routes())
        .merge(signed_in)
        .layer(middleware::from_fn(language::api));
    OpenApiRouter::new()
        .merge(session::check_routes())
        .merge(health::routes())
        .merge(spoken)
}

/// A JSON body whose parse errors answer with the JSON error body instead of plain text.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "bad_request",
                rejection.body_text(),
            )),
        }
    }
}

/// The paging values every admin listing takes; checked by [`PageQuery::paging`].
// The documented bounds are `Paging::parse`'s; a test below holds them to it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// How many to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    offset: Option<String>,
}

impl PageQuery {
    pub fn paging(&self) -> Result<Paging, BadQuery> {
        Paging::parse(self.limit.as_deref(), self.offset.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::admin::MAX_PAGE;
    use crate::views::MAX_OFFSET;
    use serde_json::{Value, json};

    #[test]
    fn the_documented_paging_bounds_are_those_checked() {
        let bounds = |name: &str| -> (Value, Value) {
            let parameter = PageQuery::into_params(|| None)
                .into_iter()
                .find(|p| p.name == name)
                .unwrap();
            let schema = serde_json::to_value(parameter.schema).unwrap();
            (schema["minimum"].clone(), schema["maximum"].clone())
        };
        assert_eq!(bounds("limit"), (json!(1), json!(MAX_PAGE)));
        assert_eq!(bounds("offset"), (json!(0), json!(MAX_OFFSET)));
    }
}
