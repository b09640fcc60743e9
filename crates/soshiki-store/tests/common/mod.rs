//! Shared helpers of the contract suites: service URLs, skip-or-fail, unique names.

#![allow(dead_code)]

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable that turns a missing service into a failure (CI sets it).
pub const REQUIRE_SERVICES: &str = "SOSHIKI_REQUIRE_SERVICES";

/// The URL of a test service from `var`, or `None` with a skip notice; panics when
/// `SOSHIKI_REQUIRE_SERVICES=1` (so CI cannot skip silently).
pub fn service_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var(REQUIRE_SERVICES).as_deref() == Ok("1") {
                panic!(
                    "{test}: {var} is not set but {REQUIRE_SERVICES}=1; start the services with \
                     eval \"$(scripts/services.sh start)\""
                );
            }
            // Straight to stderr, past the test harness's output capture, so a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {var} is not set (eval \"$(scripts/services.sh start)\" to run it)"
            );
            None
        }
    }
}

/// A name unique to this process and call: lower-case letters, digits and `_`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{prefix}_{}_{}_{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        random & 0xffff_ffff
    )
}
