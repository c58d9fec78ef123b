# Two commands do everything: `make demo` and `make test`.
# Both create .venv (pinned stack, mmcv 2.1.0 built with CPU ops) on first use.
PY := .venv/bin/python
PYTEST_ARGS ?=
# pytest exits 5 when it selects no test: not a failure, so it maps to 0.

.PHONY: setup demo test test-slow bench clean-demo

setup:
	@bash tools/setup_env.sh

demo: setup
	@$(PY) tools/demo.py

test: setup
	@$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

test-slow: setup
	@$(PY) -m pytest tests -m slow $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

bench: setup
	@$(PY) benchmarks/bench_layer.py

clean-demo:
	rm -rf data/odconv_demo work_dirs/demo
