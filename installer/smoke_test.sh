#!/usr/bin/env bash
# Runs the built one-folder bundle (not the source tree): both programs' --version, a real match with the
# bundled engine, and the desk opening a demo store offscreen and quitting cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-dist/p20win}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export P20WIN_HOME="$work/home" QT_QPA_PLATFORM=offscreen

"$bundle/p20win" --version
"$bundle/p20win-match" --version

uv run python bench/generate.py --case full --n 300 --seed 3 --out "$work/files" >/dev/null
"$bundle/p20win-match" link "$work/files/left.tsv" "$work/files/right.tsv" --out "$work/run" 2>/dev/null
test -s "$work/run/crosswalk.tsv" && test -s "$work/run/run.json"
echo "bundled engine: $(($(wc -l < "$work/run/crosswalk.tsv") - 1)) links written"

start=$(date +%s%N)
"$bundle/p20win" --demo --self-test
echo "bundled desk: demo store created and window shown in $(( ($(date +%s%N) - start) / 1000000 )) ms"
start=$(date +%s%N)
"$bundle/p20win" --demo --self-test
echo "bundled desk: second start (store exists) in $(( ($(date +%s%N) - start) / 1000000 )) ms"
