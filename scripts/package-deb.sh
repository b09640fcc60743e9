#!/usr/bin/env bash
# Builds the Debian package of `soshiki` (packaging/README.md):
#   1. web/pkg (the browser crypto module the binary embeds), when missing;
#   2. the release binary (`cargo build --release --bin soshiki`, once);
#   3. the man pages, from that binary (`soshiki manpage`);
#   4. the .deb with cargo-deb (`--no-build`: no second build), into target/debian/ under the
#      target directory (CARGO_TARGET_DIR when set).
# Prints the path of the .deb on standard output (everything else goes to standard error).
# Installs what it needs when missing: cargo-deb (crates.io, pinned) and dpkg-dev (apt, for
# dpkg-shlibdeps; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "package-deb: $*" >&2; }

CARGO_DEB_VERSION=3.8.0

have=$(cargo deb --version 2>/dev/null | awk '{print $2}' || true)
if [[ $have != "$CARGO_DEB_VERSION" ]]; then
    log "installing cargo-deb $CARGO_DEB_VERSION (found: ${have:-none})"
    cargo install --locked cargo-deb --version "$CARGO_DEB_VERSION" >&2
fi
if ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
    if [[ $(id -u) != 0 ]]; then
        log "dpkg-shlibdeps is missing: apt-get install dpkg-dev (as root)"
        exit 1
    fi
    log "installing dpkg-dev (dpkg-shlibdeps)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >&2
fi

if [[ ! -f web/pkg/soshiki_wasm_bg.wasm ]]; then
    log "web/pkg is missing: building the browser crypto module"
    ./scripts/install-web-tools.sh >&2
    ./scripts/build-web.sh >&2
fi

target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[[ -n $target ]] || { log "cannot find the target directory (cargo metadata)"; exit 1; }

start=$(date +%s)
cargo build --release --locked --bin soshiki >&2
log "release build: $(($(date +%s) - start)) s"
bin=$target/release/soshiki
# The binary must embed the web UI's WebAssembly module (crates/soshiki-server/build.rs).
if ! grep -qa '/pkg/soshiki_wasm_bg.wasm' "$bin"; then
    log "$bin does not embed web/pkg/soshiki_wasm_bg.wasm; rebuild it (touch web/ and run again)"
    exit 1
fi

man=$target/release/man
rm -rf "$man"
"$bin" --lang en manpage --out "$man" >&2
# Compressed here (cargo-deb compresses man pages only when they are not build products);
# -n: no name or time stamp in the header, so the same pages give the same bytes.
gzip -9n "$man"/*.1

# cargo-deb prints the path of the package on standard output, its progress on standard error.
deb=$(cargo deb -p soshiki-cli --no-build --locked | tail -n 1)
[[ -n $deb && -f $deb ]] || { log "cargo deb produced no package"; exit 1; }
log "$deb: $(stat -c %s "$deb") bytes"
echo "$deb"
