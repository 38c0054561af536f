#!/usr/bin/env bash
# Start (or resume) the long reader training run in the background, politely:
# nice 19, jemalloc preloaded when installed, PID in /tmp/reader_train.pid.
# Pause: kill -STOP $(cat /tmp/reader_train.pid); continue: kill -CONT ...
# Stop for good: kill -TERM ... (it checkpoints and exits); rerun this script to resume.
# Usage: qa/reader/train_background.sh OUT_DIR [extra train-reader options]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: $0 OUT_DIR [options]}; shift
mkdir -p "$OUT"
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -f "$JE" ] && export LD_PRELOAD="$JE"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nohup nice -n 19 .venv/bin/python -m qa.reader.cli \
  --train ../shared/data/train/qa_train_combined.json --out "$OUT" "$@" \
  >>"$OUT/train.out" 2>&1 &
echo $! > /tmp/reader_train.pid
echo "training pid $(cat /tmp/reader_train.pid), log $OUT/train.out"
