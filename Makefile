# Chaos Control: `make up` starts the game, `make test` runs every test.
# Both install what is missing first (Debian packages when root, a virtualenv for Python).

# The services run as unprivileged users: the virtualenv's interpreter must be one they can
# execute (a pyenv build under /root is not). Prefer the system's Python.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest

.PHONY: up down status lab deps system-deps test test-unit test-static test-integration test-notebooks bench clean

up: deps
	$(BIN)/chaosctl up
	$(BIN)/chaosctl lab

down:
	$(BIN)/chaosctl down

status:
	$(BIN)/chaosctl status

lab: deps
	$(BIN)/chaosctl lab

deps: system-deps $(STAMP)

system-deps:
	@WITH_BROWSER=$(WITH_BROWSER) bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import os,sys; p=os.path.realpath(sys.executable); sys.exit(0 if all(os.stat(d).st_mode & 0o001 for d in [os.path.dirname(p)] + [os.path.dirname(p)[:i] for i in range(1, len(os.path.dirname(p))) if os.path.dirname(p)[i] == "/"]) else "error: " + p + " is not reachable by other users; recreate the venv with PYTHON=/usr/bin/python3")'
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@if $(BIN)/python -m pip show chaostoolkit-lib >/dev/null 2>&1; then \
		echo "error: chaostoolkit-lib is installed in $(VENV); it also provides 'chaoslib'. Remove it." >&2; exit 1; fi
	touch $@

# The whole suite: unit and static checks first (fast), then the live native stack.
test: deps
	$(PYTEST) tests -p no:cacheprovider --timeout=900

test-unit: deps
	$(PYTEST) tests -m "not integration and not docker" --timeout=300

test-static: deps
	$(PYTEST) tests/static tests/unit --timeout=300

test-notebooks: deps
	$(PYTEST) tests/notebooks --timeout=1800

test-integration: deps
	$(PYTEST) tests -m integration --timeout=900

bench: deps
	$(BIN)/chaosctl bench all
	$(BIN)/chaosctl bench detective --seeds 10

clean:
	rm -rf $(VENV) .pytest_cache
