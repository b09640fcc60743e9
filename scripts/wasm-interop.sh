#!/usr/bin/env bash
# Interoperability of the browser crypto (crates/soshiki-wasm) with the CLI, on both suites:
# key files and an envelope made by `soshiki` are unlocked and opened from JavaScript (Node),
# and an envelope encrypted from JavaScript is decrypted by `soshiki decrypt`.
# Builds as needed: the CLI (debug) and the wasm package (scripts/build-web.sh, with the
# Node.js output in target/wasm/node-pkg). Needs scripts/install-web-tools.sh and node >= 18.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SOSHIKI_WASM_NODE=1 ./scripts/build-web.sh
# SOSHIKI_INTEROP_SKIP_BUILD=1: use the existing target/debug/soshiki (scripts/test.sh: the one
# `cargo test` just built, instead of a second build with other dependency features).
if [ -z "${SOSHIKI_INTEROP_SKIP_BUILD:-}" ]; then
    cargo build -p soshiki-cli
fi
cli=$root/target/debug/soshiki

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOSHIKI_PASSPHRASE="interop passphrase 相互運用"
export LANG=C
unset LC_ALL LC_MESSAGES

for suite in p256 ristretto255; do
    d=$work/$suite
    mkdir -p "$d"
    cd "$d"
    sk() { "$cli" --kdf-min "$@"; }
    sk keygen org --name "Org A 市民課" --suite "$suite" -o org-a.key >/dev/null
    sk keygen org --name "Org B 福祉課" --suite "$suite" -o org-b.key >/dev/null
    sk keygen member --name sender --roles reader --org-key org-a.key -o sender.key >/dev/null
    sk keygen member --name rep --roles representative --org-key org-b.key -o rep.key >/dev/null
    printf '送付状: 敬老会の名簿を送ります\n' >cover.txt
    # A list larger than a few chunks, with a partial last chunk.
    for i in $(seq 1 3000); do printf '%d,名前%d,大町\n' "$i" "$i"; done >list.csv
    sk encrypt --key sender.key --to rep.id --part cover.txt::kind=cover \
        --part list.csv::district=Omachi,kind=list --title "敬老会 名簿" --category keirokai \
        --chunk-size 4096 -o cli.skenv >/dev/null
    node "$root/crates/soshiki-wasm/tests/interop.mjs" "$d" "$root/target/wasm/node-pkg" "$suite"
    sk decrypt js.skenv --key rep.key -o out-js >/dev/null
    cmp cover.txt out-js/cover.txt
    cmp list.csv out-js/list.csv
    sk verify js.skenv >/dev/null
    echo "wasm-interop ($suite): the CLI decrypted the envelope encrypted in JavaScript"
    cd "$root"
done
echo "wasm-interop: OK"
