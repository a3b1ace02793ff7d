//! Outpost: a messaging appliance for networks cut off from the internet.
//!
//! - [`config`]: layered settings (defaults, TOML file, `OUTPOST_*` environment, flags).
//! - [`discovery`]: mDNS/DNS-SD advertisement and browsing.
//! - [`hub`]: real-time fan-out to connected clients.
//! - [`chat`]: channels, messages and their rules.
//! - [`pki`]: the name-constrained local CA and the auto-renewed server certificate.
//! - [`store`]: the SQLite database, group-committing writer and read pool; the only SQL.
//! - [`auth`]: passwords, sessions, invites, the setup token and sign-in rate limiting.
//! - [`http`]: the HTTPS API and web UI, and the plain-HTTP onboarding site.
//! - [`server`]: listeners, the TLS accept loop, graceful shutdown.
//! - [`jobs`]: background jobs (renewal, pruning, retention, backups, file sweep, directory sync,
//!   search indexing); site-wide ones run once per turn across a cluster's nodes.
//! - [`admin`]: what the CLI does against a data directory (users, CA, doctor).
//! - [`telemetry`]: logging setup.
//! - [`text`]: what names may contain (invisible characters, look-alike alphabets, emoji).

pub mod admin;
pub mod auth;
pub mod backup;
pub mod calls;
pub mod chat;
pub mod cluster;
pub mod config;
pub mod directory;
pub mod discovery;
pub mod http;
pub mod hub;
pub mod jobs;
pub mod links;
pub mod media;
pub mod metrics;
pub mod pki;
pub mod problem;
pub mod release;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod text;

pub use config::Config;
pub use server::{start, ServerHandle};
