#!/usr/bin/env bash
# Reliability scenarios of the health issue, each with real processes: three
# `fulcrum backend`s behind `fulcrum serve --config`, under steady load from
# `wrk -t1 -c16` (tens of thousands of requests per second on loopback, far
# above the 1,000 the issue asks for).
#
# 1. SIGKILL one of three backends, restart it 3 s later.
# 2. SIGSTOP one: it still accepts connections (the kernel does) but never
#    answers. first_byte timeout (1 s) and ejection take over. Run with
#    round-robin, with least-connections (which stops sending to a backend
#    whose requests pile up), and with a per-try timeout (250 ms), after
#    which the listener retries a stuck GET on another backend as far as
#    the retry budget allows (the default 20%, then 100%).
# 3. One backend's /health turns to 500 while it still serves: it stops
#    receiving traffic once checks fail, with no client errors.
# 4. Deep check: one backend's application/health+json reports db failing;
#    it is taken out and the reason names db.
# 5. All three killed: every request gets a fast 503; one restarted: traffic
#    resumes.
# 6. (extra) b2's agent says drain, then ready 50%: it takes no new traffic,
#    then a fifth of it.
#
# Each scenario prints wrk's totals (failed requests show as "Non-2xx" or
# "Socket errors" lines, and are added up on a "failed:" line), the time from
# the fault to its detection (serve's log lines are stamped by this script
# as they arrive, so to the millisecond), and what the scenario checks.
#
# Usage: bench/reliability.sh [SCENARIO...]    all when none is given
#        FULCRUM_BIN=/path/to/fulcrum bench/reliability.sh 3 4
# Everything listens on 127.0.0.1, every loop is bounded, and every process
# it starts is stopped by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ -z "${FULCRUM_BIN:-}" ]; then
    swift build -c release --product fulcrum >/dev/null
    FULCRUM_BIN=$(swift build -c release --show-bin-path)/fulcrum
fi
bin=$FULCRUM_BIN
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(1 2 3 4 5 6)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Stamps each line with the time it arrived, in seconds with microseconds.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# The arrival time of the first serve log line matching $1, waiting up to 15 s.
first_log() {
    for _ in $(seq 1 150); do
        line=$(grep -E "$1" "$work/serve.log" | head -1 || true)
        [ -n "$line" ] && { echo "$line"; return; }
        sleep 0.1
    done
}
backend() { # NAME PORT [OPTION...]: starts a demo backend, sets $last to its PID
    # Started by a throwaway shell, so it is not this script's job and its
    # SIGKILL is not reported as one; it is still stopped by its PID.
    last=$(sh -c '"$@" >/dev/null 2>&1 & echo $!' sh "$bin" backend --name "$1" --listen "127.0.0.1:$2" "${@:3}")
    pids+=("$last")
}

# start HEALTH_CHECK_YAML [CLUSTER_EXTRA_YAML] [B2_YAML_EXTRA]: three backends
# and the balancer; b2 also runs an agent on port $a2.
start() {
    front=$(free_port); p1=$(free_port); p2=$(free_port); p3=$(free_port); a2=${agent_port:-$(free_port)}
    backend rel-b1 "$p1"; b1=$last
    backend rel-b2 "$p2" --agent-port "$a2"; b2=$last
    backend rel-b3 "$p3"; b3=$last
    cat > "$work/fulcrum.yaml" <<YAML
listeners:
  - { name: web, address: 127.0.0.1, port: $front, default_cluster: app }
clusters:
  app:
    algorithm: ${algorithm:-round-robin}
    backends:
      - { address: 127.0.0.1:$p1, name: b1 }
      - { address: 127.0.0.1:$p2, name: b2${3:-} }
      - { address: 127.0.0.1:$p3, name: b3 }
    health_check: $1
${2:-}
YAML
    : > "$work/serve.log"
    "$bin" serve --config "$work/fulcrum.yaml" > >(stamp >> "$work/serve.log") 2>&1 &
    serve=$!
    pids+=("$serve")
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$front/")" = 200 ] && grep -q "b3 UP\|b3.*first check" "$work/serve.log" && break
        sleep 0.1
    done
}
stop() {
    for pid in "$b1" "$b2" "$b3" "$serve" "${restarted:-}"; do
        [ -n "$pid" ] || continue
        kill -CONT "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    restarted=
}
# load SECONDS: wrk against the balancer; prints its totals and a failed: line.
load() {
    wrk -t1 -c16 -d"$1"s --timeout 5s "http://127.0.0.1:$front/" > "$work/wrk.txt" || true
    grep -E "requests in|Requests/sec|Non-2xx|Socket errors" "$work/wrk.txt" | sed 's/^ */  /'
    awk '/Non-2xx/ { f += $NF } /Socket errors/ { gsub(",", ""); f += $4 + $6 + $8 + $10 } END { printf "  failed: %d\n", f }' "$work/wrk.txt"
}
served() { curl -s "127.0.0.1:$1/admin/requests"; }
reasons() { grep -E "$1" "$work/serve.log" | sed -E 's/^[0-9.]+ [^ ]+ [a-z]+ fulcrum\.proxy: (\[[A-Za-z]+\] )?/    /' | head -6; }

checks="{ type: http, path: /health, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }"

scenario1() {
    echo "scenario 1: SIGKILL one of three backends, restart it 3 s later"
    start "$checks"
    (
        sleep 3
        kill -9 "$b2"
        echo "$EPOCHREALTIME" > "$work/t_fault"
        sleep 3
        echo "$EPOCHREALTIME" > "$work/t_restart"
        backend rel-b2 "$p2"
        echo "$last" > "$work/restarted"
    ) &
    load 12
    restarted=$(cat "$work/restarted"); pids+=("$restarted")
    t_fault=$(cat "$work/t_fault"); t_restart=$(cat "$work/t_restart")
    ejected=$(first_log "b2 EJECTED" | cut -d' ' -f1)
    down=$(first_log "b2 DOWN" | cut -d' ' -f1)
    up=$(first_log "b2 UP \(2/2\)" | cut -d' ' -f1)
    echo "  killed → EJECTED: $(ms_between "$t_fault" "$ejected") ms; → DOWN: $(ms_between "$t_fault" "$down") ms"
    echo "  restarted → UP: $(ms_between "$t_restart" "$up") ms"
    reasons "b2 (EJECTED|DOWN|UP|RETURNED)"
    printf "  after the restart: "
    for _ in 1 2 3 4 5 6; do curl -s "127.0.0.1:$front/"; done | sort | uniq -c | tr '\n' ' '
    echo
    stop
}

scenario2() {
    # algorithm | cluster timeouts | retry budget percent
    for variant in "round-robin|first_byte: 1s|20" "least-connections|first_byte: 1s|20" \
        "round-robin|first_byte: 1s, per_try: 250ms|20" "round-robin|first_byte: 1s, per_try: 250ms|100"; do
        IFS='|' read -r algorithm timeouts budget <<< "$variant"
        echo "scenario 2: SIGSTOP one of three backends (accepts, never answers); $algorithm, $timeouts, retry budget $budget%"
        start "$checks" "    timeouts: { $timeouts }
    retry_budget_percent: $budget"
        ( sleep 3; kill -STOP "$b2"; echo "$EPOCHREALTIME" > "$work/t_fault" ) &
        load 12
        t_fault=$(cat "$work/t_fault")
        ejected=$(first_log "b2 EJECTED" | cut -d' ' -f1)
        down=$(first_log "b2 DOWN" | cut -d' ' -f1)
        echo "  stopped → EJECTED: $(ms_between "$t_fault" "$ejected") ms; → DOWN: $(ms_between "$t_fault" "$down") ms"
        echo "  bound: wrk keeps 16 requests in flight, about 16/3 of them on b2 when it hangs"
        reasons "b2 (EJECTED|DOWN)"
        stop
        echo
    done
    algorithm=
}

# still_serving HEALTH_CHECK FAULT_PATH LABEL: b2 keeps serving but its checks
# start failing when FAULT_PATH is requested on it; it must stop receiving
# traffic once it is DOWN, with no client errors.
still_serving() {
    start "$1"
    ( sleep 3; curl -s -o /dev/null "127.0.0.1:$p2$2"; echo "$EPOCHREALTIME" > "$work/t_fault" ) &
    ( # b2's request count 0.5 s after it is marked down, for the traffic it got afterwards
        line=$(first_log "b2 DOWN")
        [ -n "$line" ] && sleep 0.5 && served "$p2" > "$work/served_at_down"
    ) &
    load 12
    t_fault=$(cat "$work/t_fault")
    down=$(first_log "b2 DOWN" | cut -d' ' -f1)
    echo "  $3 to DOWN: $(ms_between "$t_fault" "$down") ms"
    after=$(served "$p2"); at_down=$(cat "$work/served_at_down" 2>/dev/null || echo "?")
    echo "  requests b2 served from 0.5 s after DOWN to the end of the run: $((after - at_down))"
    reasons "b2 (EJECTED|DOWN)"
    stop
}

scenario3() {
    echo "scenario 3: b2's /health turns to 500 while it still serves"
    still_serving "$checks" "/admin/health?status=500" "/health → 500"
}

scenario4() {
    echo "scenario 4: deep check; b2's application/health+json reports db failing"
    still_serving \
        "{ type: application, path: /health/deep, required: [db, cache], interval: 1s, timeout: 500ms, rise: 2, fall: 3 }" \
        "/admin/dependency?name=db:connection&status=fail" "db fails"
}

scenario5() {
    echo "scenario 5: all backends down"
    start "$checks"
    t_fault=$EPOCHREALTIME
    kill -9 "$b1" "$b2" "$b3"
    for _ in $(seq 1 100); do
        [ "$(grep -cE "b[123] DOWN" "$work/serve.log")" -ge 3 ] && break
        sleep 0.1
    done
    last_down=$(grep -E "b[123] DOWN" "$work/serve.log" | tail -1 | cut -d' ' -f1)
    echo "  killed → all three DOWN: $(ms_between "$t_fault" "$last_down") ms"
    codes=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w "%{http_code} %{time_total}\n" "127.0.0.1:$front/"; done)
    echo "$codes" | awk '{ n[$1]++; if ($2 > max) max = $2 } END { for (c in n) printf "  HTTP %s: %d of 20\n", c, n[c]; printf "  slowest: %.1f ms\n", max * 1000 }'
    backend rel-b1 "$p1"; restarted=$last
    for _ in $(seq 1 100); do
        curl -sf "127.0.0.1:$front/" >/dev/null && break
        sleep 0.1
    done
    printf "  after restarting b1: %s" "$(curl -s "127.0.0.1:$front/")"
    echo
    stop
}

scenario6() {
    echo "scenario 6: b2's agent (HAProxy agent-check) says drain, then ready 50%"
    agent_port=$(free_port)
    start "$checks" "" ", health_check: { type: agent, port: $agent_port, interval: 1s, timeout: 500ms }"
    agent_port=
    (
        sleep 3
        curl -s -o /dev/null "127.0.0.1:$p2/admin/agent?reply=drain"
        echo "$EPOCHREALTIME" > "$work/t_fault"
        sleep 3
        served "$p2" > "$work/served_drained"
        curl -s -o /dev/null "127.0.0.1:$p2/admin/agent?reply=ready+50%25"
        for b in "$p1" "$p2" "$p3"; do served "$b"; done > "$work/served_at_half"
    ) &
    ( line=$(first_log "b2 DRAINING"); [ -n "$line" ] && sleep 0.5 && served "$p2" > "$work/served_at_drain" ) &
    load 12
    drained=$(first_log "b2 DRAINING" | cut -d' ' -f1)
    echo "  agent says drain to DRAINING: $(ms_between "$(cat "$work/t_fault")" "$drained") ms"
    echo "  requests b2 served from 0.5 s after DRAINING until the agent said ready: $(( $(cat "$work/served_drained") - $(cat "$work/served_at_drain") ))"
    mapfile -t half < "$work/served_at_half"
    d1=$(( $(served "$p1") - half[0] )); d2=$(( $(served "$p2") - half[1] )); d3=$(( $(served "$p3") - half[2] ))
    echo "  after ready 50%: b2 took $(awk -v a="$d1" -v b="$d2" -v c="$d3" 'BEGIN { printf "%.1f", 100 * b / (a + b + c) }')% (weights 1, 0.5, 1 give 20%)"
    reasons "b2 (DRAINING|ENABLED|WEIGHT|DOWN)"
    stop
}

for s in "${scenarios[@]}"; do
    "scenario$s"
    echo
done
