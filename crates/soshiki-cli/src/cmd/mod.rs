//! The subcommands.

pub mod common;
pub mod decrypt;
pub mod demo;
pub mod encrypt;
pub mod forward;
pub mod inspect;
pub mod keygen;
