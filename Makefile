# Thin wrappers. Every target works on a fresh machine: it makes .venv/ first if needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgecpm-installed

.PHONY: setup demo test test-fast tiny-model tiny-ternary quality clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/edgecpm demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

# Retrain the embedded default model (about 35 minutes on 2 cores; the result is committed).
tiny-model: setup
	$(PY) -m edgecpm.tiny.train -o toolchain/edgecpm/assets/tiny --steps 800 --eval-every 200 --force

# Retrain its BitCPM-style ternary twin by QAT from the fp model (about 20 minutes).
tiny-ternary: setup
	$(PY) -m edgecpm.tiny.train_qat -o toolchain/edgecpm/assets/tiny-ternary --steps 400 --force

# The README's quality table (fp, int4 RTN/GPTQ, ternary PTQ/QAT), about 5 minutes.
quality: setup
	benchmarks/quality.sh

clean:
	rm -rf $(VENV) build *.egg-info toolchain/*.egg-info .pytest_cache
