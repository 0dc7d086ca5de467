#!/usr/bin/env bash
# `wsh build` of Balenafile.example: cold build (empty store, module cache warm)
# vs. --no-cache rebuild vs. fully cached rebuild vs. one changed file, in one run.
# Usage: benches/build.sh [WSH_BINARY]   (default: target/release/wsh, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
WSH=${1:-$PWD/target/release/wsh}
[ -x "$WSH" ] || cargo build --release -q -p wsh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WSH_HOME="$tmp/home"
ctx="$tmp/ctx"
mkdir -p "$ctx"
cp -r examples "$ctx/"
cp Balenafile.example "$ctx/Balenafile"

ms() { # milliseconds taken by the command
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
}

# Warm the compiled-module cache and the base image so that the figures are the build's.
"$WSH" -c 'ls /' >/dev/null
# A build that fails would time its error: check that the cold one succeeds.
"$WSH" build -t example-check "$ctx" >/dev/null 2>&1 || { echo "benches/build.sh: the build fails" >&2; exit 1; }
"$WSH" rmi example-check >/dev/null 2>&1 || true
cold=$(ms "$WSH" build --no-cache -t example "$ctx")
nocache=$(ms "$WSH" build --no-cache -t example "$ctx")
cached=$(ms "$WSH" build -t example "$ctx")
echo "one more line" >> "$ctx/examples/words.txt"
changed=$(ms "$WSH" build -t example "$ctx")
printf '%-52s %8s ms\n' "build Balenafile.example, every step run" "$cold" \
    "build --no-cache" "$nocache" \
    "rebuild, nothing changed (all steps CACHED)" "$cached" \
    "rebuild after changing words.txt (from its COPY on)" "$changed"
