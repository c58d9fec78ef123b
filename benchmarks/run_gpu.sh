#!/usr/bin/env bash
# The prepared GPU run (issue #14 section 5), each step with its own time
# limit (465 s in all; a failed step does not stop the others): the layer
# and detector tables in float32 and float16 autocast, AmpOptimWrapper
# training steps of Faster R-CNN OD-R50 4x, and the kernel_bytes sweep.
# Writes gpu_*.{md,json,png}, a .log per step and gpu_info.txt to $OUT, else
# benchmarks/results. Needs torch with CUDA, mmcv (CUDA ops) and mmdet;
# PYTHON=... picks the interpreter, else the first of these that sees a GPU.
set -u
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-benchmarks/results}
PY=${PYTHON:-}
for cand in .venv/bin/python python3 python; do
    [ -z "$PY" ] && "$cand" -c 'import torch
assert torch.cuda.is_available()' 2>/dev/null && PY=$cand
done
[ -n "$PY" ] || { echo 'run_gpu.sh: no python sees a GPU' >&2; exit 2; }
mkdir -p "$OUT_DIR"
{ date -Is; nvidia-smi --query-gpu=name,memory.total,driver_version \
    --format=csv 2>&1; "$PY" -c 'import torch; print("torch",
torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
} 2>&1 | tee "$OUT_DIR/gpu_info.txt"

status=0
step() {  # step NAME SECONDS SCRIPT ARGS...
    local name=$1 limit=$2
    shift 2
    echo "== $name: $PY $*"
    timeout -k 15 "$limit" "$PY" "$@" 2>&1 | tee "$OUT_DIR/$name.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "!! $name failed"; status=1; }
}
B=benchmarks
FAST='--rounds 2 --min-run-time 0.03'
step gpu_layer 140 $B/bench_layer.py --device cuda --impls $FAST \
    --time-limit 110 --out "$OUT_DIR/gpu_layer"
step gpu_layer_fp16 100 $B/bench_layer.py --device cuda --dtype float16 \
    $FAST --time-limit 70 --out "$OUT_DIR/gpu_layer_fp16"
step gpu_model 60 $B/bench_model.py --device cuda --rounds 2 \
    --min-run-time 0.5 --out "$OUT_DIR/gpu_model"
step gpu_model_fp16 45 $B/bench_model.py --device cuda --dtype float16 \
    --rounds 2 --min-run-time 0.5 --out "$OUT_DIR/gpu_model_fp16"
step gpu_amp 60 $B/bench_model.py --device cuda --dtype float16 \
    --models odconv4x --amp-steps 30 --out "$OUT_DIR/gpu_amp"
step gpu_kernel_bytes 60 $B/sweep_kernel_bytes.py --device cuda --rounds 2 \
    --min-run-time 0.1
ls -l "$OUT_DIR"
exit $status
