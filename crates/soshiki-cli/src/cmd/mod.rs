//! The subcommands.

pub mod agent;
pub mod backup;
pub mod client;
pub mod common;
pub mod decrypt;
pub mod demo;
pub mod embedded;
pub mod encrypt;
pub mod forward;
pub mod inspect;
pub mod keygen;
pub mod manpage;
pub mod scenarios;
pub mod serve;
pub mod settings;
