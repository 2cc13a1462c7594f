#!/usr/bin/env bash
# Balance and movement of every consistent-hashing algorithm, from
# `fulcrum ring simulate` (release build): peak-to-mean load over 1,000,000
# keys at 10, 100 and 1,000 equal nodes, and the share of keys moved when an
# 11th or 101st node is added, against the minimum possible.
#
# Usage: bench/balance.sh [KEYS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
keys=${1:-1000000}
swift build -c release --product fulcrum >/dev/null
bin=$(swift build -c release --show-bin-path)/fulcrum
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % d['$1'] if d['$1'] is not None else '-')"; }

printf "%-11s %8s %8s %8s %16s %16s\n" algorithm "n=10" "n=100" "n=1000" "add@10 moved/min" "add@100 moved/min"
for algorithm in ring ketama nginx haproxy maglev jump rendezvous modulo; do
    row=()
    for n in 10 100 1000; do
        row+=("$("$bin" ring simulate --algorithm "$algorithm" --nodes "$n" --keys "$keys" --json | field peak_to_mean)")
    done
    for n in 10 100; do
        json=$("$bin" ring simulate --algorithm "$algorithm" --nodes "$n" --keys "$keys" --add "node-$((n + 1))" --json)
        moved=$(echo "$json" | field moved_fraction)
        minimum=$(echo "$json" | field minimum_moved_fraction)
        row+=("$moved/$minimum")
    done
    printf "%-11s %8s %8s %8s %16s %16s\n" "$algorithm" "${row[@]}"
done
