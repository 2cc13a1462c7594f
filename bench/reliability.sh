#!/usr/bin/env bash
# Reliability scenarios of the health issue.
# 1. SIGKILL one of three backends under steady wrk load, then restart it.
#    Prints wrk's totals (failed requests show as "Non-2xx" or "Socket
#    errors" lines), and the times of the kill, the EJECTED/DOWN detection,
#    the restart and the return to service.
# 5. Kill all three: every request gets a fast 503; restart one: traffic
#    resumes.
#
# Usage: bench/reliability.sh            (installs wrk when missing)
# Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product fulcrum >/dev/null
bin=$(swift build -c release --show-bin-path)/fulcrum
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pkill -f "fulcrum backend --name rel-b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
front=$(free_port); p1=$(free_port); p2=$(free_port); p3=$(free_port)

"$bin" backend --name rel-b1 --listen 127.0.0.1:$p1 >/dev/null & b1=$!
"$bin" backend --name rel-b2 --listen 127.0.0.1:$p2 >/dev/null & b2=$!
"$bin" backend --name rel-b3 --listen 127.0.0.1:$p3 >/dev/null & b3=$!
cat > "$work/fulcrum.yaml" <<YAML
listeners:
  - { name: web, address: 127.0.0.1, port: $front, default_cluster: app }
clusters:
  app:
    algorithm: round-robin
    backends:
      - { address: 127.0.0.1:$p1, name: b1 }
      - { address: 127.0.0.1:$p2, name: b2 }
      - { address: 127.0.0.1:$p3, name: b3 }
    health_check: { type: http, path: /health, interval: 1s, timeout: 500ms, rise: 2, fall: 3 }
YAML
"$bin" serve --config "$work/fulcrum.yaml" > "$work/serve.log" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do curl -sf "127.0.0.1:$front/" >/dev/null && break; sleep 0.1; done

(
    sleep 3
    kill -9 "$b2"
    echo "killed    $(date -u +%T.%N)"
    sleep 3
    echo "restarted $(date -u +%T.%N)"
    exec "$bin" backend --name rel-b2 --listen 127.0.0.1:$p2 >/dev/null
) > "$work/timeline" & pids+=($!)

wrk -t1 -c16 -d12s "http://127.0.0.1:$front/" | grep -E "requests in|Requests/sec|Non-2xx|Socket errors"
echo "(no 'Non-2xx' or 'Socket errors' line means every request succeeded)"
cat "$work/timeline"
grep -E "b2 (EJECTED|DOWN|RETURNED|UP)" "$work/serve.log" | sed -E 's/^([0-9T:-]+)\+0000 .*backend=b2 ([A-Z]+) \((.{0,60}).*/\1  \2  \3/'
printf "after the restart: "
for _ in 1 2 3 4 5 6; do curl -s "127.0.0.1:$front/"; done | sort | uniq -c | tr '\n' ' '
echo

echo
echo "scenario 5: all backends down"
kill -9 "$b1" "$b3" 2>/dev/null || true
pkill -9 -f "fulcrum backend --name rel-b2" 2>/dev/null || true
for _ in $(seq 1 100); do
    [ "$(grep -cE "b[123] DOWN" "$work/serve.log")" -ge 3 ] && break
    sleep 0.1
done
codes=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w "%{http_code} %{time_total}\n" "127.0.0.1:$front/"; done)
echo "$codes" | awk '{ n[$1]++; if ($2 > max) max = $2 } END { for (c in n) printf "  HTTP %s: %d of 20\n", c, n[c]; printf "  slowest: %.1f ms\n", max * 1000 }'
"$bin" backend --name rel-b1 --listen 127.0.0.1:$p1 >/dev/null & pids+=($!)
for _ in $(seq 1 100); do
    curl -sf "127.0.0.1:$front/" >/dev/null && break
    sleep 0.1
done
printf "  after restarting b1: %s" "$(curl -s "127.0.0.1:$front/")"
echo
