//! The admin API's IP-spread alarms: listing and acknowledging them.

use crate::http::AppState;
use crate::http::api::PageQuery;
use crate::http::error::ApiError;
use crate::http::extract::{AdminCaller, Checked};
use crate::http::openapi::{AdminErrors, BadRequest, examples};
use crate::views::{AlarmPage, AlarmView, ErrorBody, RecordId, alarm_states, parse_alarm_state};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alarms))
        .routes(routes!(acknowledge_alarm))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlarmQuery {
    /// `open` (default) or `all`.
    #[param(schema_with = alarm_states)]
    state: Option<String>,
}

#[utoipa::path(
    get, path = "/api/admin/alarms", tag = "admin",
    summary = "IP-spread alarms, newest first",
    params(PageQuery, AlarmQuery),
    responses(
        (status = 200, body = AlarmPage, description = "One page of alarms and how many match",
         example = json!(examples::alarm_page())),
        BadRequest, AdminErrors,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn list_alarms(
    State(state): State<AppState>,
    _admin: AdminCaller,
    Checked(Query(page)): Checked<Query<PageQuery>>,
    Checked(Query(query)): Checked<Query<AlarmQuery>>,
) -> Result<Json<AlarmPage>, ApiError> {
    let paging = page.paging()?;
    let open_only = parse_alarm_state(query.state.as_deref())?;
    let page = state
        .service
        .list_alarms(open_only, paging.limit, paging.offset)
        .await?;
    Ok(Json(AlarmPage::new(&page, paging)))
}

#[utoipa::path(
    post, path = "/api/admin/alarms/{id}/acknowledge", tag = "admin",
    summary = "Acknowledge (close) an open alarm",
    params(("id" = i64, Path, minimum = 1, description = "The alarm's id", example = 3)),
    responses(
        (status = 200, body = AlarmView, description = "The alarm, now closed",
         example = json!(examples::acknowledged_alarm())),
        BadRequest, AdminErrors,
        (status = 404, body = ErrorBody, description = "No such open alarm"),
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn acknowledge_alarm(
    State(state): State<AppState>,
    admin: AdminCaller,
    Checked(Path(RecordId(id))): Checked<Path<RecordId>>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = state.service.acknowledge_alarm(id, &admin.actor).await?;
    Ok(Json(AlarmView::from(&alarm)))
}
