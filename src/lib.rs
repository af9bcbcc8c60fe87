//! sessiond: a session server with first-class active-session management.

mod blocking;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod service;
pub mod store;
pub mod views;
