//! Pure types and rules of the product: no I/O happens here.

pub mod address_filter;
pub mod alarm;
pub mod api_token;
pub mod audit;
pub mod duration;
pub mod group;
pub mod password;
pub mod pending;
pub mod revocation_job;
pub mod session;
pub mod time;
pub mod token;
pub mod user;
pub mod user_agent;
