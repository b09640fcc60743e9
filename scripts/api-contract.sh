#!/usr/bin/env bash
# The API contract: schemathesis (PyPI, pinned) runs every check and every phase (examples,
# coverage, fuzzing, stateful with the document's links) against `soshiki serve --demo`, once
# per logged-in member kind (an organization administrator, a representative). Any failure
# fails this script. Configuration: tests/api-contract/schemathesis.toml.
#
# Usage: scripts/api-contract.sh [--examples N]   (default 40 examples per operation)
# Env: SOSHIKI_CONTRACT_SKIP_BUILD=1 uses target/debug/soshiki as built by `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
examples=40
if [[ ${1:-} == --examples ]]; then examples=$2; fi

SCHEMATHESIS_VERSION=4.32.5
tools=${SOSHIKI_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/soshiki-tools}
venv=$tools/venv-schemathesis-$SCHEMATHESIS_VERSION
log() { echo "api-contract: $*" >&2; }

if [[ ! -x $venv/bin/st ]]; then
    command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3; }
    mkdir -p "$tools"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt-get update -qq && apt-get install -y -qq python3-venv
        python3 -m venv "$venv"
    fi
    log "pip install schemathesis==$SCHEMATHESIS_VERSION"
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [[ ${SOSHIKI_CONTRACT_SKIP_BUILD:-0} != 1 ]]; then
    cargo build -q --bin soshiki
fi
bin=$root/target/debug/soshiki

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
# No rate limit: schemathesis sends thousands of unauthenticated requests from one address.
"$bin" --lang en serve --demo --data "$work/data" --bind "127.0.0.1:$port" --rate-limit 0 \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
    if grep -q "Demo data seeded" "$work/server.log" 2>/dev/null \
        && curl -sf "$url/v1/info" >/dev/null 2>&1; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; log "the server did not start"; exit 1; }
    sleep 0.5
done
curl -sf "$url/v1/info" >/dev/null || { cat "$work/server.log" >&2; log "the server did not answer"; exit 1; }

demo=$work/data/demo
status=0
for member in omachi-admin omachi-rep; do
    state=$work/state-$member
    mkdir -p "$state"
    SOSHIKI_STATE=$state "$bin" --lang en --passphrase-file "$demo/passphrase.txt" \
        login --server "$url" --key "$demo/omachi/$member.key" >/dev/null
    eval "$(python3 - "$state/client-state.json" <<'EOF'
import json, sys
token = next(iter(json.load(open(sys.argv[1]))["tokens"].values()))
print(f"export SOSHIKI_TOKEN={token['token']} SOSHIKI_CERT={token['cert_id']}")
EOF
)"
    SOSHIKI_ORG=$(curl -sf -H "Authorization: Bearer $SOSHIKI_TOKEN" "$url/v1/members/$SOSHIKI_CERT" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["org_id"])')
    export SOSHIKI_ORG
    log "schemathesis as $member ($examples examples per operation)"
    if ! "$venv/bin/st" --config-file "$root/tests/api-contract/schemathesis.toml" run \
        --max-examples "$examples" --no-color "$url/v1/openapi.json" >"$work/st-$member.log" 2>&1; then
        cat "$work/st-$member.log"
        log "schemathesis found failures as $member"
        status=1
    else
        sed -n '/Stateful/,$p' "$work/st-$member.log"
    fi
done
if grep -q "panicked" "$work/server.log"; then
    grep -B2 -A8 "panicked" "$work/server.log" >&2
    log "the server panicked"
    status=1
fi
exit $status
