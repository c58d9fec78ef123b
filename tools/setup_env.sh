#!/usr/bin/env bash
# Create .venv with the pinned stack and mmcv 2.1.0 built from source with its CPU ops.
# Idempotent: a finished set-up leaves .venv/.setup-done and the next call returns at once.
# First run: ~15 min on 2 cores (almost all of it compiling mmcv's C++ ops); later runs reuse
# pip's wheel cache and take about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.setup-done"
want="$(cat requirements/pinned.txt requirements/tests.txt tools/setup_env.sh | sha1sum | cut -c1-12)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then exit 0; fi

"$PY" -c 'import sys; assert sys.version_info >= (3, 9), "Python >= 3.9 needed"'
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
echo "[setup] installing torch and build tools into $VENV"
pip install -q --upgrade 'pip>=24'
# setuptools<82: mmcv's setup.py and MMEngine's mmdet:: config lookup both need pkg_resources.
pip install -q 'torch==2.13.0' 'setuptools>=77.0.3,<82' wheel ninja 'numpy>=2.0,<3'
if ! "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
  echo "[setup] building mmcv 2.1.0 with CPU ops (first time ~13 min on 2 cores; cached afterwards)"
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} \
    pip install --no-build-isolation 'mmcv==2.1.0'
fi
echo "[setup] installing mmengine, mmdet, test tools and this package"
pip install -q -r requirements/pinned.txt -r requirements/tests.txt
pip install -q --no-build-isolation --no-deps -e .
"$VENV/bin/python" -c 'import mmcv.ops, mmdet, mmdet_odconv; print("[setup] ok: mmcv", mmcv.__version__, "mmdet", mmdet.__version__)'
echo "$want" > "$STAMP"
