# The two commands that matter: `make run` (set up, then serve on the embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test fuzz system-deps bench fixtures soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gosim serve

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

# The schemathesis conformance run with many more examples per operation than `make test` uses.
fuzz: $(STAMP) system-deps
	GOSIM_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest -q tests/e2e/test_conformance.py tests/e2e/test_idp_conformance.py tests/e2e/test_payments_conformance.py tests/e2e/test_stateful_links.py

# Redis and Chromium for the end-to-end tests, from Debian's packages when missing.
system-deps:
	./scripts/system-deps.sh

fixtures: $(STAMP)
	$(BIN)/gosim fixtures generate --seed 42 --persons 10000 --out data

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Mixed traffic with scenarios on for SOAK_SECONDS (default 600), sampling RSS and open fds of master and workers;
# writes the summary into docs/reliability.md (the raw samples go to test-artifacts/soak.json).
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS) --doc

clean:
	rm -rf $(VENV) .gosim .pytest_cache test-artifacts
