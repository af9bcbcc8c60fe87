//! One integration-test binary: the real server, the real binary, real SQLite files.

mod auth;
mod cli;
mod conformance;
mod helpers;
mod http_basics;
mod limits;
mod scale_out;
mod services;
