//! The Users page's forms: **New user** and **Edit**, and the page that shows a password
//! made by **New user** or **Reset password** once.

use super::{AdminPage, show};
use crate::domain::password::Password;
use crate::domain::user::{Email, UserUpdate};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::flash::{self, Flash};
use crate::http::pages::{FormBody, check_form};
use crate::http::respond::{Nav, failure_page};
use crate::service::ServiceError;
use crate::service::users::CreateUser;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// Where the forms come back to.
const USERS: &str = "/admin/users";

/// The fields of the New user and Edit forms, as typed.
#[derive(Deserialize, Default)]
pub(super) struct UserFields {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    admin: Option<String>,
    #[serde(default)]
    password: String,
    reuse_deleted_username: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct UserFormPage {
    nav: Option<Nav>,
    csrf_token: String,
    /// `None` for a new user; else the id of the user edited.
    editing: Option<i64>,
    /// The owner is always an administrator: the flag is shown, not offered.
    is_owner: bool,
    fields: UserFields,
    error: Option<String>,
    /// The username was a deleted user's: the form asks to confirm its reuse.
    ask_reuse: bool,
}

#[derive(Template)]
#[template(path = "admin/user_password.html")]
struct PasswordShownPage {
    nav: Option<Nav>,
    heading: String,
    username: String,
    /// The one-time password, when one was generated.
    password: Option<String>,
    /// What happened besides, such as the sessions a reset ended.
    detail: String,
}

/// Renders the user form with `status` (a refused form keeps what was typed, but never the
/// password).
async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    admin: &AdminPage,
    page: UserFormPage,
    status: StatusCode,
) -> Response {
    let AdminPage(auth, _) = admin;
    let mut response = show(state, headers, auth, "admin-users", |nav, csrf_token| {
        UserFormPage {
            nav: Some(nav),
            csrf_token,
            ..page
        }
    })
    .await;
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

fn blank_form(editing: Option<i64>, is_owner: bool, fields: UserFields) -> UserFormPage {
    UserFormPage {
        nav: None,
        csrf_token: String::new(),
        editing,
        is_owner,
        fields,
        error: None,
        ask_reuse: false,
    }
}

pub(super) async fn new_user(
    State(state): State<AppState>,
    admin: AdminPage,
    headers: HeaderMap,
) -> Response {
    let page = blank_form(None, false, UserFields::default());
    form_page(&state, &headers, &admin, page, StatusCode::OK).await
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: AdminPage,
    headers: HeaderMap,
    FormBody(mut fields): FormBody<UserFields>,
) -> Response {
    let AdminPage(auth, actor) = &admin;
    if let Err(refused) = check_form(&state, &headers, Some(auth), &fields.csrf_token).await {
        return refused;
    }
    let password = std::mem::take(&mut fields.password);
    let request = CreateUser {
        username: fields.username.trim().to_owned(),
        email: fields.email.clone(),
        name: Some(fields.name.trim().to_owned()).filter(|name| !name.is_empty()),
        is_admin: fields.admin.is_some(),
        is_bot: false,
        password: Some(password).filter(|p| !p.is_empty()).map(Password::new),
        must_change_password: true,
        reuse_deleted_username: fields.reuse_deleted_username.is_some(),
    };
    match state.service.create_user(request, actor).await {
        Ok(created) => {
            let shown = PasswordShownPage {
                nav: None,
                heading: format!("Created {}", created.user.username),
                username: created.user.username.to_string(),
                password: created.generated_password.map(|p| p.expose().to_owned()),
                detail: "They must choose a new password when they first sign in.".into(),
            };
            password_page(&state, &headers, &admin, shown).await
        }
        Err(error) => {
            let ask_reuse = matches!(error, ServiceError::DeletedUsername(_));
            let error = ApiError::from(error);
            if error.status.is_server_error() {
                return failure_page(&error);
            }
            let page = UserFormPage {
                error: Some(error.message),
                ask_reuse,
                ..blank_form(None, false, fields)
            };
            form_page(&state, &headers, &admin, page, error.status).await
        }
    }
}

pub(super) async fn edit(
    State(state): State<AppState>,
    admin: AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let user = match state.service.user(id).await {
        Ok(user) => user,
        Err(error) => return failure_page(&ApiError::from(error)),
    };
    let fields = UserFields {
        username: user.username.to_string(),
        email: user.email.as_str().to_owned(),
        name: user.name.clone(),
        admin: user.is_admin.then(|| "on".to_owned()),
        ..UserFields::default()
    };
    let page = blank_form(Some(id), user.is_owner, fields);
    form_page(&state, &headers, &admin, page, StatusCode::OK).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    admin: AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
    FormBody(fields): FormBody<UserFields>,
) -> Response {
    let AdminPage(auth, actor) = &admin;
    if let Err(refused) = check_form(&state, &headers, Some(auth), &fields.csrf_token).await {
        return refused;
    }
    let outcome = async {
        let user = state.service.user(id).await?;
        let email = Email::parse(&fields.email).map_err(ServiceError::BadInput)?;
        let update = UserUpdate {
            email: Some(email),
            name: Some(fields.name.trim().to_owned()),
            is_admin: Some(fields.admin.is_some()),
        };
        state.service.update_user(&user, update, actor).await
    }
    .await;
    match outcome {
        Ok(user) => {
            let done = Flash::done("updated", user.username.as_str(), 0);
            flash::back(&state, auth, USERS, Ok(done)).await
        }
        // Refusals that a second try cannot mend go back to the list with their banner.
        Err(error @ (ServiceError::NotFound(_) | ServiceError::OwnerProtected(_))) => {
            flash::back(&state, auth, USERS, Err(ApiError::from(error))).await
        }
        Err(error) => {
            let error = ApiError::from(error);
            if error.status.is_server_error() {
                return failure_page(&error);
            }
            let is_owner = state.service.user(id).await.is_ok_and(|user| user.is_owner);
            let page = UserFormPage {
                error: Some(error.message),
                ..blank_form(Some(id), is_owner, fields)
            };
            form_page(&state, &headers, &admin, page, error.status).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    csrf_token: String,
}

pub(super) async fn reset_password(
    State(state): State<AppState>,
    admin: AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
    FormBody(form): FormBody<ResetForm>,
) -> Response {
    let AdminPage(auth, actor) = &admin;
    if let Err(refused) = check_form(&state, &headers, Some(auth), &form.csrf_token).await {
        return refused;
    }
    let outcome = async {
        let user = state.service.user(id).await?;
        let reset = state.service.reset_password(&user, None, actor).await?;
        Ok::<_, ServiceError>((user, reset))
    }
    .await;
    match outcome {
        Ok((user, reset)) => {
            let plural = if reset.revoked == 1 { "" } else { "s" };
            let shown = PasswordShownPage {
                nav: None,
                heading: format!("Reset the password of {}", user.username),
                username: user.username.to_string(),
                password: reset.generated_password.map(|p| p.expose().to_owned()),
                detail: format!(
                    "{} session{plural} ended. They must choose a new password when they next sign in.",
                    reset.revoked
                ),
            };
            password_page(&state, &headers, &admin, shown).await
        }
        Err(error) => flash::back(&state, auth, USERS, Err(ApiError::from(error))).await,
    }
}

/// The page that shows a new password once: never stored by a cache (see `show`).
async fn password_page(
    state: &AppState,
    headers: &HeaderMap,
    admin: &AdminPage,
    page: PasswordShownPage,
) -> Response {
    let AdminPage(auth, _) = admin;
    show(state, headers, auth, "admin-users", |nav, _| {
        PasswordShownPage {
            nav: Some(nav),
            ..page
        }
    })
    .await
    .into_response()
}
