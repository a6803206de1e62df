# agentbus: the targets a newcomer can guess. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AGENTBUS_AMQP_URL ?= amqp://guest:guest@localhost:5672/
export AGENTBUS_MANAGEMENT_URL ?= http://localhost:15672

.PHONY: help setup compile proto proto-check broker topology run test unit lint typecheck buf bench \
        deploy-tools helm-lint compose-check k8s-check deploy-check images clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (3.11+) to create .venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed ## create .venv, install the project with pinned dependencies, compile the scanner
	@$(BIN)/python scripts/compile_scanner.py --optional

compile: $(VENV)/.installed ## compile the guardrail scanner with mypyc (skipped when current; needs gcc)
	$(BIN)/python scripts/compile_scanner.py

proto: setup ## regenerate the Python contracts from proto/ (never edit them by hand)
	$(BIN)/python scripts/gen_protos.py

proto-check: setup ## fail when the committed generated code is stale
	$(BIN)/python scripts/gen_protos.py --check

broker: ## make sure RabbitMQ answers at AGENTBUS_AMQP_URL (starts a local one if installed)
	@bash scripts/ensure_broker.sh

topology: setup broker ## declare exchanges, queues, users and permissions (idempotent)
	$(BIN)/agentbus topology apply --quiet

run: setup proto broker topology ## run the whole system locally with a demo saga that completes and one that compensates
	@bash scripts/run_demo.sh

lint: setup ## ruff over the whole tree
	$(BIN)/ruff check .

typecheck: setup ## mypy --strict over the library and the services
	$(BIN)/mypy shared/src/agentbus services

buf: ## buf lint, and buf breaking against the previous commit
	@bash scripts/buf_check.sh

unit: setup ## the tests that need no broker
	$(BIN)/pytest tests/unit -q

deploy-tools: ## install what the deploy checks need (docker-compose, helm, kubectl), if missing
	@bash scripts/install_deploy_tools.sh

compose-check: deploy-tools ## validate docker-compose.yml with docker-compose config
	@bash scripts/compose_check.sh

helm-lint: setup deploy-tools ## helm lint + helm template (default and production values), validated
	@bash scripts/helm_lint.sh

k8s-check: setup deploy-tools ## render the k8s/ overlays with kubectl kustomize, validated
	@bash scripts/k8s_check.sh

deploy-check: compose-check helm-lint k8s-check ## every deploy check

images: ## build one image per service (needs a container engine)
	@bash scripts/build_images.sh

test: setup broker deploy-tools proto-check lint typecheck buf ## everything CI checks: contracts, lint, types, all tests
	$(BIN)/pytest

bench: setup broker topology ## benchmarks against the real broker (not timed tests)
	@bash scripts/bench.sh

clean: ## remove the virtualenv, caches and local state
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .agentbus tools/node_modules \
	       services/guardrail/scanning/_compiled
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
