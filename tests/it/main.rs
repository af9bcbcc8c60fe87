//! One integration-test binary: the real server, the real binary, real stores (SQLite files,
//! PostgreSQL, Redis and a Redis Cluster), a real nginx and a real Caddy.

mod accounts;
mod admin_api;
mod admin_pages;
mod auth;
mod bounds;
mod browser;
mod catalogue;
mod check_cache;
mod cli;
mod conformance;
mod console;
mod groups;
mod groups_api;
mod groups_page;
mod headers;
mod helpers;
mod http_basics;
mod languages;
mod limits;
mod migrations;
mod openapi;
mod postgres_migrations;
mod proxies;
mod proxy_servers;
mod redis_layout;
mod reference;
mod scale_out;
mod services;
mod throttle;
mod user_sessions;
