# Chaos Control: `make up` starts the game, `make test` runs every test.
# Both install what is missing first (Debian packages when root, a virtualenv for Python).

# The services run as unprivileged users: the virtualenv's interpreter must be one they can
# execute (a pyenv build under /root is not). Prefer the system's Python.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest
SHELL := /bin/bash

.PHONY: up down status lab deps system-deps devcontainer-cli test test-unit test-static test-integration test-notebooks bench clean \
	venv-ctk experiments docker-venv docker-config docker-up docker-down docker-lab

up: deps
	$(BIN)/chaosctl up
	$(BIN)/chaosctl lab

down:
	$(BIN)/chaosctl down

status:
	$(BIN)/chaosctl status

lab: deps
	$(BIN)/chaosctl lab

deps: system-deps $(STAMP) devcontainer-cli

# The Dev Container CLI (pinned, project-local in .tools/): the test of .devcontainer/ runs it.
devcontainer-cli:
	@bash scripts/install-devcontainer-cli.sh

system-deps:
	@WITH_BROWSER=$(WITH_BROWSER) WITH_DOCKER=$(WITH_DOCKER) bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import os,sys; p=os.path.realpath(sys.executable); sys.exit(0 if all(os.stat(d).st_mode & 0o001 for d in [os.path.dirname(p)] + [os.path.dirname(p)[:i] for i in range(1, len(os.path.dirname(p))) if os.path.dirname(p)[i] == "/"]) else "error: " + p + " is not reachable by other users; recreate the venv with PYTHON=/usr/bin/python3")'
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[native,test]'
	@if $(BIN)/python -m pip show chaostoolkit-lib >/dev/null 2>&1; then \
		echo "error: chaostoolkit-lib is installed in $(VENV); it also provides 'chaoslib'. Remove it." >&2; exit 1; fi
	touch $@

# Chaos Toolkit, to run experiments/ (`chaos run experiments/lb-cutoff.json`), in a virtualenv of its own:
# its library is also imported as `chaoslib`, so it never enters $(VENV). Pinned; the experiments reach
# the game only through chaosctl and Prometheus's HTTP API.
CTK_VENV ?= .venv-ctk
CTK_VERSION := 1.19.0
CTK_LIB_VERSION := 1.44.0
CTK_STAMP := $(CTK_VENV)/.installed-chaostoolkit-$(CTK_VERSION)-lib-$(CTK_LIB_VERSION)

venv-ctk: $(CTK_STAMP)

$(CTK_STAMP):
	test -x $(CTK_VENV)/bin/python || $(PYTHON) -m venv $(CTK_VENV)
	$(CTK_VENV)/bin/python -m pip install -q --upgrade pip
	$(CTK_VENV)/bin/python -m pip install -q 'chaostoolkit==$(CTK_VERSION)' 'chaostoolkit-lib[jsonpath]==$(CTK_LIB_VERSION)'
	touch $@

# One Chaos Toolkit experiment per scenario of the catalogue (tests/static/test_chaostoolkit_experiments.py
# checks they are current).
experiments: $(STAMP)
	$(BIN)/chaosctl export chaostoolkit --all --dir experiments/

# The whole suite: unit and static checks first (fast), then the live native stack.
# The docker backend's tests need an engine and debootstrap (installed, not started).
test: WITH_DOCKER = 1
test: WITH_BROWSER = 1
test: deps venv-ctk
	$(PYTEST) tests -p no:cacheprovider --timeout=900

test-unit: deps venv-ctk
	$(PYTEST) tests -m "not integration and not docker" --timeout=300

test-static: deps venv-ctk
	$(PYTEST) tests/static tests/unit --timeout=300

test-notebooks: deps
	$(PYTEST) tests/notebooks --timeout=1800

test-integration: deps venv-ctk
	$(PYTEST) tests -m integration --timeout=900

# Every benchmark of issue #15 and the game's, each printing medians (and ratios to the
# figures before) to the terminal and to docs/bench-<name>.txt. About 2.5 hours; needs root.
BENCH_DOCS := docs
bench: deps venv-ctk
	$(BIN)/chaosctl up
	set -o pipefail; for b in "logs" "footprint" "startup" "faults --runs 3" "soak --minutes 60" \
	    "detective --seeds 10" "game --runs 3" "scale --replicas 1,3,6" "promclient --runs 5" "experiments"; do \
	  name=$${b%% *}; echo "== chaosctl bench $$b -> $(BENCH_DOCS)/bench-$$name.txt"; \
	  { echo "# chaosctl bench $$b  ($$(date -u +%Y-%m-%dT%H:%MZ), $$(nproc) cores, $$(git rev-parse --short HEAD))"; \
	    $(BIN)/chaosctl bench $$b; } 2>&1 | tee $(BENCH_DOCS)/bench-$$name.txt || exit 1; \
	done
	# The leaderboard's two baselines (held-out seeds when CHAOS_BOARD_SECRET is set, else practice).
	set -o pipefail; for a in detective one-rule; do \
	  $(BIN)/chaosctl bench agents --agent $$a 2>&1 | tee $(BENCH_DOCS)/bench-agents-$$a.txt || exit 1; \
	done

clean:
	rm -rf $(VENV) $(CTK_VENV) .pytest_cache

# -- Docker Compose backend (Gitpod, laptops): no root, no Debian packages -------------------
DOCKER_COMPOSE ?= docker compose
DOCKER_PYTHON ?= python3
DOCKER_STAMP := $(VENV)/.docker-stamp
# LOGS=1 adds the log stack (Elasticsearch, Kibana, Filebeat: the compose profile "logs") to the core game.
DOCKER_PROFILES := $(if $(filter 1 yes true,$(LOGS)),--profile logs)

# The virtualenv only (chaosctl, the notebooks' libraries: the player's set, no test or native
# extras); the stack itself runs in containers.
docker-venv: $(DOCKER_STAMP)

$(DOCKER_STAMP): pyproject.toml
	test -x $(BIN)/python || $(DOCKER_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

# Prometheus and Alertmanager configs from the native templates (Slack/Discord from the env), into
# the gitignored stack/generated/ to read or check; the stack renders its own (the `config` service).
docker-config: docker-venv
	$(BIN)/python -m chaoslib.dockerconf

# The dev container's engine (docker-in-docker) may still be starting when postStartCommand runs.
docker-up: docker-venv
	@for i in $$(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done; \
		echo "error: no Docker Engine answers (docker info)" >&2; exit 1
	$(DOCKER_COMPOSE) --profile tools build helper
	DOCKER_DATA_ROOT="$${DOCKER_DATA_ROOT:-$$(docker info -f '{{.DockerRootDir}}' 2>/dev/null)}" \
		env $$($(BIN)/python -m chaoslib.dockerconf --env) $(DOCKER_COMPOSE) $(DOCKER_PROFILES) up -d --build --wait
	@# The links as this workspace's browser opens them (CHAOS_PUBLIC_URL, Codespaces, Gitpod: config.public_url).
	@$(BIN)/chaosctl --backend docker status | tail -n 1; echo "JupyterLab: make docker-lab"

# The logs profile named: Compose's `down` leaves the containers of a profile it is not given.
docker-down:
	$(DOCKER_COMPOSE) --profile logs down --remove-orphans

docker-lab: docker-venv
	CHAOSCTL_BACKEND=docker CHAOSCTL_HELPER_IMAGE=chaos-control-helper:local $(BIN)/chaosctl lab
