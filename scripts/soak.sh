#!/usr/bin/env bash
# Soak run (issue 10): 50 concurrent members sending, forwarding, opening and recalling against
# `soshiki serve` on 127.0.0.1 only, first on SQLite and files, then (when the test services
# are running: eval "$(scripts/services.sh start)") on PostgreSQL + S3 with two server
# processes. Bounded: SOSHIKI_SOAK_SECONDS per backend (default 30; the closing figures use 600)
# and at most 200,000 operations. Fails on any unexpected error; prints p50/p99 latency per
# operation and each server's RSS after setup and at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SOSHIKI_SOAK_SECONDS:-30}
members=${SOSHIKI_SOAK_MEMBERS:-50}
target=${CARGO_TARGET_DIR:-target}
# The servers run with the allocator setting of the packaged unit (packaging/debian/soshiki.service,
# docs/operations.md "Memory"), read from the unit so that the two cannot drift apart.
arena=$(sed -n 's/^Environment=MALLOC_ARENA_MAX=//p' packaging/debian/soshiki.service)
[ -n "$arena" ] || { echo "soak: the unit sets no MALLOC_ARENA_MAX" >&2; exit 1; }
export MALLOC_ARENA_MAX=$arena
# SOSHIKI_SOAK_SKIP_BUILD=1: use what `cargo test --workspace` built (the binary and the
# example), as scripts/test.sh does.
if [ "${SOSHIKI_SOAK_SKIP_BUILD:-0}" != 1 ]; then
  cargo build -q --bin soshiki
  cargo build -q -p soshiki-server --example soak
fi
soak="$target/debug/examples/soak"
if [ ! -x "$soak" ] || [ ! -x "$target/debug/soshiki" ]; then
  # Not built by the caller: build them (same profile and features as `cargo test`).
  cargo build -q --bin soshiki
  cargo build -q -p soshiki-server --example soak
fi
"$soak" --bin "$target/debug/soshiki" --seconds "$seconds" --members "$members"
if [ -n "${SOSHIKI_TEST_POSTGRES_URL:-}" ] && [ -n "${SOSHIKI_TEST_S3_URL:-}" ]; then
  "$soak" --bin "$target/debug/soshiki" --seconds "$seconds" --members "$members" \
    --postgres "$SOSHIKI_TEST_POSTGRES_URL" --s3 "$SOSHIKI_TEST_S3_URL"
elif [ "${SOSHIKI_REQUIRE_SERVICES:-}" = 1 ]; then
  echo "soak: SOSHIKI_REQUIRE_SERVICES=1 but the PostgreSQL/S3 services are not running" >&2
  exit 1
else
  echo "soak: SKIPPED PostgreSQL + S3 (eval \"\$(scripts/services.sh start)\" to run it)"
fi
