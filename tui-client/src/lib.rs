//! credit-desk workstation: a keyboard-driven terminal client.
//!
//! [`app::App`] is the state machine, [`screens`] draw and react, [`net`]
//! talks to the server, [`run`] joins them on any ratatui backend and any
//! stream of terminal events — a local terminal, or an SSH channel through [`remote`].

pub mod app;
pub mod case_file;
pub mod compact_backend;
pub mod form;
pub mod help;
pub mod i18n;
pub mod keys;
pub mod launch;
pub mod letters;
pub mod local_input;
pub mod net;
pub mod print;
pub mod reference_cache;
pub mod remote;
pub mod run;
pub mod screens;
pub mod status_bar;
pub mod theme;
pub mod transport;
