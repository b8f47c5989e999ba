# make demo: prepare the embedded database with the demo data and serve http://127.0.0.1:8000
# make test: ruff, mypy (strict on baskets/) and the whole test suite
PYTHON ?= python3
# pytest processes: the database, browser and job tests are mostly waiting, so two processes
# halve the suite on the 2-core machine (files stay whole in one process: --dist loadfile).
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
# The install is redone whenever pyproject.toml changes (stamp named after its hash).
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test install lint clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/baskets demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a downloaded browser build): install it
# with apt-get where it is missing and apt-get is there; the tests say so when it still is not.
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
			|| echo "warning: could not install chromium with apt-get"; \
	fi

test: lint chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
