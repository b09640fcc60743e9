#!/usr/bin/env bash
# The README's run command: Soshiki's server with the web UI and demo data, in one step on a
# fresh Debian machine with Rust. Installs what is missing (the system libraries when run as
# root; the wasm32 target and wasm-bindgen-cli), builds the browser crypto module when it is
# not built, then starts `soshiki serve --demo` on http://127.0.0.1:7780/.
# Extra arguments go to `soshiki serve` (e.g. --bind 0.0.0.0:7780 --data /tmp/demo).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in libssl-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "run-demo: install ${missing[*]} first: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
if [ ! -f web/pkg/soshiki_wasm_bg.wasm ]; then
  ./scripts/install-web-tools.sh
  ./scripts/build-web.sh
fi
cat <<'TEXT'
run-demo: building and starting the server. When it says "Press Ctrl-C to stop", open
  http://127.0.0.1:7780/
and choose a member under 「デモの職員として試す」 (Try as a demo member): 大町地区 担当 has a
sample list to open; 大町市 受付窓口 has the rest to forward (転送) or recall (取り消し);
県 送付担当 can send (送信). Demo data lives in ./soshiki-data (delete it to start over).
TEXT
exec cargo run -q -p soshiki-cli -- serve --demo "$@"
