#!/usr/bin/env bash
# Installs the Debian package on this machine and checks it as an operator meets it. Run as root
# on Debian (CI does); needs no running systemd (nothing here calls systemctl).
#   1. builds the package (scripts/package-deb.sh), or takes the .deb given as argument;
#   2. dpkg -i; checks the files are where they belong, with their owners and modes, the conffile,
#      the system user, the dependency on Debian's libssl3, every setting documented in the
#      shipped settings file, the service neither enabled nor started;
#   3. systemd-analyze verify of the unit (when the command exists) and its offline security
#      exposure score;
#   4. runs the INSTALLED binary with the unit's own ExecStart= line as the unit's User=, with the
#      installed settings file, overriding only the address (SOSHIKI_BIND=127.0.0.1:0: a free
#      port) and the data directory (a temporary one), with the demo organizations seeded; waits
#      for /readyz 200; runs a scenario against it with the installed CLI (a prefecture sends two
#      district lists to Omachi, the representative forwards each part to its district officer
#      without decrypting, each officer opens exactly its part byte for byte, the other part
#      stays out of reach, the audit trail verifies, /metrics counts it all); SIGTERM (clean exit);
#   5. runs it once more on the installed data directory /var/lib/soshiki (readiness, database
#      created there, owned by soshiki);
#      Where strace is installed, both runs are traced and checked against the unit's sandbox
#      (SystemCallFilter=, ProtectSystem=strict, ProtectHome=) without systemd;
#   5b. dpkg -i over itself (the upgrade path): an edited settings file, the data, owners, modes
#      and the user are kept;
#   6. `soshiki demo omachi` with the installed binary, as the user soshiki;
#   7. dpkg -r (program, unit and man pages gone; data, settings and user kept), then dpkg -P
#      (data, settings, user, statoverrides and systemd helper state gone); the files under
#      /etc, /usr and /var/lib are then the same as before the test.
# It leaves the machine as it found it, on failure too (trap): it refuses to start when a soshiki
# package, user, group, /etc/soshiki or /var/lib/soshiki exists, and removes the packages it had
# to install for the .deb's dependencies.
#
# Usage: scripts/deb-test.sh [PATH.deb]
set -Eeuo pipefail
cd "$(dirname "$0")/.."
log() { echo "deb-test: $*" >&2; }
# No silent exit: a command that fails unexpectedly names itself.
trap 'log "unexpected failure (status $?) at line $LINENO: $BASH_COMMAND"' ERR
fail() {
    log "FAIL: $*"
    exit 1
}
ok() { log "ok: $*"; }

[[ $(id -u) == 0 ]] || fail "run as root (it installs and removes a package)"
command -v dpkg >/dev/null 2>&1 || fail "dpkg is missing: this test runs on Debian"

# --- Preconditions: nothing of ours on the machine ----------------------------------------------
status_of() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true; }
[[ -z $(status_of soshiki) || $(status_of soshiki) == *not-installed* ]] \
    || fail "a soshiki package is already on this machine ($(status_of soshiki)); remove it first"
for what in "passwd soshiki" "group soshiki"; do
    # shellcheck disable=SC2086
    if getent $what >/dev/null; then fail "the $what entry exists already; this test would remove it"; fi
done
for d in /etc/soshiki /var/lib/soshiki; do
    [[ ! -e $d ]] || fail "$d exists already; this test would delete it"
done

work=$(mktemp -d /tmp/soshiki-deb-test.XXXXXX)
chmod 0711 "$work" # the user soshiki reaches its data directory inside
server_pid=
target_pid=
installed=0
added_deps=()

# Files where a package like this one writes, before and after (paths only; dpkg's and apt's
# own databases apart).
snapshot() {
    find /etc /var/lib /usr/bin /usr/sbin /usr/lib/systemd /usr/lib/sysusers.d /usr/lib/tmpfiles.d \
        /usr/share/man/man1 /usr/share/doc -xdev \
        \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/ucf -o -path /etc/ld.so.cache \) -prune \
        -o -print 2>/dev/null | sort
}
# procs_of USER: the processes running as USER (without procps, which minimal systems lack).
procs_of() {
    local uid p
    uid=$(id -u "$1" 2>/dev/null) || return 0
    for p in /proc/[0-9]*; do
        awk -v u="$uid" '/^Uid:/ { if ($2 == u) found = 1 } END { exit !found }' "$p/status" 2>/dev/null \
            && echo "${p#/proc/}"
    done
    true
}
snapshot >"$work/before.txt"

cleanup() {
    local rc=$?
    set +e
    trap - ERR
    for p in $target_pid $server_pid; do
        kill -0 "$p" 2>/dev/null && kill -TERM "$p"
    done
    [[ -n $server_pid ]] && wait "$server_pid" 2>/dev/null
    if [[ $installed == 1 ]] && [[ $(status_of soshiki) != *not-installed* && -n $(status_of soshiki) ]]; then
        log "cleanup: purging the soshiki package"
        dpkg -P soshiki >/dev/null 2>&1
    fi
    # Whatever a failed purge left behind (none of it existed before the test).
    getent passwd soshiki >/dev/null && userdel soshiki >/dev/null 2>&1
    getent group soshiki >/dev/null && groupdel soshiki >/dev/null 2>&1
    for p in /etc/soshiki/soshiki.toml /etc/soshiki; do
        dpkg-statoverride --list "$p" >/dev/null 2>&1 && dpkg-statoverride --remove "$p"
    done
    rm -rf /etc/soshiki /var/lib/soshiki
    if [[ ${#added_deps[@]} -gt 0 ]]; then
        log "cleanup: removing the packages installed for the test: ${added_deps[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${added_deps[@]}" >/dev/null 2>&1
    fi
    # Directories the package's systemd helpers created and left empty.
    snapshot >"$work/after.txt"
    comm -13 "$work/before.txt" "$work/after.txt" | sort -r | while read -r p; do
        [[ -d $p ]] && rmdir "$p" 2>/dev/null
    done
    rm -rf "$work"
    if [[ $rc != 0 ]]; then log "FAILED (the machine was restored)"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. The package ----------------------------------------------------------------------------
if [[ $# -ge 1 ]]; then
    deb=$1
else
    deb=$(./scripts/package-deb.sh)
fi
[[ -f $deb ]] || fail "no package at $deb"
log "package: $deb ($(stat -c %s "$deb") bytes)"
dpkg-deb --info "$deb" >"$work/info.txt" || fail "$deb is not a Debian package"
depends=$(dpkg-deb -f "$deb" Depends)
log "Depends: $depends"
[[ $depends == *libssl3* ]] || fail "the package does not depend on Debian's libssl3"

# Dependencies missing here are installed for the test (and removed by the cleanup).
before_pkgs=$(dpkg-query -W -f='${Package}\n' | sort)
missing=()
IFS=',' read -ra deps <<<"$depends"
for dep in "${deps[@]}"; do
    name=$(echo "${dep%%|*}" | sed 's/(.*)//; s/:any//' | tr -d ' ')
    [[ -z $name ]] && continue
    [[ $(status_of "$name") == "install ok installed" ]] || missing+=("$name")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing the package's dependencies: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    mapfile -t added_deps < <(comm -13 <(echo "$before_pkgs") <(dpkg-query -W -f='${Package}\n' | sort))
fi

# --- 2. Install ----------------------------------------------------------------------------------
installed=1
dpkg -i "$deb" >"$work/dpkg-i.txt" 2>&1 || { cat "$work/dpkg-i.txt" >&2; fail "dpkg -i"; }
cat "$work/dpkg-i.txt" >&2
[[ $(status_of soshiki) == "install ok installed" ]] || fail "status after dpkg -i: $(status_of soshiki)"
ok "dpkg -i"

# path, owner:group, octal mode, type (f or d)
expect() {
    local path=$1 owner=$2 mode=$3 type=$4
    if [[ $type == d ]]; then [[ -d $path ]] || fail "$path: not a directory"; else [[ -f $path ]] || fail "$path: missing"; fi
    local got
    got=$(stat -c '%U:%G %a' "$path")
    [[ $got == "$owner $mode" ]] || fail "$path: $got, expected $owner $mode"
}
unit=$(dpkg -L soshiki | grep -E '/systemd/system/soshiki\.service$' | head -n 1)
[[ -n $unit ]] || fail "the package has no soshiki.service"
expect /usr/bin/soshiki root:root 755 f
expect "$unit" root:root 644 f
expect /etc/soshiki root:soshiki 750 d
expect /etc/soshiki/soshiki.toml root:soshiki 640 f
expect /var/lib/soshiki soshiki:soshiki 750 d
expect /usr/share/doc/soshiki/copyright root:root 644 f
expect /usr/share/doc/soshiki/README.Debian root:root 644 f
dpkg-query -W -f='${Conffiles}\n' soshiki | grep -q '^ /etc/soshiki/soshiki.toml ' \
    || fail "/etc/soshiki/soshiki.toml is not a conffile"
if [[ -f /usr/share/man/man1/soshiki.1.gz ]]; then
    expect /usr/share/man/man1/soshiki.1.gz root:root 644 f
    expect /usr/share/man/man1/soshiki-serve.1.gz root:root 644 f
    zcat /usr/share/man/man1/soshiki-serve.1.gz | grep -q '^\.TH' || fail "soshiki-serve.1.gz is not a man page"
    zcat /usr/share/man/man1/soshiki-serve.1.gz | grep -q 'config' || fail "soshiki-serve.1.gz lacks --config"
    ok "man pages: $(dpkg -L soshiki | grep -c '/man1/.*\.1\.gz$')"
elif grep -qs 'path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
    log "note: man pages not checked: dpkg excludes /usr/share/man on this machine"
    dpkg-deb -c "$deb" | grep -q 'usr/share/man/man1/soshiki.1.gz' || fail "the package has no soshiki.1.gz"
else
    fail "/usr/share/man/man1/soshiki.1.gz is missing"
fi
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd soshiki) || fail "no user soshiki"
[[ $home == /var/lib/soshiki ]] || fail "soshiki's home is $home"
[[ $shell == */nologin || $shell == /bin/false ]] || fail "soshiki's shell is $shell"
[[ $uid -lt 1000 ]] || fail "soshiki is not a system user (uid $uid)"
getent group soshiki >/dev/null || fail "no group soshiki"
libssl=$(ldd /usr/bin/soshiki | awk '/libssl\.so/ {print $3}')
[[ -n $libssl ]] || fail "/usr/bin/soshiki does not link libssl"
dpkg -S "$(readlink -f "$libssl")" 2>/dev/null | grep -q '^libssl3' \
    || dpkg -S "$libssl" 2>/dev/null | grep -q '^libssl3' || fail "$libssl is not Debian's libssl3"
version=$(dpkg-query -W -f='${Version}' soshiki)
/usr/bin/soshiki --version | grep -qF "${version%-*}" || fail "soshiki --version is not ${version%-*}"
for w in /etc/systemd/system/multi-user.target.wants/soshiki.service /run/systemd/system/soshiki.service; do
    [[ ! -e $w ]] || fail "$w: the service was enabled on a fresh install"
done
[[ -z $(procs_of soshiki) ]] || fail "a process of the user soshiki runs after dpkg -i"
ok "files, owners, modes, conffile, user soshiki (uid $uid), libssl3 ($libssl), not enabled"

# The shipped settings file: valid for the service's user, and every setting documented.
as_soshiki() {
    setpriv --reuid=soshiki --regid=soshiki --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/var/lib/soshiki "$@"
}
as_soshiki /usr/bin/soshiki config check /etc/soshiki/soshiki.toml >"$work/check.txt" 2>&1 \
    || { cat "$work/check.txt" >&2; fail "soshiki config check of the installed settings"; }
grep -q '^data = /var/lib/soshiki  # file$' "$work/check.txt" || fail "data is not /var/lib/soshiki from the file"
grep -q '^bind = 127.0.0.1:7780  # file$' "$work/check.txt" || fail "bind is not 127.0.0.1:7780 from the file"
keys=$(sed -n 's/^\([a-z_]*\) = .*/\1/p' "$work/check.txt")
for k in $keys database_url_file blobs_url_file; do
    grep -Eq "^#? ?$k = " /etc/soshiki/soshiki.toml || fail "the settings file does not document $k"
done
ok "config check as soshiki; every setting documented ($(echo "$keys" | wc -w) + 2 keys)"

# --- 3. The unit -------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
    man_opt=()
    command -v man >/dev/null 2>&1 && [[ -f /usr/share/man/man1/soshiki-serve.1.gz ]] || man_opt=(--man=no)
    systemd-analyze verify "${man_opt[@]}" "$unit" >"$work/verify.txt" 2>&1 \
        || { cat "$work/verify.txt" >&2; fail "systemd-analyze verify $unit"; }
    ok "systemd-analyze verify${man_opt:+ ${man_opt[*]}} $unit"
    if systemd-analyze security --offline=true "$unit" >"$work/security.txt" 2>&1; then
        score=$(sed -n 's/.*Overall exposure level for soshiki.service: \([0-9.]*\).*/\1/p' "$work/security.txt")
        log "systemd-analyze security: exposure $score (0 = most restricted, 10 = unrestricted)"
        [[ -n $score ]] || fail "no exposure level in the output of systemd-analyze security"
        awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || {
            grep -E '✗' "$work/security.txt" >&2
            fail "the unit's exposure level $score is above 2.5: hardening was lost"
        }
    else
        log "note: systemd-analyze security --offline is not supported here (systemd < 250): skipped"
    fi
else
    log "note: systemd-analyze is not installed: the unit was not verified"
fi

# check_trace TRACE DATA WHAT: what the server did under strace, against the unit's sandbox
# (from the exec of /usr/bin/soshiki on; before it, setpriv drops to the user soshiki, which
# systemd does itself):
#   - every system call is one SystemCallFilter= allows (else EPERM under systemd);
#   - every file it created, wrote, removed, renamed or chmod-ed is in DATA, /tmp, /var/tmp
#     (PrivateTmp= gives it private writable ones) or /dev (ProtectSystem=strict makes the rest
#     read-only);
#   - it touched nothing in /home or /root (ProtectHome=yes hides them), nor /proc files other
#     than the processes' own (ProcSubset=pid hides them).
check_trace() {
    local trace=$1 dir=$2 what=$3
    [[ -f $trace ]] || return 0
    awk 'found { print } /execve\("\/usr\/bin\/soshiki"/ { found = 1 }' "$trace" | sed -E 's/^[0-9]+ +//' >"$trace.server"
    [[ -s $trace.server ]] || fail "$trace: no exec of /usr/bin/soshiki"
    if [[ ! -f $work/allowed.txt ]]; then
        expand_set() { # a system call or @set -> system call names
            case $1 in
            @*) systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^ *//' | grep -v -e '^#' -e '^$' |
                while read -r x; do expand_set "$x"; done ;;
            *) echo "$1" ;;
            esac
        }
        : >"$work/allowed.txt"
        : >"$work/denied.txt"
        local value out item
        while read -r value; do
            if [[ $value == "~"* ]]; then out=$work/denied.txt; value=${value#\~}; else out=$work/allowed.txt; fi
            for item in $value; do expand_set "$item" >>"$out"; done
        done < <(sed -n 's/^SystemCallFilter=//p' "$unit")
        sort -u -o "$work/allowed.txt" "$work/allowed.txt"
        sort -u -o "$work/denied.txt" "$work/denied.txt"
        [[ -s $work/allowed.txt ]] || fail "no system call allowed by the unit's SystemCallFilter="
    fi
    sed -nE 's/^([a-z_0-9]+)\(.*/\1/p' "$trace.server" | sort -u >"$trace.used"
    [[ $(wc -l <"$trace.used") -gt 20 ]] || fail "$trace: too few system calls recorded"
    local refused
    refused=$( { comm -23 "$trace.used" "$work/allowed.txt"; comm -12 "$trace.used" "$work/denied.txt"; } | sort -u | tr '\n' ' ')
    [[ -z $refused ]] || fail "the unit's SystemCallFilter= would refuse system calls the server made ($what): $refused"
    # Paths written; "?CALL PATH" for one relative to a directory other than /.
    perl -ne '
        if (/^(open|openat|creat)\((?:(AT_FDCWD|\d+), )?"([^"]*)"(.*)$/) {
            my ($call, $path, $rest) = ($1, $3, $4);
            next unless $call eq "creat" || $rest =~ /O_(WRONLY|RDWR|CREAT|TRUNC)/;
            print $path =~ m{^/} ? "$path\n" : "?$call $path\n";
        } elsif (/^(mkdir|mkdirat|unlink|unlinkat|rmdir|rename|renameat|renameat2|link|linkat|symlink|symlinkat|truncate|chmod|fchmodat|chown|fchownat|lchown|mknod|mknodat)\((.*)$/) {
            my ($call, $args) = ($1, $2);
            for my $p ($args =~ /"([^"]*)"/g) { print $p =~ m{^/} ? "$p\n" : "?$call $p\n"; }
        }' "$trace.server" | sort -u >"$trace.written"
    local bad p
    bad=$(while read -r p; do
        case $p in "$dir" | "$dir"/* | /tmp/* | /var/tmp/* | /dev/*) ;; *) echo "$p" ;; esac
    done <"$trace.written")
    [[ -z $bad ]] || fail "the server wrote outside $dir, /tmp, /var/tmp ($what; ProtectSystem=strict would refuse): $bad"
    # ProcSubset=pid leaves only the process directories in /proc (/proc/self, /proc/PID).
    # Known and harmless: glibc's malloc reads /proc/sys/vm/overcommit_memory when it shrinks
    # a thread's heap; unreadable, it releases the memory with madvise, its usual way.
    local hidden
    hidden=$(grep -oE '"/proc/[^"0-9][^"]*"' "$trace.server" |
        grep -vE '^"/proc/((self|thread-self)(/[^"]*)?|sys/vm/overcommit_memory)"$' | sort -u | head -n 5 | tr '\n' ' ' || true)
    [[ -z $hidden ]] || fail "the server read /proc files that ProcSubset=pid hides ($what): $hidden"
    if grep -qE '"/(home|root)(/[^"]*)?"' "$trace.server"; then
        fail "the server touched /home or /root ($what; ProtectHome=yes hides them): $(grep -oE '"/(home|root)(/[^"]*)?"' "$trace.server" | sort -u | head -n 5 | tr '\n' ' ')"
    fi
    ok "sandbox ($what): the server's $(wc -l <"$trace.used") distinct system calls are allowed by SystemCallFilter=; it wrote $(wc -l <"$trace.written") paths, all in $dir, /tmp, /var/tmp or /dev; nothing in /home, /root or /proc beyond its own"
}

# --- 4. The installed server, as the unit runs it, and a scenario against it --------------------
unit_user=$(sed -n 's/^User=//p' "$unit")
unit_umask=$(sed -n 's/^UMask=//p' "$unit")
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $unit_user == soshiki && -n $exec_start ]] || fail "the unit's User=/ExecStart= ($unit_user / $exec_start)"
read -ra exec_argv <<<"$exec_start"

# child_of PID: its child process (the server, when strace runs it).
child_of() {
    local f stat ppid
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue # a process that ended meanwhile
        # "PID (COMMAND) STATE PPID ...": COMMAND may hold spaces and parentheses.
        read -r _ ppid _ <<<"${stat##*) }"
        if [[ $ppid == "$1" ]]; then
            f=${f#/proc/}
            echo "${f%/stat}"
            return 0
        fi
    done
    return 0
}
# start_server LOG VAR=VALUE...: the unit's command as its user, with these environment overrides;
# under strace when $trace_to names a file.
start_server() {
    local logf=$1
    shift
    local wrap=()
    [[ -n ${trace_to:-} ]] && wrap=(strace -f -qq -o "$trace_to" --)
    (
        umask "${unit_umask:-0022}"
        exec "${wrap[@]}" setpriv --reuid=soshiki --regid=soshiki --init-groups \
            env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/var/lib/soshiki "$@" "${exec_argv[@]}"
    ) >"$logf" 2>&1 &
    server_pid=$!
    target_pid=$server_pid
    local i
    if [[ ${#wrap[@]} -gt 0 ]]; then
        target_pid=
        for i in $(seq 1 100); do
            target_pid=$(child_of "$server_pid")
            [[ -n $target_pid ]] && break
            sleep 0.1
        done
        [[ -n $target_pid ]] || fail "no server process under strace"
    fi
    url=
    for i in $(seq 1 480); do
        url=$(sed -n 's/.*listening on \(http:\/\/[0-9.]*:[0-9]*\).*/\1/p' "$logf" | head -n 1)
        [[ -n $url ]] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$logf" >&2; fail "the server exited at start"; }
        sleep 0.25
    done
    [[ -n $url ]] || { cat "$logf" >&2; fail "the server did not say where it listens"; }
    port=${url##*:}
    for i in $(seq 1 480); do
        [[ $(http GET /readyz | head -n 1) == *" 200 "* ]] && return 0
        sleep 0.25
    done
    cat "$logf" >&2
    fail "/readyz never answered 200"
}
# http METHOD PATH: the raw response (status line, headers, body), over bash's /dev/tcp.
http() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
        printf "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$1" "$2" "$0" >&3
        cat <&3' "$port" "$1" "$2" 2>/dev/null | tr -d '\r'
}
stop_server() {
    kill -TERM "$target_pid"
    local rc=0
    # strace exits with the status of the command it runs.
    wait "$server_pid" || rc=$?
    server_pid=
    target_pid=
    [[ $rc == 0 ]] || { cat "$1" >&2; fail "the server exited with $rc after SIGTERM"; }
}

# With strace (when installed), the first run also records every system call the server makes,
# to check them against the unit's SystemCallFilter= below.
trace_to=
if command -v strace >/dev/null 2>&1 && command -v systemd-analyze >/dev/null 2>&1; then
    trace_to=$work/strace.txt
else
    log "note: strace or systemd-analyze is missing: the server's system calls are not checked against the unit's filter"
fi
data=$work/data
install -d -o soshiki -g soshiki -m 0750 "$data"
start_server "$work/server.log" SOSHIKI_BIND=127.0.0.1:0 SOSHIKI_DATA="$data" SOSHIKI_DEMO=1
for i in $(seq 1 480); do
    grep -q 'Demo data seeded' "$work/server.log" && break
    sleep 0.25
done
grep -q 'Demo data seeded' "$work/server.log" || { cat "$work/server.log" >&2; fail "the demo was not seeded"; }
[[ $(stat -c %U "/proc/$target_pid") == soshiki ]] || fail "the server does not run as soshiki"
ok "installed server ready at $url as the user soshiki (data $data)"

for p in /healthz /readyz / /pkg/soshiki_wasm_bg.wasm; do
    [[ $(http GET "$p" | head -n 1) == *" 200 "* ]] || fail "GET $p is not 200"
done
http GET / | grep -q '<html' || fail "GET / is not the web UI"
ok "/healthz, /readyz, the web UI and its WebAssembly module (embedded) answer 200"

demo=$data/demo
# The value after `certificate` on the line before `key …/NAME.key`, and the fingerprint of
# an organization key, from the seed's report.
cert_of() { awk -v k="/omachi/$1.key" '/ certificate / {c=$NF} index($0, k) && /^ *key / {print c; exit}' "$work/server.log"; }
fpr_of() { awk -v k="/omachi/$1.orgkey" '/^ *fingerprint / {f=$NF} index($0, k) {print f; exit}' "$work/server.log"; }
omachi_fpr=$(fpr_of omachi)
cert_omachi=$(cert_of omachi-omachi)
cert_yasaka=$(cert_of omachi-yasaka)
[[ -n $omachi_fpr && -n $cert_omachi && -n $cert_yasaka ]] \
    || { cat "$work/server.log" >&2; fail "the seed did not report Omachi's fingerprint and certificates"; }
# cli MEMBER ARGS...: the installed CLI as that demo member, with a client state of its own.
cli() {
    local member=$1
    shift
    mkdir -p "$work/state-$member"
    SOSHIKI_SERVER=$url SOSHIKI_STATE=$work/state-$member \
        /usr/bin/soshiki --lang en --passphrase-file "$demo/passphrase.txt" "$@"
}
key() { echo "$demo/omachi/$1.key"; }
mkdir -p "$work/parts"
{
    echo "番号,氏名,住所,deb-test $(date +%s%N)"
    for i in $(seq 1 2000); do echo "Omachi-$i,架空 太郎$i,架空県大町町 $((i % 9 + 1))-$((i % 30 + 1))"; done
} >"$work/parts/omachi.csv"
{
    echo "番号,氏名,住所,deb-test $(date +%s%N)"
    for i in $(seq 1 1500); do echo "Yasaka-$i,架空 花子$i,架空県八坂町 $((i % 7 + 1))-$((i % 20 + 1))"; done
} >"$work/parts/yasaka.csv"

cli pref-sender send --key "$(key pref-sender)" --to-org "$omachi_fpr" --title "deb-test" \
    --part "$work/parts/omachi.csv::district=Omachi" --part "$work/parts/yasaka.csv::district=Yasaka" \
    >"$work/send.txt" || fail "send"
envelope=$(sed -n 's/.*envelope \([^,]*\), delivery.*/\1/p' "$work/send.txt")
[[ -n $envelope ]] || { cat "$work/send.txt" >&2; fail "send reported no envelope"; }
inbox_id() { { cli "$1" inbox --key "$(key "$1")" --status delivered || true; } | awk 'NF > 2 {print $1; exit}'; }
delivery=$(inbox_id omachi-rep)
[[ -n $delivery ]] || fail "the representative's inbox is empty"
cli omachi-rep forward --delivery "$delivery" --key "$(key omachi-rep)" \
    --route "$cert_omachi:0" --route "$cert_yasaka:1" >"$work/forward.txt" || fail "forward"
for who in omachi:omachi.csv:yasaka.csv yasaka:yasaka.csv:omachi.csv; do
    IFS=: read -r district mine other <<<"$who"
    id=$(inbox_id "omachi-$district")
    [[ -n $id ]] || fail "the $district officer's inbox is empty"
    out=$work/out-$district
    cli "omachi-$district" open "$id" --out "$out" --key "$(key "omachi-$district")" >/dev/null \
        || fail "the $district officer cannot open the delivery"
    cmp -s "$out/$mine" "$work/parts/$mine" || fail "$district: $mine differs from what was sent"
    [[ ! -e $out/$other ]] || fail "$district: the officer got $other too"
done
# The representative forwards without decrypting: its own key cannot open the delivery.
if refusal=$(cli omachi-rep open "$delivery" --out "$work/out-rep" --key "$(key omachi-rep)" 2>&1); then
    fail "the representative (a forwarder, not a reader) opened the delivery"
fi
[[ -z $(ls -A "$work/out-rep" 2>/dev/null) ]] || fail "the representative's refused open left files"
log "the representative's open is refused: $(echo "$refusal" | tail -n 1)"
cli omachi-admin audit verify --key "$(key omachi-admin)" >"$work/audit.txt" || fail "audit verify"
grep -q 'verifies' "$work/audit.txt" || fail "audit verify: $(cat "$work/audit.txt")"
cli pref-sender receipts "$envelope" --key "$(key pref-sender)" >/dev/null || fail "receipts"
# The counters, fetched again a few times if a fetch comes back incomplete; on a miss, what the
# server answered and logged is printed so the cause can be read from the CI log.
counted() { echo "$metrics" | grep -Eq "^soshiki_events_total\{event=\"$1\"\} [1-9]"; }
for attempt in 1 2 3; do
    metrics=$(http GET /metrics || true)
    counted delivery && counted forward && counted open && break
    log "/metrics, attempt $attempt: ${metrics%%$'\n'*} (${#metrics} characters)"
    sleep 1
done
for ev in delivery forward open; do
    if ! counted "$ev"; then
        echo "$metrics" | grep -E '^(HTTP/|soshiki_events_total|soshiki_http_requests_total.*(uploads|forward|opened))' >&2 || true
        grep -E 'uploads|forward|opened' "$work/server.log" | tail -n 20 >&2 || true
        fail "/metrics does not count the $ev"
    fi
done
ok "scenario: send -> forward (2 parts, 2 officers) -> each opens exactly its part, byte for byte; the representative cannot; audit verifies; /metrics counts it"

stop_server "$work/server.log"
grep -q 'shutting down' "$work/server.log" || fail "the server did not log its shutdown"
ok "SIGTERM: clean exit"

check_trace "$work/strace.txt" "$data" "start, demo seeding, the scenario, shutdown"

# --- 5. The installed data directory -----------------------------------------------------------
[[ -n $trace_to ]] && trace_to=$work/strace2.txt
start_server "$work/server2.log" SOSHIKI_BIND=127.0.0.1:0
expect /var/lib/soshiki/soshiki.sqlite soshiki:soshiki 640 f
stop_server "$work/server2.log"
ok "the installed settings as they are (port apart): ready, /var/lib/soshiki/soshiki.sqlite owned by soshiki"
check_trace "$work/strace2.txt" /var/lib/soshiki "the installed data directory"

# --- 5b. Reinstall over itself (the upgrade path of the maintainer scripts) --------------------
echo "# changed by deb-test" >>/etc/soshiki/soshiki.toml
sum_before=$(md5sum </etc/soshiki/soshiki.toml)
dpkg -i --force-confold "$deb" >"$work/dpkg-u.txt" 2>&1 </dev/null || { cat "$work/dpkg-u.txt" >&2; fail "dpkg -i over the installed package"; }
[[ $(md5sum </etc/soshiki/soshiki.toml) == "$sum_before" ]] || fail "the reinstall replaced the edited settings file"
grep -q 'installed, not started' "$work/dpkg-u.txt" && fail "the reinstall printed the fresh-install message"
expect /etc/soshiki/soshiki.toml root:soshiki 640 f
expect /etc/soshiki root:soshiki 750 d
expect /var/lib/soshiki soshiki:soshiki 750 d
expect /var/lib/soshiki/soshiki.sqlite soshiki:soshiki 640 f
[[ $(getent passwd soshiki | cut -d: -f3) == "$uid" ]] || fail "the reinstall changed the user soshiki"
ok "reinstall (upgrade path): edited settings kept, data, owners, modes and user unchanged"

# --- 6. The demo, with the installed binary ----------------------------------------------------
as_soshiki TMPDIR=/tmp /usr/bin/soshiki --lang en demo omachi >"$work/demo.txt" 2>&1 \
    || { tail -n 30 "$work/demo.txt" >&2; fail "soshiki demo omachi"; }
ok "soshiki demo omachi: $(tail -n 1 "$work/demo.txt")"

# --- 7. Remove, then purge ---------------------------------------------------------------------
dpkg -r soshiki >"$work/dpkg-r.txt" 2>&1 || { cat "$work/dpkg-r.txt" >&2; fail "dpkg -r"; }
cat "$work/dpkg-r.txt" >&2
[[ $(status_of soshiki) == "deinstall ok config-files" ]] || fail "status after dpkg -r: $(status_of soshiki)"
for f in /usr/bin/soshiki "$unit" /usr/share/man/man1/soshiki.1.gz /usr/share/doc/soshiki/README.Debian; do
    [[ ! -e $f ]] || fail "$f is still there after dpkg -r"
done
[[ -f /etc/soshiki/soshiki.toml ]] || fail "dpkg -r removed the settings file"
[[ -f /var/lib/soshiki/soshiki.sqlite ]] || fail "dpkg -r removed the data"
getent passwd soshiki >/dev/null || fail "dpkg -r removed the user soshiki"
ok "dpkg -r: program, unit, man pages gone; settings, data, user kept"

dpkg -P soshiki >"$work/dpkg-p.txt" 2>&1 || { cat "$work/dpkg-p.txt" >&2; fail "dpkg -P"; }
cat "$work/dpkg-p.txt" >&2
installed=0
[[ -z $(status_of soshiki) || $(status_of soshiki) == *not-installed* ]] || fail "status after dpkg -P: $(status_of soshiki)"
for f in /etc/soshiki /var/lib/soshiki; do
    [[ ! -e $f ]] || fail "$f is still there after dpkg -P"
done
getent passwd soshiki >/dev/null && fail "the user soshiki is still there after dpkg -P"
getent group soshiki >/dev/null && fail "the group soshiki is still there after dpkg -P"
dpkg-statoverride --list | grep -q soshiki && fail "statoverrides of soshiki are left after dpkg -P"
left=$(find /etc/systemd /var/lib/systemd /usr/lib/systemd -name '*soshiki*' 2>/dev/null || true)
[[ -z $left ]] || fail "left after dpkg -P: $left"
ok "dpkg -P: data, settings, user, group, statoverrides and systemd helper state gone"

# Everything else as before (the trap also removes empty directories the helpers created).
rmdir_new() {
    snapshot >"$work/after.txt"
    comm -13 "$work/before.txt" "$work/after.txt" | sort -r | while read -r p; do
        [[ -d $p ]] && rmdir "$p" 2>/dev/null
    done
    true
}
rmdir_new
snapshot >"$work/after.txt"
if ! diff "$work/before.txt" "$work/after.txt" >"$work/diff.txt"; then
    # Packages installed for the dependencies are removed by the cleanup, after this check.
    if [[ ${#added_deps[@]} -eq 0 ]]; then
        cat "$work/diff.txt" >&2
        fail "files under /etc, /usr, /var/lib differ from before the test"
    fi
fi
ok "no file left under /etc, /usr and /var/lib"
log "all checks passed"
