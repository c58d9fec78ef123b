#!/usr/bin/env bash
# The prepared GPU run: layer and detector tables in
# float32 and float16 autocast, AmpOptimWrapper steps of OD-R50 4x and the
# kernel_bytes sweep, each step with its own time limit (465 s in all).
# Writes gpu_*.{md,png,log} and gpu_info.txt to $OUT, else
# benchmarks/results. PYTHON=... picks the interpreter, else the first of
# these that sees a GPU (needs torch with CUDA, mmcv and mmdet).
set -u
cd "$(dirname "$0")/.."
O=${OUT:-benchmarks/results}
PY=${PYTHON:-}
for cand in .venv/bin/python python3 python; do
    [ -z "$PY" ] && "$cand" -c 'import torch
assert torch.cuda.is_available()' 2>/dev/null && PY=$cand
done
[ -n "$PY" ] || { echo 'run_gpu.sh: no python sees a GPU' >&2; exit 2; }
mkdir -p "$O"
{ date -Is; nvidia-smi; "$PY" -m torch.utils.collect_env; } \
    >"$O/gpu_info.txt" 2>&1

status=0
step() {  # step NAME SECONDS SCRIPT ARGS...: writes $O/NAME.{md,log}
    local name=$1 limit=$2 script=$3
    shift 3
    echo "== $name: $PY benchmarks/$script $*"
    timeout -k 15 "$limit" "$PY" "benchmarks/$script" --device cuda "$@" \
        --out "$O/$name" 2>&1 | tee "$O/$name.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "!! $name failed"; status=1; }
}
FAST='--rounds 2 --min-run-time 0.03'
step gpu_layer 140 bench_layer.py --impls $FAST --time-limit 110
step gpu_layer_fp16 100 bench_layer.py --dtype float16 $FAST --time-limit 70
step gpu_model 60 bench_model.py --rounds 2 --min-run-time 0.5
step gpu_model_fp16 45 bench_model.py --dtype float16 --rounds 2 \
    --min-run-time 0.5
step gpu_amp 60 bench_model.py --dtype float16 --models odconv4x \
    --amp-steps 30
step gpu_kernel_bytes 60 sweep_kernel_bytes.py --rounds 2 --min-run-time 0.1
ls -l "$O"
exit $status
