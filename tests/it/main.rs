//! Integration tests: each module is an area, and every test starts the real server on
//! 127.0.0.1 with a fresh temporary data directory (or runs the real `outpost` binary).

mod admin;
mod audit;
mod auth;
mod backup;
mod bots;
mod calls;
mod chat;
mod cli;
mod cluster;
mod damage;
mod files;
mod helpers;
mod http;
mod ldap;
mod links;
mod manage;
mod messages;
mod people;
mod profiles;
mod realtime;
mod rtc_client;
mod tls;
mod two_factor;
mod webhooks;
