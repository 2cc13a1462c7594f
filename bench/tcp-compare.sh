#!/usr/bin/env bash
# bench/tcp-compare.sh — Fulcrum `serve --mode tcp` vs HAProxy `mode tcp`, in one run.
#
# Usage:
#   bench/tcp-compare.sh                      # DURATION=10
#   DURATION=5 ROUNDS=5 bench/tcp-compare.sh
#   FULCRUM_BIN=/path/to/fulcrum bench/tcp-compare.sh   # skip `swift build`
#
# Three measurements per balancer, each an L4 relay (round robin) in front of
# the same backends, all on 127.0.0.1:
#   1. throughput: wrk -t1 -c64 keep-alive requests through the relay to three
#      nginx backends answering `200 ok` (requests ride long-lived relayed
#      connections, so this is bytes relayed per second in small messages);
#   2. connection rate: the same with `Connection: close`, so every request is
#      a new client connection and a new backend connection (connections/s);
#   3. bulk: iperf3 -t DURATION through the relay to an iperf3 server (Gbit/s).
# Then it prints the Fulcrum/HAProxy ratios (≥ 1.00 means Fulcrum is as fast;
# each the median over rounds of the ratio within a round),
# and each balancer's CPU time per request or connection (the figure least
# moved by neighbours on a shared machine). Both log one line per connection
# (Fulcrum by default, HAProxy with `option tcplog` to stdout), so both do
# the same job.
# The balancers take turns, ROUNDS times, starting with a different one each
# round, and the table shows medians: on a machine shared with other work a
# single sequential pass mostly measures who ran while a neighbour was busy.
#
# Pinning as bench/compare.sh: with 2+ CPUs the balancer runs on CPU 0 and
# wrk, iperf3 and the backends on CPU 1. HAProxy gets as many threads as
# Fulcrum has event loops (1 when pinned to one CPU). Everything started here
# is stopped by the EXIT trap.

set -euo pipefail

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"     # alternating rounds; the table shows each figure's median
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || { echo "DURATION must be a positive integer" >&2; exit 2; }
CONNS=64
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
OUT_DIR="$SCRIPT_DIR/out"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"

say() { printf '[tcp-compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# --- dependencies (apt-get only when something is missing) ---
pkgs=()
for pair in haproxy:haproxy nginx:nginx-light wrk:wrk iperf3:iperf3 taskset:util-linux python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || pkgs+=("${pair##*:}")
done
if (( ${#pkgs[@]} )); then
    say "installing: ${pkgs[*]}"
    SUDO=""; (( EUID == 0 )) || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}"
fi

# --- fulcrum ---
if [[ -z "${FULCRUM_BIN:-}" ]]; then
    say "building fulcrum (swift build -c release --product fulcrum)"
    (cd "$REPO_ROOT" && swift build -c release --product fulcrum >&2) || fail "swift build failed"
    FULCRUM_BIN="$(cd "$REPO_ROOT" && swift build -c release --show-bin-path)/fulcrum"
    VERSION="git $(cd "$REPO_ROOT" && git rev-parse --short HEAD)"
else
    VERSION="binary $FULCRUM_BIN"
fi
[[ -x "$FULCRUM_BIN" ]] || fail "no fulcrum binary at $FULCRUM_BIN"

if (( $(nproc --all) >= 2 )); then
    BAL=(taskset -c 0); CLI=(taskset -c 1); PINNING="balancer on CPU 0; wrk, iperf3 and backends on CPU 1"
else
    BAL=(); CLI=(); PINNING="none (1 CPU)"
fi

# Descriptors for the relayed connections of both sides (HAProxy checks this
# against its maxconn at start).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- work dir, process list, cleanup ---
WORK="$(mktemp -d -t fulcrum-tcp-compare.XXXXXX)"
chmod 755 "$WORK"
STARTED=()
finish() {
    local rc=$? pid
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ "${KEEP_WORK:-0}" == 1 ]] && say "work dir kept: $WORK" || rm -rf "$WORK"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# N free 127.0.0.1 ports, held open together while choosing so none repeats.
pick_ports() {
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Until 127.0.0.1:PORT accepts (at most 10 s), or PID has exited.
await_port() {
    local tries
    for (( tries = 0; tries < 100; tries++ )); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

read -r -a P <<<"$(pick_ports 9)"
NGINX_PORTS=("${P[0]}" "${P[1]}" "${P[2]}")
IPERF_PORT="${P[3]}"
F_HTTP="${P[4]}"; F_BULK="${P[5]}"; H_HTTP="${P[6]}"; H_BULK="${P[7]}"

# --- backends: three one-process nginx answering `200 ok`, one iperf3 server ---
for i in 0 1 2; do
    d="$WORK/nginx$i"; mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    server { listen 127.0.0.1:${NGINX_PORTS[$i]}; location / { return 200 "ok\n"; } }
}
EOF
    "${CLI[@]}" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" &
    STARTED+=($!)
    await_port "${NGINX_PORTS[$i]}" $! || fail "nginx backend $i did not start"
done
"${CLI[@]}" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >"$WORK/iperf3-server.log" 2>&1 &
STARTED+=($!)
await_port "$IPERF_PORT" $! || fail "iperf3 server did not start"

# --- balancers ---
backend_args=()
for port in "${NGINX_PORTS[@]}"; do backend_args+=(--backend "127.0.0.1:$port"); done
"${BAL[@]}" "$FULCRUM_BIN" serve --listen "127.0.0.1:$F_HTTP" --mode tcp "${backend_args[@]}" >"$WORK/fulcrum.log" 2>&1 &
FULCRUM_PID=$!; STARTED+=($FULCRUM_PID)
"${BAL[@]}" "$FULCRUM_BIN" serve --listen "127.0.0.1:$F_BULK" --mode tcp --backend "127.0.0.1:$IPERF_PORT" \
    >"$WORK/fulcrum-bulk.log" 2>&1 &
STARTED+=($!)
await_port "$F_HTTP" "$FULCRUM_PID" || fail "fulcrum did not start: $(tail -3 "$WORK/fulcrum.log")"
await_port "$F_BULK" "${STARTED[-1]}" || fail "fulcrum (bulk) did not start"
LOOPS="$(taskset -pc "$FULCRUM_PID" 2>/dev/null | awk -F': ' '{print $2}' | tr ',' '\n' | awk -F- '{n += ($2 == "" ? 1 : $2 - $1 + 1)} END {print n + 0}')"
(( LOOPS >= 1 )) || LOOPS=1

cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread $LOOPS
    maxconn 8192
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend http_fe
    bind 127.0.0.1:$H_HTTP
    default_backend http_be
backend http_be
    balance roundrobin
    server b0 127.0.0.1:${NGINX_PORTS[0]}
    server b1 127.0.0.1:${NGINX_PORTS[1]}
    server b2 127.0.0.1:${NGINX_PORTS[2]}
frontend bulk_fe
    bind 127.0.0.1:$H_BULK
    default_backend bulk_be
backend bulk_be
    server i0 127.0.0.1:$IPERF_PORT
EOF
"${BAL[@]}" haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!; STARTED+=($HAPROXY_PID)
await_port "$H_HTTP" "$HAPROXY_PID" || fail "haproxy did not start: $(tail -3 "$WORK/haproxy.log")"

# --- measurements ---
# The balancer's CPU time so far (utime + stime, clock ticks).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wrk's Requests/sec for PORT and the CPU the balancer PID spent per request
# (µs), with extra wrk arguments.
wrk_rate() {
    local port="$1" pid="$2"; shift 2
    "${CLI[@]}" wrk -t1 -c"$CONNS" -d2s "$@" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true   # warm-up
    local before after
    before="$(cpu_ticks "$pid")"
    "${CLI[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" "$@" "http://127.0.0.1:$port/" >"$WORK/wrk.txt" 2>&1 || true
    after="$(cpu_ticks "$pid")"
    local rate requests errors
    rate="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")"
    requests="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
    errors="$(awk '/Socket errors|Non-2xx/ {print}' "$WORK/wrk.txt" | tr '\n' ' ')"
    [[ -n "$errors" ]] && say "port $port: $errors"
    echo "${rate:-n/a} $(awk -v t="$((after - before))" -v n="${requests:-0}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "n/a" }')"
}

# iperf3 receiver throughput through PORT, in Gbit/s.
bulk_rate() {
    "${CLI[@]}" iperf3 -c 127.0.0.1 -p "$1" -t "$DURATION" --json >"$WORK/iperf3.json" 2>&1 || true
    python3 -c '
import json, sys
try:
    print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("n/a")' "$WORK/iperf3.json"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

median() { printf '%s\n' "$@" | grep -v '^n/a$' | sort -g | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "n/a"}'; }

# The median over rounds of Fulcrum's figure over HAProxy's in the same
# round (the two measured back to back): a slow minute then skews one ratio
# instead of one balancer's median. Arguments: the name of Fulcrum's array,
# then HAProxy's.
round_ratio() {
    local -n fulcrum_figures="$1" haproxy_figures="$2"
    local ratios=() i
    for i in "${!fulcrum_figures[@]}"; do
        ratios+=("$(ratio "${fulcrum_figures[$i]}" "${haproxy_figures[$i]:-n/a}")")
    done
    median "${ratios[@]}"
}

F_RPS_ALL=(); H_RPS_ALL=(); F_CPS_ALL=(); H_CPS_ALL=(); F_BULK_ALL=(); H_BULK_ALL=()
F_RCPU_ALL=(); H_RCPU_ALL=(); F_CCPU_ALL=(); H_CCPU_ALL=()
for (( round = 1; round <= ROUNDS; round++ )); do
    order=(fulcrum haproxy)
    (( round % 2 == 0 )) && order=(haproxy fulcrum)
    for bal in "${order[@]}"; do
        if [[ "$bal" == fulcrum ]]; then
            http="$F_HTTP"; bulk="$F_BULK"; pid="$FULCRUM_PID"
        else
            http="$H_HTTP"; bulk="$H_BULK"; pid="$HAPROXY_PID"
        fi
        say "round $round: $bal"
        read -r rps rcpu <<<"$(wrk_rate "$http" "$pid")"
        read -r cps ccpu <<<"$(wrk_rate "$http" "$pid" -H "Connection: close")"
        gbit="$(bulk_rate "$bulk")"
        say "round $round: $bal: $rps req/s keep-alive ($rcpu µs CPU each), $cps conn/s ($ccpu µs CPU each), $gbit Gbit/s"
        if [[ "$bal" == fulcrum ]]; then
            F_RPS_ALL+=("$rps"); F_CPS_ALL+=("$cps"); F_BULK_ALL+=("$gbit"); F_RCPU_ALL+=("$rcpu"); F_CCPU_ALL+=("$ccpu")
        else
            H_RPS_ALL+=("$rps"); H_CPS_ALL+=("$cps"); H_BULK_ALL+=("$gbit"); H_RCPU_ALL+=("$rcpu"); H_CCPU_ALL+=("$ccpu")
        fi
    done
done
F_RPS="$(median "${F_RPS_ALL[@]}")"; H_RPS="$(median "${H_RPS_ALL[@]}")"
F_CPS="$(median "${F_CPS_ALL[@]}")"; H_CPS="$(median "${H_CPS_ALL[@]}")"
F_BULK_G="$(median "${F_BULK_ALL[@]}")"; H_BULK_G="$(median "${H_BULK_ALL[@]}")"
F_RCPU="$(median "${F_RCPU_ALL[@]}")"; H_RCPU="$(median "${H_RCPU_ALL[@]}")"
F_CCPU="$(median "${F_CCPU_ALL[@]}")"; H_CCPU="$(median "${H_CCPU_ALL[@]}")"
DIRECT_G="$(bulk_rate "$IPERF_PORT")"

mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/tcp-compare-$STAMP.md"
{
    echo "## L4: Fulcrum --mode tcp vs HAProxy mode tcp ($STAMP)"
    echo
    echo "- fulcrum: $VERSION; $(haproxy -v 2>&1 | head -n 1); $(wrk -v 2>&1 | head -n 1); iperf3 $(iperf3 --version 2>&1 | head -n 1 | awk '{print $2}')"
    echo "- pinning: $PINNING; event loops / HAProxy threads: $LOOPS; $(nproc --all) CPUs"
    echo "- wrk -t1 -c$CONNS -d${DURATION}s after a 2 s warm-up; iperf3 -t $DURATION; three nginx backends; round robin"
    echo "- medians of $ROUNDS alternating rounds (Fulcrum / HAProxy: the median of the per-round ratios); every round: Fulcrum ${F_RPS_ALL[*]} / HAProxy ${H_RPS_ALL[*]} req/s;" \
        "Fulcrum ${F_CPS_ALL[*]} / HAProxy ${H_CPS_ALL[*]} conn/s; Fulcrum ${F_BULK_ALL[*]} / HAProxy ${H_BULK_ALL[*]} Gbit/s"
    echo
    echo "| measurement | Fulcrum | HAProxy | Fulcrum / HAProxy |"
    echo "|---|---:|---:|---:|"
    echo "| throughput, keep-alive requests/s | $F_RPS | $H_RPS | $(round_ratio F_RPS_ALL H_RPS_ALL) |"
    echo "| CPU per keep-alive request, µs | $F_RCPU | $H_RCPU | $(round_ratio F_RCPU_ALL H_RCPU_ALL) |"
    echo "| connection rate, new connections/s | $F_CPS | $H_CPS | $(round_ratio F_CPS_ALL H_CPS_ALL) |"
    echo "| CPU per new connection, µs | $F_CCPU | $H_CCPU | $(round_ratio F_CCPU_ALL H_CCPU_ALL) |"
    echo "| bulk, iperf3 Gbit/s | $F_BULK_G | $H_BULK_G | $(round_ratio F_BULK_ALL H_BULK_ALL) |"
    echo
    echo "iperf3 without a relay: $DIRECT_G Gbit/s."
} | tee "$REPORT"
say "report: $REPORT"
