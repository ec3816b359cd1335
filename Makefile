# Two commands: `make run` (set up and start the demo centre) and `make test` (set up and run the suite).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
VENDOR := queue_server/static/vendor/.installed

.PHONY: run test test-faults test-long mutants bench setup clean check-config test-tools

setup: $(STAMP) $(VENDOR)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[server,test]'
	touch $(STAMP)

# Browser libraries come from npm and are served by the server itself: no CDN on a centre's network.
$(VENDOR): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p queue_server/static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/chart.js/dist/chart.umd.min.js queue_server/static/vendor/
	touch $(VENDOR)

run: setup
	$(VENV)/bin/qms check-config config.yaml
	$(VENV)/bin/qms serve --config config.yaml

# The tests drive Debian's chromium and start redis-server; scripts/ensure-test-tools installs what is missing.
test-tools:
	scripts/ensure-test-tools

# Three workers on the two cores (many tests wait on a browser, a server process or a serial port), one test
# file each at a time (module-scoped servers stay in one worker); the longest files start first (tests/conftest.py).
test: setup test-tools
	$(PY) -m pytest -n 3 --dist loadfile -m "not faults"

# The scripted bad day, shortened (tests/test_bad_day.py, under 3 minutes): two server processes, Redis, a
# printer, a keypad and displays, with faults; `python -m bench faults` runs the whole simulated hour.
test-faults: setup test-tools
	$(PY) -m pytest -q -p no:cacheprovider -m faults tests/test_bad_day.py

# The store's state machines with many random sequences (CI runs a fixed, smaller set); a few minutes.
test-long: setup
	QMS_HYPOTHESIS_PROFILE=long $(PY) -m pytest -q -p no:cacheprovider tests/test_store_machine.py

# Plant each plausible bug of tests/mutants.py in a copy of the tree and report which the tests miss.
mutants: setup
	$(PY) -m tests.mutants

bench: setup
	$(PY) -m bench

check-config: setup
	$(VENV)/bin/qms check-config config.yaml

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules queue_server/static/vendor
