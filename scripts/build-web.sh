#!/usr/bin/env bash
# Builds the browser crypto: crates/soshiki-wasm -> web/pkg (wasm-bindgen --target web), and
# checks its size budget. Run scripts/install-web-tools.sh first.
#   SOSHIKI_WASM_NODE=1   also write a Node.js build to target/wasm/node-pkg (interop tests)
#   SOSHIKI_WASM_BUDGET=N override the budget (bytes) for soshiki_wasm_bg.wasm
#   SOSHIKI_WASM_FEATURES=F  build with extra crate features F (the default features, e.g. `partners`,
#                            the partner list, are always on and within the budget)
set -euo pipefail
cd "$(dirname "$0")/.."

# Size budget for web/pkg/soshiki_wasm_bg.wasm: measured 617,476 bytes (248,435 gzipped) on
# 2026-11-22 (rustc 1.95, wasm-bindgen 0.2.130, no wasm-opt; opt-level "z" with the body crypto
# crates at 3 and simd128, see [profile.wasm-release] in Cargo.toml), plus about 15 % headroom.
# 2026-12-03: 895,989 bytes (417,755 gzipped) with the CSV splitter (csvColumns/splitCsv): 697,169
# before it; the splitter itself adds ~39 KB and encoding_rs's Shift_JIS decoder ~160 KB (its
# decoder dispatches over every encoding, so the tables of all of them are linked). Plus ~15 %.
budget=${SOSHIKI_WASM_BUDGET:-1030000}

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
    echo "build-web: wasm-bindgen $want is needed (found: ${have:-none}); run scripts/install-web-tools.sh" >&2
    exit 1
fi

start=$(date +%s)
# WebAssembly SIMD (simd128; Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Node 16.4+): about
# +15 % for body encryption/decryption (LLVM vectorizes parts of the software AES/GHASH/SHA-256;
# none of aes 0.8, polyval 0.6, sha2 0.10 has a wasm SIMD backend) and a smaller module. Set for
# this target only, so native builds are unaffected. Cargo ignores target rustflags when RUSTFLAGS
# is set, so then the flag is added to RUSTFLAGS for this build (with --target, RUSTFLAGS does
# not reach build scripts and proc macros).
simd="-C target-feature=+simd128"
if [ -n "${CARGO_ENCODED_RUSTFLAGS:-}" ]; then
    echo "build-web: unset CARGO_ENCODED_RUSTFLAGS (it would drop $simd)" >&2
    exit 1
elif [ -n "${RUSTFLAGS:-}" ]; then
    export RUSTFLAGS="$RUSTFLAGS $simd"
else
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} $simd"
fi
# A separate target directory: the wasm build does not wait for the native build's lock.
# SOSHIKI_WASM_FEATURES: extra crate features (see crates/soshiki-wasm/Cargo.toml; the defaults,
# including `partners`, are always built).
cargo build -p soshiki-wasm --target wasm32-unknown-unknown --profile wasm-release \
    --target-dir target/wasm ${SOSHIKI_WASM_FEATURES:+--features "$SOSHIKI_WASM_FEATURES"}
raw=target/wasm/wasm32-unknown-unknown/wasm-release/soshiki_wasm.wasm

wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir web/pkg "$raw"
if [ -n "${SOSHIKI_WASM_NODE:-}" ]; then
    wasm-bindgen --target nodejs --out-dir target/wasm/node-pkg "$raw"
fi
out=web/pkg/soshiki_wasm_bg.wasm
optimize() {
    # Rust emits bulk-memory and other post-MVP features by default; wasm-bindgen adds an
    # externref table.
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$1" -o "$1.opt"
    mv "$1.opt" "$1"
}
# wasm-opt is opt-in (SOSHIKI_WASM_OPT=1): Debian's binaryen 108 turns wasm-bindgen 0.2.130's
# externref table into one that JS cannot initialise ("WebAssembly.Table.set(): Argument 1 is
# invalid for table"), so its output does not load. The budget is for the unoptimized module.
if [ -n "${SOSHIKI_WASM_OPT:-}" ] && command -v wasm-opt >/dev/null 2>&1; then
    optimize "$out"
    if [ -n "${SOSHIKI_WASM_NODE:-}" ]; then
        optimize target/wasm/node-pkg/soshiki_wasm_bg.wasm
    fi
fi
end=$(date +%s)

size=$(stat -c %s "$out")
gz=$(gzip -9 -c "$out" | wc -c)
echo "build-web: $out: $size bytes ($gz gzipped), budget $budget bytes, built in $((end - start)) s"
if [ "$size" -gt "$budget" ]; then
    echo "build-web: soshiki_wasm_bg.wasm exceeds its size budget ($size > $budget bytes)" >&2
    exit 1
fi
