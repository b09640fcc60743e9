#!/usr/bin/env bash
# Throwaway test services on loopback for the soshiki-store contract tests:
# a PostgreSQL 15 server and an S3-compatible server (s3s-fs, or moto as a fallback).
#
#   eval "$(scripts/services.sh start)"   # prints `export SOSHIKI_TEST_…=…` lines
#   cargo test -p soshiki-store
#   scripts/services.sh stop
#
# `start` installs what is missing (PostgreSQL from Debian, s3s-fs with cargo, or moto with
# pip in a virtualenv), works as root on a fresh machine, picks free ports on 127.0.0.1 and
# keeps its state in $SOSHIKI_SERVICES_DIR (default /tmp/soshiki-services). A second `start`
# reuses running services. Only the export lines go to stdout; progress goes to stderr.
set -euo pipefail

STATE=${SOSHIKI_SERVICES_DIR:-/tmp/soshiki-services}
BUCKET=soshiki-test
S3_KEY=soshiki-test-key
S3_SECRET=soshiki-test-secret
S3S_FS_VERSION=0.14.1

log() { echo "services: $*" >&2; }
die() { log "error: $*"; exit 1; }

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

wait_port() { # port seconds
    local i
    for i in $(seq 1 $(($2 * 10))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

alive() { # pidfile
    [[ -f $1 ]] && kill -0 "$(head -n 1 "$1")" 2>/dev/null
}

apt_updated=
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "cannot install $* (no apt-get)"
    [[ $(id -u) -eq 0 ]] || die "installing $* needs root"
    if [[ -z $apt_updated ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---- PostgreSQL ------------------------------------------------------------------------------

pg_bindir() {
    local d
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    # Debian's packages: the newest version first.
    for d in /usr/local/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -nr); do
        if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
            echo "$d"
            return
        fi
    done
    return 1
}

# PostgreSQL refuses to run as root: run its tools as an unprivileged user.
pg_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id soshiki-pg >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin soshiki-pg >&2
        echo soshiki-pg
    fi
}

as_pg() { # user command...
    local u=$1
    shift
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$u" -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local dir=$STATE/pg bin user port
    if [[ -f $dir/url ]] && alive "$dir/data/postmaster.pid"; then
        log "PostgreSQL already running"
        return
    fi
    if ! bin=$(pg_bindir); then
        apt_install postgresql
        bin=$(pg_bindir) || die "PostgreSQL binaries not found after installing"
    fi
    local version
    version=$("$bin/initdb" --version | grep -oE '[0-9]+' | head -1)
    ((version >= 15)) || die "PostgreSQL $version found in $bin; 15 or later is needed"
    user=$(pg_user)
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$STATE"
    [[ $(id -u) -ne 0 ]] || chown "$user:" "$dir"
    port=$(free_port)
    log "PostgreSQL $version ($bin) on 127.0.0.1:$port"
    as_pg "$user" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_pg "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >&2 || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
    echo "$bin" >"$dir/bin"
    echo "$user" >"$dir/user"
    echo "postgres://postgres@127.0.0.1:$port/postgres" >"$dir/url"
}

stop_postgres() {
    local dir=$STATE/pg
    [[ -d $dir/data ]] || return 0
    if [[ -f $dir/bin && -f $dir/user ]] && alive "$dir/data/postmaster.pid"; then
        log "stopping PostgreSQL"
        as_pg "$(cat "$dir/user")" "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
}

# ---- S3-compatible server --------------------------------------------------------------------

find_s3s_fs() {
    if command -v s3s-fs >/dev/null 2>&1; then
        command -v s3s-fs
    elif [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs ]]; then
        echo "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs"
    else
        return 1
    fi
}

start_s3() {
    local dir=$STATE/s3 port exe
    if [[ -f $dir/url ]] && alive "$dir/pid"; then
        log "S3 server already running"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir/root/$BUCKET"
    port=$(free_port)
    if ! exe=$(find_s3s_fs) && command -v cargo >/dev/null 2>&1; then
        log "cargo install s3s-fs $S3S_FS_VERSION (a few minutes, once)"
        cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked >&2 ||
            cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary >&2 ||
            log "cargo install s3s-fs failed; falling back to moto"
        exe=$(find_s3s_fs) || exe=
    fi
    if [[ -n ${exe:-} ]]; then
        log "s3s-fs on 127.0.0.1:$port"
        setsid "$exe" --host 127.0.0.1 --port "$port" --access-key "$S3_KEY" --secret-key "$S3_SECRET" \
            "$dir/root" >"$dir/server.log" 2>&1 </dev/null &
        echo $! >"$dir/pid"
        wait_port "$port" 30 || { cat "$dir/server.log" >&2; die "s3s-fs did not start"; }
    else
        start_moto "$dir" "$port"
    fi
    echo "s3://$BUCKET?endpoint=http://127.0.0.1:$port&access_key=$S3_KEY&secret_key=$S3_SECRET&region=us-east-1" >"$dir/url"
}

# moto does not check signatures: the weaker test peer, used only without s3s-fs.
start_moto() { # dir port
    local dir=$1 port=$2 venv=$STATE/venv
    if [[ ! -x $venv/bin/moto_server ]]; then
        command -v python3 >/dev/null 2>&1 || apt_install python3
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            rm -rf "$venv"
            apt_install python3-venv
            python3 -m venv "$venv" >&2
        fi
        log "pip install moto[server]"
        "$venv/bin/pip" install -q 'moto[server]' >&2
    fi
    log "moto on 127.0.0.1:$port"
    setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    wait_port "$port" 60 || { cat "$dir/server.log" >&2; die "moto did not start"; }
    "$venv/bin/python" - "$port" "$BUCKET" <<'EOF'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/{sys.argv[2]}", method="PUT")).read()
EOF
}

stop_s3() {
    local dir=$STATE/s3
    if alive "$dir/pid"; then
        log "stopping the S3 server"
        local pid
        pid=$(cat "$dir/pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
}

# ---- commands --------------------------------------------------------------------------------

print_env() {
    echo "export SOSHIKI_TEST_POSTGRES_URL='$(cat "$STATE/pg/url")'"
    echo "export SOSHIKI_TEST_S3_URL='$(cat "$STATE/s3/url")'"
}

case ${1:-} in
start)
    mkdir -p "$STATE"
    start_postgres
    start_s3
    print_env
    ;;
stop)
    stop_postgres
    stop_s3
    rm -rf "$STATE"
    log "stopped"
    ;;
env)
    [[ -f $STATE/pg/url && -f $STATE/s3/url ]] || die "not started"
    print_env
    ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
