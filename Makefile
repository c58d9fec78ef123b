# Two commands do everything: `make demo` and `make test`.
# Both create .venv (pinned stack, mmcv 2.1.0 built with CPU ops) on first use.
# `make test-compat` runs the whole suite again in .venv-compat, the torch 2.1 stack that
# MMCV's prebuilt CUDA wheels serve (requirements/compat.txt; docs/install.md).
PY := .venv/bin/python
COMPAT_PY := .venv-compat/bin/python
PYTEST_ARGS ?=
# pytest exits 5 when it selects no test: not a failure, so it maps to 0.

.PHONY: setup setup-compat demo test test-slow test-compat bench clean-demo

setup:
	@bash tools/setup_env.sh

setup-compat:
	@VENV=.venv-compat REQUIREMENTS=requirements/compat.txt bash tools/setup_env.sh

demo: setup
	@$(PY) tools/demo.py

test: setup
	@$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

test-slow: setup
	@$(PY) -m pytest tests -m slow $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

# Fast and slow tests in one run: the slow ones (resume, DDP, AMP) are where torch versions
# differ most, and they add minutes to a CI run that two mmcv builds dominate.
test-compat: setup-compat
	@$(COMPAT_PY) -m pytest tests $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

bench: setup
	@$(PY) benchmarks/bench_layer.py

clean-demo:
	rm -rf data/odconv_demo work_dirs/demo
