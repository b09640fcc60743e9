#!/usr/bin/env bash
# Installs the tools that build the browser crypto (crates/soshiki-wasm -> web/pkg):
#   - the rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli at exactly the version of the `wasm-bindgen` crate in Cargo.lock
#     (the CLI and the crate must match; installed without --locked, which fails for this CLI)
# wasm-opt is not installed: Debian's binaryen 108 breaks wasm-bindgen's externref table (see
# scripts/build-web.sh), so the module is shipped as rustc and wasm-bindgen emit it.
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
