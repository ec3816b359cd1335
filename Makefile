# Two commands: `make run` (set up and start the demo centre) and `make test` (set up and run the suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench setup clean check-config

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/qms check-config config.yaml
	$(VENV)/bin/qms summary --config config.yaml

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

check-config: setup
	$(VENV)/bin/qms check-config config.yaml

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
