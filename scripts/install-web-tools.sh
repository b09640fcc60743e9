#!/usr/bin/env bash
# Installs the tools that build the browser crypto (crates/soshiki-wasm -> web/pkg):
#   - the rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in Cargo.lock
#     (the CLI and the crate must match; installed without --locked, which fails for this CLI)
#   - optionally Debian's binaryen (wasm-opt), when apt can install it (set SOSHIKI_NO_APT=1 to skip)
# Idempotent: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "install-web-tools: adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$want" ]; then
    echo "install-web-tools: no wasm-bindgen crate in Cargo.lock" >&2
    exit 1
fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
    echo "install-web-tools: installing wasm-bindgen-cli $want (found: ${have:-none})"
    cargo install wasm-bindgen-cli --version "$want" --force
else
    echo "install-web-tools: wasm-bindgen $have already installed"
fi

if ! command -v wasm-opt >/dev/null 2>&1 && [ -z "${SOSHIKI_NO_APT:-}" ]; then
    policy=$(apt-cache policy binaryen 2>/dev/null || true)
    if command -v apt-get >/dev/null 2>&1 && grep -q 'Candidate: [0-9]' <<<"$policy"; then
        echo "install-web-tools: installing binaryen (wasm-opt) from Debian"
        sudo_cmd=""
        if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
        $sudo_cmd apt-get install -y --no-install-recommends binaryen ||
            echo "install-web-tools: binaryen not installed (optional; wasm-opt is skipped)"
    else
        echo "install-web-tools: binaryen not available (optional; wasm-opt is skipped)"
    fi
fi
