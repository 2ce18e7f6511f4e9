# linewatch — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
RUN_DIR ?= run
RUN_SECONDS ?= 0
# pytest-xdist workers for `make test`: 0 is one process; 2 is not the default yet (docs/testing.md).
PYTEST_WORKERS ?= 2

.PHONY: run test bench dashboards sysdeps venv snmpsim-venv check-config clean

# Debian packages the tests and the demo talk to (real servers, not mocks).
sysdeps:
	@scripts/ensure-sysdeps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	@$(VPY) -m pip install -q --upgrade pip >/dev/null 2>&1 || true
	@$(VPY) -m pip install -q -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

# snmpsim with real-device recordings (tests/snmpsim), in its own venv on Debian's python3.
snmpsim-venv:
	@scripts/ensure-snmpsim.sh $(VENV)/snmpsim

test: sysdeps venv snmpsim-venv
	@$(VPY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi; exit $$rc

run: sysdeps venv
	@$(VENV)/bin/linewatch demo --run-dir $(RUN_DIR) --seconds $(RUN_SECONDS)

bench: sysdeps venv
	@$(VPY) -m bench

dashboards: venv
	@$(VENV)/bin/linewatch dashboards build

check-config: venv
	@$(VENV)/bin/linewatch check-config

clean:
	rm -rf $(VENV) $(RUN_DIR) build *.egg-info
