#!/usr/bin/env bash
# bench/compare.sh — Fulcrum vs HAProxy vs nginx as HTTP load balancers, in one run.
#
# Usage:
#   bench/compare.sh                 # DURATION=10, CONNECTIONS="16 64 256", ROUNDS=3
#   bench/compare.sh --quick         # DURATION=3,  CONNECTIONS="64", ROUNDS=1
#   DURATION=20 CONNECTIONS="64 256" bench/compare.sh
#   FULCRUM_BIN=/path/to/fulcrum bench/compare.sh   # skip `swift build`
#
# What it does (see bench/README.md for the why):
#   1. installs haproxy, nginx-light, wrk (and taskset/pgrep/python3) if missing;
#   2. builds `fulcrum` in release mode (unless FULCRUM_BIN is given);
#   3. starts three nginx backends on 127.0.0.1 answering `200 ok\n`;
#   4. for Fulcrum, HAProxy and nginx in turn: starts the balancer in front of
#      the three backends and measures its RSS idle and with 1,000 idle
#      keep-alive client connections;
#   5. starts all three and, ROUNDS times, for each connection count and
#      each balancer (the order rotating by round) runs a 2 s wrk warm-up and
#      a measured `wrk -t1 -cN -dDURATION --latency` run, recording req/s,
#      p99 latency and the balancer's CPU time per request; Fulcrum's ratio
#      to each other balancer is taken per round, from measurements seconds
#      apart, and the table shows medians;
#   6. prints one table (and writes it to bench/out/compare-DATE.md).
#
# Pinning: with 2+ CPUs the balancer runs on CPU 0 (BALANCER_CPUS) and wrk,
# the backends and the RSS client on CPU 1 (CLIENT_CPUS). With 1 CPU nothing
# is pinned. Everything listens on 127.0.0.1 only, and everything started
# here is stopped by the EXIT trap.

set -euo pipefail

# ---------------------------------------------------------------- options ---

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
if (( QUICK )); then
    DURATION=3
    CONNECTIONS="64"
    ROUNDS=1
fi
DURATION="${DURATION:-10}"
# The balancers take turns ROUNDS times and each figure is the median of its
# rounds: on a shared machine a burst of someone else's work then lands on
# one round of one balancer instead of deciding the ratio.
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-16 64 256}"
WARMUP=2                 # seconds of wrk before each measured run
IDLE_CONNS=1000          # idle keep-alive connections for the RSS figure
BALANCERS=(fulcrum haproxy nginx)

if ! [[ "$ROUNDS" =~ ^[0-9]+$ ]] || (( ROUNDS == 0 )); then
    echo "ROUNDS must be a positive integer" >&2; exit 2
fi
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || (( DURATION == 0 )); then
    echo "DURATION must be a positive integer" >&2; exit 2
fi
for c in $CONNECTIONS; do
    if ! [[ "$c" =~ ^[0-9]+$ ]] || (( c == 0 )); then
        echo "CONNECTIONS must be positive integers" >&2; exit 2
    fi
done

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
OUT_DIR="$SCRIPT_DIR/out"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
COMMAND_LINE="${FULCRUM_BIN:+FULCRUM_BIN=$FULCRUM_BIN }DURATION=$DURATION CONNECTIONS=\"$CONNECTIONS\" bench/compare.sh${*:+ $*}"

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------ dependencies ---

# Install what is missing with apt-get (Debian/Ubuntu). Only runs apt when needed.
missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v nginx   >/dev/null 2>&1 || missing+=(nginx-light)
command -v wrk     >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v pgrep   >/dev/null 2>&1 || missing+=(procps)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v timeout >/dev/null 2>&1 || missing+=(coreutils)
if (( ${#missing[@]} )); then
    log "installing: ${missing[*]}"
    SUDO=""
    (( EUID == 0 )) || SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
fi
# Debian's nginx/haproxy packages may start system services on install; this
# script never uses them (it only runs its own instances on its own ports).

# --------------------------------------------------------------- fulcrum ---

if [[ -n "${FULCRUM_BIN:-}" ]]; then
    FULCRUM="$FULCRUM_BIN"
    FULCRUM_V="binary $FULCRUM_BIN (FULCRUM_BIN)"
else
    # Note the commit before building, for the report.
    FULCRUM_V="built from git $(cd "$REPO_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(cd "$REPO_ROOT" && git status --porcelain -- Sources Package.swift 2>/dev/null)" ]]; then
        FULCRUM_V="$FULCRUM_V + uncommitted changes in Sources/"
    fi
    log "building fulcrum (swift build -c release --product fulcrum)"
    (cd "$REPO_ROOT" && swift build -c release --product fulcrum >&2) \
        || die "swift build failed (set FULCRUM_BIN to use an existing binary)"
    FULCRUM="$(cd "$REPO_ROOT" && swift build -c release --show-bin-path)/fulcrum"
fi
[[ -x "$FULCRUM" ]] || die "no fulcrum binary at $FULCRUM"

# -------------------------------------------------------------- pinning ---

NCPU="$(nproc --all)"
BALANCER_CPUS="${BALANCER_CPUS:-0}"
CLIENT_CPUS="${CLIENT_CPUS:-1}"
if (( NCPU >= 2 )); then
    PIN_BAL=(taskset -c "$BALANCER_CPUS")
    PIN_CLI=(taskset -c "$CLIENT_CPUS")
    PINNING="balancer on CPU $BALANCER_CPUS; wrk, backends and RSS client on CPU $CLIENT_CPUS"
else
    PIN_BAL=()
    PIN_CLI=()
    PINNING="none (1 CPU)"
fi

# ------------------------------------------------------ work dir & cleanup ---

WORK="$(mktemp -d -t fulcrum-compare.XXXXXX)"
chmod 755 "$WORK"          # nginx workers may drop to an unprivileged user
PIDS=()                    # every long-running process we start

# Stop one process: TERM, wait up to 10 s, then KILL.
stop_pid() {
    local pid="$1" i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < 100; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then
        log "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Enough descriptors for 1,000 idle clients plus their backend connections.
want_nofile=65536
hard_nofile="$(ulimit -Hn)"
[[ "$hard_nofile" == unlimited ]] || (( hard_nofile >= want_nofile )) || want_nofile="$hard_nofile"
ulimit -n "$want_nofile" || log "could not raise ulimit -n (now $(ulimit -n))"
(( $(ulimit -n) >= 2 * IDLE_CONNS + 256 )) || die "ulimit -n $(ulimit -n) is too low for $IDLE_CONNS idle connections"

# --------------------------------------------------------------- helpers ---

# Free TCP ports on 127.0.0.1, below the kernel's ephemeral range (so wrk's
# own outgoing connections can never collide with a listener we start later).
free_ports() {
    python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
ports, socks = [], []
for _ in range(2000):                    # bounded number of tries
    if len(ports) == n:
        break
    p = random.randint(20000, max(20001, lo - 1))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    if p not in ports:
        ports.append(p); socks.append(s)
while len(ports) < n:                    # fallback: let the kernel choose
    s = socket.socket(); s.bind(("127.0.0.1", 0))
    ports.append(s.getsockname()[1]); socks.append(s)
print(" ".join(map(str, ports)))
PY
}

# Wait (at most 10 s) until 127.0.0.1:PORT accepts connections; fail if PID died.
wait_port() {
    local port="$1" pid="$2" i
    for (( i = 0; i < 100; i++ )); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# One GET through 127.0.0.1:PORT; prints the status line.
probe() {
    # shellcheck disable=SC2016  # $1 expands in the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1"
        printf "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" >&3
        head -n 1 <&3 | tr -d "\r"' _ "$1" || true
}

# A balancer's processes: the root pid and its descendants (nginx workers).
proc_tree() {
    local root="$1" kids k
    echo "$root"
    kids="$(pgrep -P "$root" || true)"
    for k in $kids; do
        echo "$k"
        pgrep -P "$k" || true     # one more level is plenty (bounded)
    done
}

# Sum of utime+stime (clock ticks) over the given pids. /proc/PID/stat of a
# thread-group leader already includes all of its threads.
cpu_ticks() {
    local total=0 pid s f
    for pid in "$@"; do
        s="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
        s="${s##*) }"                       # drop "pid (comm) " — comm may hold spaces
        read -r -a f <<<"$s"
        total=$(( total + f[11] + f[12] ))  # fields 14 (utime) and 15 (stime)
    done
    echo "$total"
}
CLK_TCK="$(getconf CLK_TCK)"

# "busy total" jiffies summed over a CPU list such as 1, 0-1 or 0,2 (from
# /proc/stat; busy is everything but idle and iowait), to tell which side
# of a run was saturated: the balancer's CPUs or the client's.
cpu_set_ticks() {
    python3 - "$1" <<'PY'
import sys
want = set()
for part in sys.argv[1].split(","):
    if "-" in part:
        a, b = part.split("-")
        want.update(range(int(a), int(b) + 1))
    elif part:
        want.add(int(part))
busy = total = 0
for line in open("/proc/stat"):
    f = line.split()
    if f[0].startswith("cpu") and f[0] != "cpu" and int(f[0][3:]) in want:
        v = [int(x) for x in f[1:9]]
        total += sum(v)
        busy += sum(v) - v[3] - v[4]
print(busy, total)
PY
}

# Percent busy between two cpu_set_ticks readings.
busy_percent() {
    awk -v b0="$1" -v t0="$2" -v b1="$3" -v t1="$4" 'BEGIN {
        if (t1 <= t0) { print "n/a"; exit }
        printf "%.0f", 100 * (b1 - b0) / (t1 - t0)
    }'
}

# wrk prints times like 812.00us, 1.23ms, 2.00s, 1.50m; convert to ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (match(v, /^[0-9.]+/) == 0) { print "n/a"; exit }
        n = substr(v, 1, RLENGTH); u = substr(v, RLENGTH + 1)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1
        if (f < 0) print "n/a"; else printf "%.3f", n * f
    }'
}

# a / b with a format, or n/a when either is missing or b is 0.
ratio() {
    awk -v a="$1" -v b="$2" -v fmt="${3:-%.2f}" 'BEGIN {
        if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) print "n/a"; else printf fmt, a / b
    }'
}

# ------------------------------------------------------------- backends ---

read -r -a PORTS <<<"$(free_ports 6)"
BACKEND_PORTS=("${PORTS[@]:0:3}")
declare -A BAL_PORT=([fulcrum]="${PORTS[3]}" [haproxy]="${PORTS[4]}" [nginx]="${PORTS[5]}")

# Temp paths so nginx never writes outside its prefix.
nginx_temp_paths() {
    local d="$1"
    mkdir -p "$d/tmp"
    printf '    client_body_temp_path %s/tmp/body;\n    proxy_temp_path %s/tmp/proxy;\n' "$d" "$d"
}

start_backend() {
    local i="$1" port="$2" d="$WORK/backend$1" pid
    mkdir -p "$d/logs"
    cat >"$d/nginx.conf" <<EOF
# Backend $i: one process, answers every request with a fixed 3-byte body.
worker_processes 1;
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
$(nginx_temp_paths "$d")
    default_type text/plain;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
}
EOF
    "${PIN_CLI[@]}" nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" &
    pid=$!
    PIDS+=("$pid")
    wait_port "$port" "$pid" || { cat "$d/logs/error.log" >&2 || true; die "backend $i did not start on 127.0.0.1:$port"; }
}

for i in 1 2 3; do start_backend "$i" "${BACKEND_PORTS[$((i - 1))]}"; done
log "backends on 127.0.0.1:${BACKEND_PORTS[*]}"

# ------------------------------------------------------------ balancers ---

EVENT_LOOPS=""   # Fulcrum's event loop count, found when it starts (fulcrum runs first)

start_fulcrum() {
    local port="$1" args=() b
    for b in "${BACKEND_PORTS[@]}"; do args+=(--backend "127.0.0.1:$b"); done
    "${PIN_BAL[@]}" "$FULCRUM" serve --listen "127.0.0.1:$port" "${args[@]}" --algorithm round-robin \
        >"$WORK/fulcrum.log" 2>&1 &
    BAL_PID=$!
}

start_haproxy() {
    local port="$1" d="$WORK/haproxy"
    mkdir -p "$d"
    cat >"$d/haproxy.cfg" <<EOF
global
    nbthread $EVENT_LOOPS
    maxconn 8192
    pidfile $d/haproxy.pid

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    timeout http-request 10s

frontend fe
    bind 127.0.0.1:$port
    default_backend be

    # The same header work Fulcrum does by default: X-Forwarded-For/-Proto/
    # -Host appended or set, an X-Request-ID when the request has none, and
    # hop-by-hop headers removed (HAProxy does that itself).
    option forwardfor
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    unique-id-format %[rand,hex]%[rand,hex]
    http-request set-header X-Request-ID %[unique-id] unless { req.hdr(x-request-id) -m found }

backend be
    balance roundrobin
    server b1 127.0.0.1:${BACKEND_PORTS[0]}
    server b2 127.0.0.1:${BACKEND_PORTS[1]}
    server b3 127.0.0.1:${BACKEND_PORTS[2]}
EOF
    # -db: stay in the foreground (no daemon, one process with nbthread threads).
    "${PIN_BAL[@]}" haproxy -db -f "$d/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
    BAL_PID=$!
}

start_nginx() {
    local port="$1" d="$WORK/nginx-proxy"
    mkdir -p "$d/logs"
    cat >"$d/nginx.conf" <<EOF
# nginx as the balancer: a master plus $EVENT_LOOPS worker(s).
worker_processes $EVENT_LOOPS;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
$(nginx_temp_paths "$d")
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    upstream be {
        server 127.0.0.1:${BACKEND_PORTS[0]};
        server 127.0.0.1:${BACKEND_PORTS[1]};
        server 127.0.0.1:${BACKEND_PORTS[2]};
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The same header work Fulcrum does by default.
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto http;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Request-ID \$request_id;
        }
    }
}
EOF
    "${PIN_BAL[@]}" nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" >"$WORK/nginx.log" 2>&1 &
    BAL_PID=$!
}

# RSS of the balancer's processes idle and holding IDLE_CONNS keep-alive
# connections (each has sent one request and read its response). Prints
# "IDLE_KIB HELD_KIB OPEN", OPEN being how many of those connections the
# balancer still kept open when the RSS was read.
measure_rss() {
    local port="$1"; shift
    timeout 180 "${PIN_CLI[@]}" python3 - "$port" "$IDLE_CONNS" "$@" <<'PY'
import socket, sys, time
port, count, pids = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]

def rss_kib():
    total = 0
    for pid in pids:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total

def one_exchange(s):
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed before the response head")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    while (length is not None and len(body) < length) or (chunked and not body.endswith(b"0\r\n\r\n")):
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk

idle = rss_kib()
socks, failed = [], 0
deadline = time.monotonic() + 120
for _ in range(count):
    if time.monotonic() > deadline:
        break
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect(("127.0.0.1", port))
        one_exchange(s)
        socks.append(s)
    except OSError:
        failed += 1
        s.close()
time.sleep(1)          # let the balancer settle (idle timers, freed buffers)
held = rss_kib()

def still_open(s):
    # A peer that closed the connection makes recv return b"" (or reset).
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False

print(idle, held, sum(1 for s in socks if still_open(s)))
for s in socks:
    s.close()
PY
}

# One wrk run; saves the raw output in $WORK/wrk-BAL-CONNS.txt.
run_wrk() {
    local port="$1" conns="$2" secs="$3" out="$4"
    timeout $(( secs + 60 )) "${PIN_CLI[@]}" wrk -t1 -c"$conns" -d"${secs}s" --latency \
        "http://127.0.0.1:$port/" >"$out" 2>&1 || log "wrk exited non-zero (see below)"
}

declare -A RPS P99 CPU_US REQS NON2XX SOCKERR RSS_IDLE RSS_HELD RSS_CONNS
declare -A ALL_RPS ALL_P99 ALL_CPU BAL_BUSY CLI_BUSY ALL_BAL_BUSY ALL_CLI_BUSY
ERRORS=()
RAW_LOG="$WORK/raw.txt"
: >"$RAW_LOG"

# The median of the numbers given (n/a when there are none).
median() {
    printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "n/a"; exit }
            if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

# Starts BAL on its port and checks it answers; sets BAL_PID.
start_checked() {
    local bal="$1" port="${BAL_PORT[$1]}" status
    log "starting $bal on 127.0.0.1:$port"
    "start_$bal" "$port"
    PIDS+=("$BAL_PID")
    if ! wait_port "$port" "$BAL_PID"; then
        cat "$WORK/$bal.log" >&2 2>/dev/null || true
        die "$bal did not start on 127.0.0.1:$port"
    fi
    sleep 0.5
    if [[ "$bal" == fulcrum && -z "$EVENT_LOOPS" ]]; then
        # The HTTP proxy's threads (fulcrum-http-N); before it ran on
        # epoll, NIO's event loops (NIO-ELT-…).
        EVENT_LOOPS="$( { grep -l '^fulcrum-http' /proc/"$BAL_PID"/task/*/comm 2>/dev/null || true; } | wc -l)"
        if (( EVENT_LOOPS < 1 )); then
            EVENT_LOOPS="$( { grep -l '^NIO-ELT' /proc/"$BAL_PID"/task/*/comm 2>/dev/null || true; } | wc -l)"
        fi
        if (( EVENT_LOOPS < 1 )); then
            EVENT_LOOPS="$("${PIN_BAL[@]}" nproc)"   # NIO's coreCount honours the affinity mask
        fi
        log "fulcrum runs $EVENT_LOOPS event loop(s); HAProxy nbthread and nginx worker_processes will match"
    fi
    status="$(probe "$port")"
    log "$bal: GET / -> ${status:-no answer}"
    [[ "$status" == *" 200"* ]] || log "warning: $bal did not answer 200 to a probe"
}

# 1. Memory, one balancer at a time, each freshly started.
for bal in "${BALANCERS[@]}"; do
    start_checked "$bal"
    mapfile -t pids < <(proc_tree "$BAL_PID")
    read -r idle held nconn < <(measure_rss "${BAL_PORT[$bal]}" "${pids[@]}" || echo "n/a n/a 0")
    RSS_IDLE[$bal]="$idle"; RSS_HELD[$bal]="$held"; RSS_CONNS[$bal]="$nconn"
    log "$bal: RSS idle ${idle} KiB, after $IDLE_CONNS keep-alive connections ${held} KiB ($nconn still open)"
    stop_pid "$BAL_PID"
    sleep 1
done

# 2. Load, with all three running (an idle balancer costs nothing) so that
# the three measurements at one connection count follow each other within
# a minute: the machine's speed drifts over minutes, and a ratio of two
# figures taken far apart measures the drift. The order rotates by round.
declare -A LOAD_PID
for bal in "${BALANCERS[@]}"; do
    start_checked "$bal"
    LOAD_PID[$bal]="$BAL_PID"
done
declare -A ROUND_RPS ROUND_P99 ROUND_CPU
for (( round = 1; round <= ROUNDS; round++ )); do
    order=("${BALANCERS[@]:$(( (round - 1) % ${#BALANCERS[@]} ))}" "${BALANCERS[@]:0:$(( (round - 1) % ${#BALANCERS[@]} ))}")
    for conns in $CONNECTIONS; do
        for bal in "${order[@]}"; do
            port="${BAL_PORT[$bal]}"
            key="$bal:$conns"
            out="$WORK/wrk-$bal-$conns.txt"
            run_wrk "$port" "$conns" "$WARMUP" "$WORK/warmup.txt"          # warm-up, discarded
            mapfile -t pids < <(proc_tree "${LOAD_PID[$bal]}")
            before="$(cpu_ticks "${pids[@]}")"
            read -r bal_b0 bal_t0 < <(cpu_set_ticks "$BALANCER_CPUS")
            read -r cli_b0 cli_t0 < <(cpu_set_ticks "$CLIENT_CPUS")
            run_wrk "$port" "$conns" "$DURATION" "$out"
            read -r bal_b1 bal_t1 < <(cpu_set_ticks "$BALANCER_CPUS")
            read -r cli_b1 cli_t1 < <(cpu_set_ticks "$CLIENT_CPUS")
            mapfile -t pids < <(proc_tree "${LOAD_PID[$bal]}")
            after="$(cpu_ticks "${pids[@]}")"
            BAL_BUSY[$key]="$(busy_percent "$bal_b0" "$bal_t0" "$bal_b1" "$bal_t1")"
            CLI_BUSY[$key]="$(busy_percent "$cli_b0" "$cli_t0" "$cli_b1" "$cli_t1")"
            ALL_BAL_BUSY[$key]+="${BAL_BUSY[$key]} "; ALL_CLI_BUSY[$key]+="${CLI_BUSY[$key]} "

            { echo "===== round $round, $bal, $conns connections"; cat "$out"; echo; } >>"$RAW_LOG"

            REQS[$key]="$(awk '/requests in/ { print $1; exit }' "$out")"
            RPS[$key]="$(awk '/^Requests\/sec:/ { print $2; exit }' "$out")"
            P99[$key]="$(to_ms "$(awk '$1 == "99%" { print $2; exit }' "$out")")"
            NON2XX[$key]="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2; exit }' "$out")"
            SOCKERR[$key]="$(sed -n 's/^ *Socket errors: *//p' "$out" | head -n 1)"
            REQS[$key]="${REQS[$key]:-0}"
            RPS[$key]="${RPS[$key]:-n/a}"
            nreq="${REQS[$key]}"
            if [[ "$nreq" =~ ^[0-9]+$ ]] && (( nreq > 0 )); then
                CPU_US[$key]="$(awk -v t=$(( after - before )) -v hz="$CLK_TCK" -v n="$nreq" \
                    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
            else
                CPU_US[$key]="n/a"
            fi
            log "round $round, $bal c=$conns: ${RPS[$key]} req/s, p99 ${P99[$key]} ms, ${CPU_US[$key]} µs CPU/req," \
                "CPUs busy: balancer's ${BAL_BUSY[$key]}%, client's ${CLI_BUSY[$key]}%" \
                "${NON2XX[$key]:+, NON-2XX ${NON2XX[$key]}}${SOCKERR[$key]:+, socket errors: ${SOCKERR[$key]}}"
            ALL_RPS[$key]+="${RPS[$key]} "; ALL_P99[$key]+="${P99[$key]} "; ALL_CPU[$key]+="${CPU_US[$key]} "
            ROUND_RPS[$round:$key]="${RPS[$key]}"; ROUND_P99[$round:$key]="${P99[$key]}"; ROUND_CPU[$round:$key]="${CPU_US[$key]}"
            [[ -n "${NON2XX[$key]}" ]] && ERRORS+=("round $round, $bal, $conns connections: Non-2xx ${NON2XX[$key]}")
            [[ -n "${SOCKERR[$key]}" ]] && ERRORS+=("round $round, $bal, $conns connections: socket errors ${SOCKERR[$key]}")
        done
    done
done
for bal in "${BALANCERS[@]}"; do stop_pid "${LOAD_PID[$bal]}"; done

# Fulcrum over X, per round (the two measured back to back), then the median.
declare -A RATIO_RPS RATIO_CPU RATIO_P99
for conns in $CONNECTIONS; do
    for bal in "${BALANCERS[@]}"; do
        [[ "$bal" == fulcrum ]] && continue
        rr=(); rc=(); rp=()
        for (( round = 1; round <= ROUNDS; round++ )); do
            rr+=("$(ratio "${ROUND_RPS[$round:fulcrum:$conns]}" "${ROUND_RPS[$round:$bal:$conns]}" "%.3f")")
            rc+=("$(ratio "${ROUND_CPU[$round:fulcrum:$conns]}" "${ROUND_CPU[$round:$bal:$conns]}" "%.3f")")
            rp+=("$(ratio "${ROUND_P99[$round:fulcrum:$conns]}" "${ROUND_P99[$round:$bal:$conns]}" "%.3f")")
        done
        RATIO_RPS[$bal:$conns]="$(ratio "$(median "${rr[@]}")" 1 "%.3f")"
        RATIO_CPU[$bal:$conns]="$(ratio "$(median "${rc[@]}")" 1)"
        RATIO_P99[$bal:$conns]="$(ratio "$(median "${rp[@]}")" 1)"
    done
done

for key in "${!ALL_RPS[@]}"; do
    # Word splitting is the point: each holds one figure per round.
    # shellcheck disable=SC2086
    RPS[$key]="$(median ${ALL_RPS[$key]})"
    # shellcheck disable=SC2086
    P99[$key]="$(median ${ALL_P99[$key]})"
    # shellcheck disable=SC2086
    CPU_US[$key]="$(median ${ALL_CPU[$key]})"
    # shellcheck disable=SC2086
    BAL_BUSY[$key]="$(median ${ALL_BAL_BUSY[$key]})"
    # shellcheck disable=SC2086
    CLI_BUSY[$key]="$(median ${ALL_CLI_BUSY[$key]})"
done

# --------------------------------------------------------------- report ---

mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/compare-$STAMP.md"
HAPROXY_V="$(haproxy -v 2>&1 | head -n 1 || true)"
NGINX_V="$(nginx -v 2>&1 | head -n 1 || true)"
WRK_V="$(wrk -v 2>&1 | head -n 1 || true)"

{
    echo "# Fulcrum vs HAProxy vs nginx — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo
    echo "- command: \`$COMMAND_LINE\`"
    echo "- load: \`wrk -t1 -cN -d${DURATION}s --latency http://127.0.0.1:PORT/\` after a ${WARMUP} s warm-up, N in: $CONNECTIONS"
    echo "- rounds: $ROUNDS (the balancers take turns; each figure is the median over the rounds)"
    echo "- fulcrum: \`fulcrum serve --algorithm round-robin\`, $FULCRUM_V, $EVENT_LOOPS event loop(s)"
    echo "- haproxy: $HAPROXY_V (nbthread $EVENT_LOOPS)"
    echo "- nginx: $NGINX_V (worker_processes $EVENT_LOOPS)"
    echo "- wrk: $WRK_V"
    echo "- machine: $NCPU CPU(s), $(uname -sr); pinning: $PINNING"
    echo "- backends: 3 × nginx \`return 200 \"ok\\n\"\` on 127.0.0.1"
    echo
    echo "F÷X columns are Fulcrum's figure divided by the row's balancer's (X) at the same connection count,"
    echo "taken per round (the two measured back to back, all balancers running) and then the median:"
    echo "F÷X req/s below 1 means Fulcrum serves fewer requests per second; F÷X CPU and F÷X p99 above 1"
    echo "mean Fulcrum spends more CPU per request / has a higher p99 latency. 'busy' is how busy the"
    echo "balancer's CPUs ($BALANCER_CPUS) and the client's ($CLIENT_CPUS: wrk and the backends) were, in percent:"
    echo "when the client's are the ones at 100%, req/s measures the client side more than the balancer."
    echo
    # (header cells typed out: printf pads bytes, and µ/× are two bytes each)
    echo "| conns | balancer |      req/s |   p99 ms |  CPU µs/req | F÷X req/s |  F÷X CPU |  F÷X p99 | busy bal/cli % |"
    echo "|------:|:---------|-----------:|---------:|------------:|----------:|---------:|---------:|---------------:|"
    for conns in $CONNECTIONS; do
        for bal in "${BALANCERS[@]}"; do
            k="$bal:$conns"
            if [[ "$bal" == fulcrum ]]; then
                r1="-"; r2="-"; r3="-"
            else
                r1="${RATIO_RPS[$k]}"
                r2="${RATIO_CPU[$k]}"
                r3="${RATIO_P99[$k]}"
            fi
            printf '| %5s | %-8s | %10s | %8s | %11s | %9s | %8s | %8s | %14s |\n' \
                "$conns" "$bal" "${RPS[$k]}" "${P99[$k]}" "${CPU_US[$k]}" "$r1" "$r2" "$r3" \
                "${BAL_BUSY[$k]}/${CLI_BUSY[$k]}"
        done
    done
    echo
    echo "RSS of the balancer (sum over its processes), idle and holding $IDLE_CONNS idle keep-alive"
    echo "client connections (each sent one request and read the response), measured before the load runs;"
    echo "'conns still open' counts those the balancer had not closed when the RSS was read:"
    echo
    echo "| balancer | idle MiB | with $IDLE_CONNS conns MiB | conns still open |"
    echo "|:---------|---------:|--------------------:|-----------------:|"
    for bal in "${BALANCERS[@]}"; do
        printf '| %-8s | %8s | %19s | %16s |\n' "$bal" \
            "$(ratio "${RSS_IDLE[$bal]}" 1024 "%.1f")" "$(ratio "${RSS_HELD[$bal]}" 1024 "%.1f")" \
            "${RSS_CONNS[$bal]}/$IDLE_CONNS"
    done
    echo
    echo "wrk errors (Non-2xx or 3xx responses / Socket errors); none listed means none reported:"
    echo
    if (( ${#ERRORS[@]} )); then
        printf -- '- %s\n' "${ERRORS[@]}"
    else
        echo "- none"
    fi
    echo
    echo "<details><summary>raw wrk output</summary>"
    echo
    echo '```'
    cat "$RAW_LOG"
    echo '```'
    echo
    echo "</details>"
} >"$REPORT"

# Print everything but the raw wrk output to the terminal.
sed '/^<details>/,$d' "$REPORT"
log "report written to ${REPORT#"$REPO_ROOT"/}"
