# bed: make help lists every target. The two that matter on a fresh machine:
#   make project-ready-core-only-with-docker    the readiness gate
#   make test                                   bed's own tests
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
# The old harness's shard selection: make project-ready-core-only-with-docker K='not shard_b'
# Balanced shards for a CI matrix: make project-ready-core-only-with-docker SHARD=1/2
K ?=
SHARD ?=
BED_RUN := $(if $(K),PYTEST_ADDOPTS="$(strip $(PYTEST_ADDOPTS) -k '$(K)')") $(PY) -m bed
SHARD_ARG := $(if $(SHARD),--shard $(SHARD))
# Upgrade readiness: make compare LITELLM="1.100.5 1.108.7" [JOBS=2] [GATE=dev]; a CI matrix job runs one
# leg (LEG=1.108.7 OUT=DIR), and one more job joins the legs (MERGE="DIR1 DIR2", earlier gateway first).
LITELLM ?=
JOBS ?=
GATE ?=
LEG ?=
OUT ?=
MERGE ?=
COMPARE_ARGS := $(foreach g,$(LITELLM),--litellm $(g)) $(if $(JOBS),--jobs $(JOBS)) $(if $(GATE),--gate $(GATE)) \
                $(if $(LEG),--leg $(LEG)) $(if $(OUT),--out $(OUT)) $(if $(strip $(MERGE)),--merge $(MERGE))

.PHONY: help venv engine browser images project-ready-core-only-with-docker dev-gate deploy-gate up down gc env \
        doctor compose bench bench-reuse bench-shim bench-gateway bench-peers compare test test-unit test-integration lint lock \
        mutate wheel

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  %-38s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Two stamps: what running bed needs (about 10 s from nothing), and on top of it what bed's own
# tests and lint need (pytest, the SDKs, mypy, ...: about 25 s more). The gate's targets
# install only the first, so a newcomer's first `make project-ready-core-only-with-docker` does not
# wait for bed's test tooling.
# Both install from hashed locks (`make lock`): pip checks every download against them and refuses
# anything the lock does not list. bed itself is then installed editable with no dependencies and
# no build isolation, so its build backend is the locked setuptools, not an unchecked download;
# `pip check` fails loudly when pyproject.toml names a dependency the lock lacks (run `make lock`).
$(STAMP): pyproject.toml requirements.lock
	@echo "[make] installing bed and its locked dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --require-hashes -r requirements.lock
	@$(PY) -m pip install -q --no-deps --no-build-isolation --check-build-dependencies -e .
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; echo "[make] run make lock: the lock lacks what pyproject.toml asks for" >&2; exit 1; }
	@touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.lock scripts/ensure-ci-tools.sh
	@echo "[make] installing what bed's own tests and lint need into $(VENV)"
	@$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; echo "[make] run make lock: the lock lacks what pyproject.toml asks for" >&2; exit 1; }
	@scripts/ensure-ci-tools.sh $(VENV)  # shellcheck, rsync (Debian); gitlab-ci-local (npm)
	@touch $@

venv: $(STAMP) ## create or refresh .venv (free when it is up to date)

engine: ## make sure a Docker engine answers (installs and starts one on a root Debian machine)
	@scripts/ensure-engine.sh

browser: ## what the report tests draw with: headless Chromium (installed on root Debian) and Mermaid's bundle
	@scripts/ensure-browser.sh $(VENV)/browser

images: $(STAMP) engine ## build the images whose content changed (a no-op otherwise)
	@$(PY) -m bed images

project-ready-core-only-with-docker: $(STAMP) engine ## THE readiness gate: deterministic, ND and agent tiers (+ live release smokes when LIVE_PROVIDERS=1)
	@$(BED_RUN) run --gate core $(SHARD_ARG)

dev-gate: $(STAMP) engine ## the dev gate: the deterministic tier only
	@$(BED_RUN) run --gate dev

deploy-gate: $(STAMP) engine ## the deploy gate: every tier under STRICT=1, plus READINESS_EXPECT
	@$(BED_RUN) run --gate deploy $(SHARD_ARG)

up: $(STAMP) engine ## bring the stack up and keep it; prints export lines to paste
	@$(PY) -m bed up

down: $(STAMP) ## remove the stack kept by `make up`
	@$(PY) -m bed down

gc: $(STAMP) ## remove containers and networks left by killed runs
	@$(PY) -m bed gc

env: $(STAMP) ## list every environment variable bed reads
	@$(PY) -m bed env

doctor: $(STAMP) ## check engine, images, venv, bases, router config, disk and ports, each with its fix
	@$(PY) -m bed doctor

bench: $(STAMP) engine ## time the warm core gate against its floor (5 runs)
	@$(PY) -m bed bench

bench-reuse: $(STAMP) engine ## the dev loop: `bed run --reuse` 3 times on the stack `make up` keeps
	@$(PY) -m bed bench reuse

bench-shim: $(STAMP) engine ## the shim's throughput and latency next to a bare ASGI app
	@$(PY) -m bed bench shim

bench-gateway: $(STAMP) engine ## LiteLLM proxy overhead over the shim (table + Mermaid charts in local/artifacts/bench)
	@$(PY) -m bed bench gateway

compare: $(STAMP) ## the gate against several LiteLLM releases, every regression named: LITELLM="1.100.5 1.108.7"
	@$(if $(strip $(MERGE)),,scripts/ensure-engine.sh &&) $(PY) -m bed compare $(COMPARE_ARGS)

bench-peers: $(STAMP) images ## bed next to docker compose and plain testcontainers: same images, same ND tests (RUNS=3)
	@scripts/ensure-compose.sh $(PY)
	@$(PY) -m bed bench peers --runs $(or $(RUNS),3)

compose: $(STAMP) ## regenerate compose/bed.yaml from bed/stack/services.py
	@$(PY) -m bed compose

test: $(DEV_STAMP) engine browser images ## bed's own tests: unit (no Docker), then integration (real engine, real images)
	@$(PY) -m pytest tests/unit -q -n 2
	@$(PY) -m pytest tests/integration -v

test-unit: $(DEV_STAMP) browser ## unit tests only (no Docker needed)
	@$(PY) -m pytest tests/unit -q -n 2

test-integration: $(DEV_STAMP) engine images ## integration tests only
	@$(PY) -m pytest tests/integration -v

mutate: $(DEV_STAMP) ## mutation score of bed/policy/ (mutmut): at least 95% of mutants must be killed
	@$(PY) -m pip install -q mutmut==3.8.1
	@rm -rf mutants && $(VENV)/bin/mutmut run >/dev/null 2>&1 || true
	@$(VENV)/bin/mutmut results --all true | awk -F': ' '{n[$$2]++; t++} END {for (k in n) print n[k], k; \
	  printf "mutation score: %.1f%% killed (%d of %d)\n", 100*n["killed"]/t, n["killed"], t; exit (n["killed"]/t < 0.95)}'

lint: $(DEV_STAMP) ## ruff and mypy --strict
	@$(PY) -m ruff check bed tests
	@$(PY) -m mypy

wheel: $(STAMP) ## build bed's wheel into dist/ (everything a run needs travels in it)
	@$(PY) -m pip wheel --no-deps -q -w dist .
	@ls dist/*.whl

# No stamp: a lock that no longer installs (pyproject.toml names a package it lacks) must stay fixable.
lock: ## every lock, with hashes (host and images; scripts/lock.sh): UPGRADE=1 resolves anew
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@UPGRADE=$(UPGRADE) scripts/lock.sh $(PY) $(VENV)/bin/uv

# --- docker compose users: the same stack from compose/bed.yaml ---------------------------------
.PHONY: compose-up compose-down remote-engine-up remote-engine-down
# COMPOSE_PROJECT names the compose project (its containers and network), so two stacks can coexist.
COMPOSE_PROJECT ?= bed
COMPOSE := docker compose -f compose/bed.yaml -p $(COMPOSE_PROJECT)
# `bed compose --prepare` writes the compose file, the router config exactly as a run would (same
# BED_ROUTER_CONFIG / STRICT / MINI_AGENT_API_BASE rules), when missing the 0600 master key file, and
# compose/.env: the content-hash tags of the images this stack runs (a later build cannot move them).
# `down` needs no image, so it works also without compose/.env.
COMPOSE_ANY_IMAGE := BED_SHIM_IMAGE=unused BED_LITELLM_IMAGE=unused BED_RUNNER_IMAGE=unused
compose-up: $(STAMP) images ## docker compose: bring compose/bed.yaml up (--wait); COMPOSE_PROJECT=bed
	@scripts/ensure-compose.sh $(PY)
	@$(PY) -m bed compose --prepare
	@LITELLM_MASTER_KEY="$${LITELLM_MASTER_KEY:-$$(cat .artifacts/master_key)}" $(COMPOSE) up -d --wait
	@echo "export BED_PROXY_URL=http://$$(LITELLM_MASTER_KEY=unused $(COMPOSE) port litellm 4000)"
	@echo "export MINI_AGENT_API_BASE=http://$$(LITELLM_MASTER_KEY=unused $(COMPOSE) port mini-agent 8788)/v1"
	@if [ -z "$${LITELLM_MASTER_KEY:-}" ]; then echo 'export LITELLM_MASTER_KEY="$$(cat $(CURDIR)/.artifacts/master_key)"'; \
	 else echo "# the proxy uses the LITELLM_MASTER_KEY you exported"; fi
	@echo "# the ND tier: LITELLM_MASTER_KEY=... $(COMPOSE) run --rm runner /opt/venv/bin/python -m pytest nd"

compose-down: $(STAMP) ## docker compose: remove the compose/bed.yaml stack (containers, network, volumes)
	@scripts/ensure-compose.sh $(PY)
	@$(COMPOSE_ANY_IMAGE) LITELLM_MASTER_KEY=unused $(COMPOSE) down -v --remove-orphans

# --- a second, "remote" Docker engine (its own network namespace), as CI's dind is ---------------
REMOTE_ENGINE_DIR ?= /tmp/bed-remote-engine

remote-engine-up: ## start a second dockerd in its own network namespace; prints its DOCKER_HOST
	@scripts/remote-engine.sh start $(REMOTE_ENGINE_DIR)

remote-engine-down: ## stop the engine started by remote-engine-up and remove everything it made
	@scripts/remote-engine.sh stop $(REMOTE_ENGINE_DIR)
