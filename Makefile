# The two commands of the README: `make demo` and `make test`. Each creates .venv when it is
# missing and installs torch==2.13.0 (CPU wheel) first, then the package; re-running is fast
# because the install is redone only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
OUT ?= out
PYTEST_ARGS ?=

.PHONY: demo test test-slow test-browser bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m stablerecon demo --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS)

# the report in headless Chromium; installs Debian's chromium with apt where it is missing
# and apt works (the tests are skipped, with the reason, where it cannot be had)
test-browser: $(STAMP)
	command -v chromium >/dev/null || (command -v apt-get >/dev/null && \
		(apt-get install -y -q chromium || sudo apt-get install -y -q chromium)) || true
	$(PY) -m pytest -q -m browser -rs $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	$(PY) benchmarks/operators.py
	$(PY) benchmarks/wavelet.py
	$(PY) benchmarks/solvers.py
	$(PY) benchmarks/pdhg_patterns.py
	$(PY) benchmarks/firenet.py
	$(PY) benchmarks/lambda_choice.py
	$(PY) benchmarks/gpu.py
	$(PY) benchmarks/contrast.py
	$(PY) benchmarks/sweep.py
	$(PY) benchmarks/sweep_phi_cache.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
