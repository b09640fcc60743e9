#!/usr/bin/env bash
# Runs every test: formatting, lints, unit/integration/property/doc tests (the storage contract
# suite against SQLite and a real PostgreSQL 15, the blob suite against local files and a real
# S3-compatible server, both started here on loopback), test-vector regeneration check, the
# CLI and scenario tests, the browser crypto module (size budget, interoperability with the CLI),
# the web UI end to end in headless Chromium, the API contract (schemathesis against the OpenAPI
# document), the Debian package (built, installed, run against a scenario, removed and purged;
# it needs root: SOSHIKI_SKIP_DEB=1 skips it), a 30-second soak per storage backend, and a short
# fuzz smoke run. Set SOSHIKI_SKIP_FUZZ=1 to skip the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

echo "== rustfmt"
cargo fmt --all -- --check

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets --exclude soshiki-compare -- -D warnings

echo "== test services (PostgreSQL 15, S3-compatible) on 127.0.0.1"
services_out=$(scripts/services.sh start)
eval "$services_out"
trap 'scripts/services.sh stop >/dev/null 2>&1 || true' EXIT
export SOSHIKI_REQUIRE_SERVICES=1

echo "== browser crypto module (wasm32 target, wasm-bindgen-cli, web/pkg with its size budget)"
# Before the tests: the server embeds web/pkg when it exists (crates/soshiki-server/build.rs).
./scripts/install-web-tools.sh
SOSHIKI_WASM_NODE=1 ./scripts/build-web.sh

echo "== tests (unit, integration, property, negative, vectors, store contract, server, CLI, doc)"
cargo test --workspace --exclude soshiki-compare

# Both use the `soshiki` binary `cargo test` just built (with web/pkg embedded): a separate
# `cargo build -p soshiki-cli` would rebuild dependencies with other features for nothing.
echo "== browser crypto <-> CLI interoperability (Node, both suites)"
SOSHIKI_INTEROP_SKIP_BUILD=1 ./scripts/wasm-interop.sh

echo "== web UI end to end (headless Debian Chromium, playwright-core)"
SOSHIKI_E2E_SKIP_BUILD=1 ./scripts/e2e.sh

echo "== API contract (schemathesis: every check and phase against serve --demo, two members)"
SOSHIKI_CONTRACT_SKIP_BUILD=1 ./scripts/api-contract.sh

if [ "${SOSHIKI_SKIP_DEB:-0}" != "1" ]; then
  echo "== Debian package (cargo-deb: build, dpkg -i, the installed server and a scenario, upgrade path, dpkg -r/-P; needs root)"
  ./scripts/deb-test.sh
fi

echo "== soak (30 s per backend: 50 members send, forward, open, recall; SQLite, then PostgreSQL + S3 with two processes)"
SOSHIKI_SOAK_SKIP_BUILD=1 ./scripts/soak.sh

echo "== comparison crate builds (benchmarks are run by hand, not in tests)"
cargo check -p soshiki-compare

if [ "${SOSHIKI_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz smoke run"
  ./scripts/fuzz-smoke.sh
fi
echo "== all tests passed"
