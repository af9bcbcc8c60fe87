//! One integration-test binary: the real server, the real binary, real SQLite files.

mod auth;
mod browser;
mod cli;
mod helpers;
mod http_basics;
mod limits;
mod user_sessions;
