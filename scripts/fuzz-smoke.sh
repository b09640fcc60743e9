#!/usr/bin/env bash
# Fuzz smoke run: every decoder's fuzz target for a few seconds each, from generated seeds.
# Exits non-zero if any target crashes (panic, failed assertion, timeout, out of memory).
#
# Works on a fresh machine with only stable Rust: cargo-fuzz is installed if missing, and the
# targets are built without a sanitizer (`-s none`), which needs no nightly flag. See
# fuzz/README.md for AddressSanitizer runs and longer sessions.
#
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]   (default 10; or FUZZ_SECONDS)
#        FUZZ_SANITIZER=address scripts/fuzz-smoke.sh   (ASan on stable via RUSTC_BOOTSTRAP=1)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${1:-${FUZZ_SECONDS:-10}}"
sanitizer="${FUZZ_SANITIZER:-none}"
if [ "$sanitizer" != none ]; then
  # -Zsanitizer is a nightly flag; stable rustc accepts it with RUSTC_BOOTSTRAP=1.
  export RUSTC_BOOTSTRAP=1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  # 0.13.2 is known to build with stable 1.95; fall back to the newest if the pin fails.
  cargo install cargo-fuzz --version 0.13.2 --locked || cargo install cargo-fuzz
fi

echo "== generating seed inputs into fuzz/corpus"
cargo run --quiet --example seeds -- corpus

echo "== building the fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build -s "$sanitizer"

logs="$(mktemp -d)"
failed=()
for t in $(cargo fuzz list); do
  echo "== $t: ${secs}s"
  mkdir -p "corpus/$t"
  # -timeout: one input may take at most 30 s (key files run Argon2); -rss_limit_mb: 2 GiB.
  if cargo fuzz run -s "$sanitizer" "$t" -- \
      -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$logs/$t.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|Done )' "$logs/$t.log" | tail -1 || true
  else
    echo "!! $t FAILED; last lines of its log:"
    tail -40 "$logs/$t.log"
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "== fuzz smoke FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/; reproduce with"
  echo "   cargo fuzz run -s $sanitizer <target> fuzz/artifacts/<target>/<file>)"
  exit 1
fi
echo "== fuzz smoke passed"
