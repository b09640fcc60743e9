#!/usr/bin/env bash
# End-to-end tests of the web UI: headless Debian Chromium driven by playwright-core
# (web/e2e), against `soshiki serve --demo` on 127.0.0.1. Screenshots and downloads go to
# target/e2e-artifacts/.
#   SOSHIKI_E2E_SKIP_BUILD=1  use the existing target/debug/soshiki
#   SOSHIKI_E2E_KEEP=1        keep the temporary data directory
#   SOSHIKI_E2E_BENCH=1       also run the benchmark (forward and open 100 MiB, browser vs CLI;
#                             SOSHIKI_E2E_BENCH_MIB=N for another size, e.g. 1024)
# Arguments: a substring of test names to run only those (e.g. `scripts/e2e.sh omachi`).
# Needs: /usr/bin/chromium (installed with apt-get when missing), node + npm, and the browser
# crypto module in web/pkg (built with scripts/build-web.sh when missing and the tools exist).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

sudo_cmd=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
if [ ! -x /usr/bin/chromium ]; then
    echo "e2e: installing Debian chromium"
    $sudo_cmd apt-get update
    $sudo_cmd apt-get install -y --no-install-recommends chromium
fi
# Japanese glyphs for legible screenshots (optional: the tests do not depend on fonts).
if ! fc-list 2>/dev/null | grep -i 'cjk' >/dev/null; then
    $sudo_cmd apt-get install -y --no-install-recommends fonts-noto-cjk ||
        echo "e2e: fonts-noto-cjk not installed; screenshots will show boxes for Japanese text"
fi

if [ ! -f web/pkg/soshiki_wasm_bg.wasm ]; then
    echo "e2e: web/pkg is missing; building the browser crypto module"
    scripts/build-web.sh
fi

# playwright-core only: it never downloads a browser (we use /usr/bin/chromium).
(cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

if [ -z "${SOSHIKI_E2E_SKIP_BUILD:-}" ]; then
    cargo build -p soshiki-cli
fi
bin=$root/target/debug/soshiki

tmp=$(mktemp -d /tmp/soshiki-e2e.XXXXXX)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" --lang en serve --demo --data "$tmp/data" --bind "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!
cleanup() {
    kill -INT "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    if [ -z "${SOSHIKI_E2E_KEEP:-}" ]; then rm -rf "$tmp"; else echo "e2e: kept $tmp"; fi
}
trap cleanup EXIT

# Wait until every scenario is seeded (the last line names the passphrase file).
for _ in $(seq 1 600); do
    if grep -q "passphrase.txt" "$tmp/server.log" 2>/dev/null; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$tmp/server.log" >&2
        echo "e2e: the server stopped" >&2
        exit 1
    fi
    sleep 0.5
done
grep -q "passphrase.txt" "$tmp/server.log" || { cat "$tmp/server.log" >&2; echo "e2e: seeding timed out" >&2; exit 1; }

node web/e2e/unit.mjs

mkdir -p target/e2e-artifacts
SOSHIKI_URL="http://127.0.0.1:$port" \
SOSHIKI_DATA="$tmp/data" \
SOSHIKI_BIN="$bin" \
SOSHIKI_WORK="$tmp/work" \
SOSHIKI_ARTIFACTS="$root/target/e2e-artifacts" \
    node web/e2e/run.mjs "$@"
