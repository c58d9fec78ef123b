#!/usr/bin/env bash
# One prepared GPU benchmark run (under 8 minutes on an H100; the limits
# below add up to 480 s):
#   1. layer harness, float32, with every forced impl   (<= 180 s)
#   2. layer harness, bfloat16 autocast, forced impls    (<= 130 s)
#   3. model harness, float32, 800x1333                  (<= 80 s)
#   4. model harness, bfloat16 autocast, 800x1333        (<= 50 s)
#   5. samples per chunk of the grouped path (kernel_bytes) (<= 40 s)
# Each step has its own time limit (the layer harness also stops itself with
# --time-limit and still writes its tables), and a failed step does not stop
# the others. Results go to $OUT if set (the device runner collects it),
# else benchmarks/results: gpu_layer*.{md,json,png}, gpu_model*.{md,json},
# one .log per step and gpu_info.txt.
#
# Needs a CUDA build of torch with mmcv/mmdet (the model harness also needs
# mmcv's CUDA ops); pick the interpreter with PYTHON=..., else the first of
# .venv/bin/python, python3, python that sees a GPU is used.
set -u
cd "$(dirname "$0")/.."

OUT_DIR=${OUT:-benchmarks/results}
mkdir -p "$OUT_DIR"

PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for cand in .venv/bin/python python3 python; do
        if "$cand" -c 'import sys, torch
sys.exit(not torch.cuda.is_available())' >/dev/null 2>&1; then
            PY=$cand
            break
        fi
    done
fi
if [ -z "$PY" ]; then
    echo 'run_gpu.sh: no python with a CUDA-enabled torch found' >&2
    exit 2
fi

{
    date -Is
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm \
        --format=csv 2>&1 || true
    "$PY" -c 'import torch; print("torch", torch.__version__, "cuda",
torch.version.cuda, torch.cuda.get_device_name())' 2>&1
} > "$OUT_DIR/gpu_info.txt"
cat "$OUT_DIR/gpu_info.txt"

status=0
step() {  # step NAME SECONDS ARGS...: run one harness with a hard limit
    local name=$1 limit=$2
    shift 2
    echo "== $name: $PY $*"
    timeout --signal=TERM --kill-after=15 "$limit" "$PY" "$@" \
        2>&1 | tee "$OUT_DIR/$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "!! $name exited with $rc"; status=1; }
}

step gpu_layer 180 benchmarks/bench_layer.py --device cuda --impls \
    --time-limit 150 --out "$OUT_DIR/gpu_layer"
step gpu_layer_bf16 130 benchmarks/bench_layer.py --device cuda \
    --dtype bfloat16 --impls --time-limit 100 --out "$OUT_DIR/gpu_layer_bf16"
step gpu_model 80 benchmarks/bench_model.py --device cuda \
    --out "$OUT_DIR/gpu_model"
step gpu_model_bf16 50 benchmarks/bench_model.py --device cuda \
    --dtype bfloat16 --out "$OUT_DIR/gpu_model_bf16"
step gpu_kernel_bytes 40 benchmarks/sweep_kernel_bytes.py --device cuda \
    --repeats 10

ls -l "$OUT_DIR"
exit $status
