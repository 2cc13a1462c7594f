#!/usr/bin/env bash
# Times `fulcrum ring lookup` on 1,000,000 keys for each algorithm (release
# build), the throughput scripts see end to end: reading stdin, hashing,
# looking up, writing names. Target: under 2 seconds per million keys.
#
# Usage: bench/ring-lookup.sh [NODES]   (default 100 nodes)
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-100}
swift build -c release --product fulcrum >/dev/null
bin=$(swift build -c release --show-bin-path)/fulcrum
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seq -f "key-%.0f" 0 999999 > "$work/keys"
for i in $(seq 1 "$nodes"); do echo "10.0.$((i / 256)).$((i % 256)):11211=1#$i"; done > "$work/nodes"
cut -d= -f1 "$work/nodes" > "$work/names"

printf "%-11s %10s %12s\n" algorithm seconds keys/second
for algorithm in ring ketama nginx haproxy maglev jump modulo rendezvous; do
    file="$work/names"
    [ "$algorithm" = haproxy ] && file="$work/nodes"
    start=$(date +%s.%N)
    "$bin" ring lookup --algorithm "$algorithm" --nodes-file "$file" < "$work/keys" > "$work/out"
    end=$(date +%s.%N)
    lines=$(wc -l < "$work/out")
    [ "$lines" -eq 1000000 ] || { echo "$algorithm printed $lines lines, expected 1000000" >&2; exit 1; }
    awk -v a="$algorithm" -v s="$start" -v e="$end" 'BEGIN { printf "%-11s %10.3f %12.0f\n", a, e - s, 1000000 / (e - s) }'
done
