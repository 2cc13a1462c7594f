#!/usr/bin/env bash
# fuzz/run.sh — libFuzzer over Fulcrum's HTTP/1.1 parsers, for a bounded time.
#
# Usage: fuzz/run.sh [SECONDS]        (default 60)
#
# Compiles Sources/FulcrumProxy/HTTP/*.swift (standard library only) with the
# harness in fuzz/HTTPParsersFuzzer.swift under -sanitize=fuzzer,address, seeds
# the corpus with a few valid messages, and runs libFuzzer. Exit status 0
# means no property failed and nothing crashed; a failing input is written
# to fuzz/out/crash-* and the run stops with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=fuzz/out
mkdir -p "$out/corpus"
swiftc -O -sanitize=fuzzer,address -parse-as-library \
    Sources/FulcrumProxy/HTTP/*.swift fuzz/HTTPParsersFuzzer.swift -o "$out/http-parsers-fuzzer"
# Seeds: the first byte is where the harness splits the rest.
printf '\x12GET /a?b=c HTTP/1.1\r\nHost: x\r\nCookie: s=1\r\n\r\n' >"$out/corpus/get"
printf '\x30POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n' >"$out/corpus/chunked"
printf '\x22PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: keep-alive, X-A\r\n\r\nabc' >"$out/corpus/length"
printf '\x09HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' >"$out/corpus/response"
printf '\x40HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n' >"$out/corpus/response-chunked"
"$out/http-parsers-fuzzer" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="$out/" "$out/corpus"
