//! credit-desk server: the gRPC services, the rules they enforce, and the
//! storage they share. The binary (`main.rs`) only parses the command line.

pub mod auth_layer;
pub mod authz;
pub mod backup;
pub mod clock;
pub mod config;
pub mod context;
pub mod db;
pub mod demo;
pub mod domain;
pub mod errors;
pub mod export;
pub mod http2;
pub mod id_check;
pub mod import_cli;
pub mod intake;
pub mod limits;
pub mod lockout;
pub mod messages;
pub mod metrics;
pub mod objections;
pub mod password;
pub mod registry;
pub mod rules;
pub mod server;
pub mod services;
pub mod settings;
pub mod setup;
pub mod ssh;
pub mod synth;
pub mod token;
pub mod transport;
pub mod vault;
