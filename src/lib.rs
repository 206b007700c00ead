//! Plenum: the working platform of a multi-party body — plenary meetings and working groups,
//! rotating chairs, recommendations followed up for years, and decisions drafted together live.
//!
//! The crate is organised by domain area (see `architecture.md`): [`db`] for storage, [`http`] for
//! the HTTP layer, [`startup`] to build and run the server, [`config`] and [`telemetry`].

pub mod accounts;
pub mod app;
pub mod audit;
pub mod bodies;
pub mod clock;
pub mod config;
pub mod db;
pub mod decisions;
pub mod demo;
pub mod drafting;
pub mod error;
pub mod freshness;
pub mod http;
pub mod mail;
pub mod meetings;
pub mod memory;
pub mod metrics;
pub mod page;
pub mod policy;
pub mod realtime;
pub mod recommendations;
pub mod scheduler;
pub mod startup;
pub mod telemetry;
pub mod validate;

pub use error::Error;
pub use http::error::ApiError;
