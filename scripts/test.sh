#!/usr/bin/env bash
# Runs every test: formatting, lints, unit/integration/property/doc tests, test-vector
# regeneration check, and a short fuzz smoke run. Set SOSHIKI_SKIP_FUZZ=1 to skip the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

echo "== rustfmt"
cargo fmt --all -- --check

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets --exclude soshiki-compare -- -D warnings

echo "== tests (unit, integration, property, negative, vectors, CLI, doc)"
cargo test --workspace --exclude soshiki-compare

echo "== comparison crate builds (benchmarks are run by hand, not in tests)"
cargo check -p soshiki-compare

if [ "${SOSHIKI_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz smoke run"
  ./scripts/fuzz-smoke.sh
fi
echo "== all tests passed"
