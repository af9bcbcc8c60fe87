//! One integration-test binary: the real server, the real binary, real SQLite files.

mod admin_api;
mod admin_pages;
mod auth;
mod browser;
mod cli;
mod groups;
mod helpers;
mod http_basics;
mod limits;
mod openapi;
mod user_sessions;
