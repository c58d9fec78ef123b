#!/usr/bin/env bash
# Create a virtual environment with a pinned stack and mmcv 2.1.0 built from source.
#   VENV          the environment (default .venv)
#   REQUIREMENTS  its pins, torch included (default requirements/pinned.txt;
#                 requirements/compat.txt is the torch 2.1 stack of `make test-compat`)
#   MMCV_CPU_ONLY=1   build mmcv's CPU ops even where torch sees a CUDA GPU
#   MMCV_WHEEL_CACHE  where built mmcv wheels are kept (default ~/.cache/mmdet-odconv)
# mmcv's ops are built for CUDA when torch sees a GPU and a matching CUDA toolkit is found,
# for the CPU when it sees none; a GPU without a toolkit stops before compiling, naming the
# choices (tools/setup_decision.py decides). Idempotent: a finished set-up leaves
# $VENV/.setup-done and the next call returns at once. The first build of mmcv takes ~13 min
# on 2 cores; the wheel is kept per torch version, ops and Python, since pip's own cache
# keys it by name and version only and would hand one torch's build to another.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
REQS=${REQUIREMENTS:-requirements/pinned.txt}
PY=${PYTHON:-python3}
STAMP="$VENV/.setup-done"
[[ -f "$REQS" ]] || { echo "[setup] $REQS: no such requirements file" >&2; exit 1; }
want="$(cat "$REQS" requirements/tests.txt tools/setup_env.sh tools/setup_decision.py \
  | sha1sum | cut -c1-12)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then exit 0; fi

"$PY" -c 'import sys; assert sys.version_info >= (3, 9), "Python >= 3.9 needed"'
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
echo "[setup] installing torch and build tools into $VENV (pins: $REQS)"
pip install -q --upgrade 'pip>=24'
# The pins constrain torch, numpy and setuptools (<82: mmcv's setup.py and MMEngine's
# mmdet:: config lookup both need pkg_resources).
pip install -q -c "$REQS" torch numpy setuptools wheel ninja
wheels=''
if ! "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' \
  2>/dev/null; then
  # Prints "<ops> <key> [<CUDA_HOME>]", or explains and fails before anything is compiled.
  decision="$("$VENV/bin/python" tools/setup_decision.py)"
  read -r ops key cuda_home <<< "$decision"
  wheels="${MMCV_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdet-odconv}/mmcv-2.1.0-$key"
  if ! ls "$wheels"/mmcv-2.1.0-*.whl > /dev/null 2>&1; then
    echo "[setup] building mmcv 2.1.0 with $ops ops (first time ~13 min on 2 cores) into $wheels"
    if [[ "$ops" == cuda ]]; then
      export FORCE_CUDA=1 CUDA_HOME="$cuda_home"
    else
      # mmcv's setup.py builds CUDA ops whenever torch sees a GPU: hide it.
      export FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=''
    fi
    rm -rf "$wheels.tmp"
    # --no-cache-dir: pip's cache would store this wheel under mmcv 2.1.0 for every torch.
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} \
      pip wheel --no-cache-dir --no-deps --no-build-isolation -w "$wheels.tmp" 'mmcv==2.1.0' \
      || { rm -rf "$wheels.tmp"; exit 1; }
    rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
  fi
  # Its dependencies come with mmengine and mmdet below, within the pins.
  pip install -q --no-deps --force-reinstall "$wheels"/mmcv-2.1.0-*.whl
fi
echo "[setup] installing mmengine, mmdet, test tools and this package"
pip install -q -r "$REQS" -r requirements/tests.txt
pip install -q --no-build-isolation --no-deps -e .
if ! "$VENV/bin/python" -c 'import mmcv.ops, mmdet, mmdet_odconv, torch
print("[setup] ok: torch", torch.__version__, "mmcv", mmcv.__version__, "mmdet", mmdet.__version__)'
then
  echo "[setup] the stack does not import (above).${wheels:+ If mmcv.ops fails, remove $wheels}" \
    "and run again" >&2
  exit 1
fi
echo "$want" > "$STAMP"
