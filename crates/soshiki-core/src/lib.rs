#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Soshiki core (placeholder docs, replaced below).

pub mod error;
pub mod hash;
pub mod keys;
pub mod scheme;
pub mod suite;
pub mod wire;
