//! One integration-test binary: the real server, the real binary, real stores (SQLite files,
//! PostgreSQL, Redis and a Redis Cluster), a real nginx.

mod auth;
mod cli;
mod conformance;
mod helpers;
mod http_basics;
mod limits;
mod scale_out;
mod services;
