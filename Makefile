# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run    -> creates .venv if missing, installs tariffsim (with the dashboard), runs the US-Japan bundle into out/
#   make test   -> also installs the dev extras and Debian chromium if missing, runs the test suite
# Both are idempotent: stamps in .venv skip work already done.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test bench data install install-dev chromium clean dashboard

$(PY):
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python venv module missing: installing Debian python3-venv"; rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	  $(PYTHON) -m venv $(VENV); }
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dashboard]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev chromium

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium (browser tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(VENV)/bin/tariffsim run --out out

dashboard: install
	$(VENV)/bin/tariffsim dashboard

test: install-dev
	$(PY) -m pytest -q -p no:cacheprovider

bench: install-dev
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Rebuild the bundled dataset from ../shared/data (maintainers only; the bundle is committed).
data: install
	$(PY) scripts/build_data.py

clean:
	rm -rf out .pytest_cache
