# Stage render worker. `make demo` and `make test` work on a fresh machine with
# Python 3.11+ and Node 20+; `make setup` is what both run first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME := bundler/runtime
GATEWAY_NODE := tests/gateway-node

.PHONY: setup demo test lint bench docs clean image image-test

setup: $(VENV)/.installed $(RUNTIME)/node_modules/.package-lock.json \
	$(GATEWAY_NODE)/node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# npm ci writes node_modules/.package-lock.json; the esbuild binary comes from the
# platform package (@esbuild/<os>-<arch>), so no install script has to run.
$(RUNTIME)/node_modules/.package-lock.json: $(RUNTIME)/package.json $(RUNTIME)/package-lock.json
	cd $(RUNTIME) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Node.js gateway the contract test drives (its own lock: the redis client and ajv).
$(GATEWAY_NODE)/node_modules/.package-lock.json: $(GATEWAY_NODE)/package.json $(GATEWAY_NODE)/package-lock.json
	cd $(GATEWAY_NODE) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/stage-render render examples/shiftcal --out .stage/demo \
		--scope https://www.googleapis.com/auth/calendar.readonly

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The worker image with whichever engine this machine has (a docker that reaches its
# daemon, else podman); the checker image is `--target checker`.
ENGINE ?= $(shell docker info >/dev/null 2>&1 && echo docker || command -v podman)
IMAGE  ?= stage-render:latest
image:
	@test -n "$(ENGINE)" || { echo "make image: install docker or podman" >&2; exit 1; }
	$(ENGINE) build $(if $(findstring podman,$(ENGINE)),--format docker) --tag $(IMAGE) .

# Builds stand-in base images (debootstrap), the worker and checker images with podman, and
# runs containers of them against Redis and S3. Bases and images are kept by podman under
# tags that hash their inputs, so a second run with no change rebuilds nothing.
image-test: setup
	$(BIN)/python -m pytest tests/image $(PYTEST_ARGS)

# Bare esbuild, `vite build` (Vite from bench/, never the worker's runtime) and the worker
# end to end on the same apps (the shadcn/Tailwind app, page weight and a cold start
# included), one run; prints the table, writes bench/results.{json,png}. Then the boot
# check: warm check p50, checks/s, render p50 with checks on and off
# (bench/results.check.json). Then the lifecycle: gc objects/s on 10,000 expired objects and
# bytes kept per session against renders (bench/results.lifecycle.{json,png}). Then both
# deployments, one Redis and RabbitMQ + a Redis Cluster: renders/s and CPU-ms per render
# with 1, 2, 4 workers (bench/results.scale.json). Then the API host: warm route p50, cold
# start p50, memory per warm app, 50 apps warm, requests/s (bench/results.host.json). Then
# a route's inference.chat against a local OpenAI-compatible server: the host's overhead p50
# beside the provider called directly (bench/results.inference.json). Then @stage/compute:
# a route's 100-document query by index and one-insert mutation, p50 and requests/s on
# SQLite and PostgreSQL (bench/results.compute.json).
bench: setup
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.lovable $(BENCH_ARGS)
	$(BIN)/python -m bench.paint $(BENCH_ARGS)
	$(BIN)/python -m bench.edits $(BENCH_ARGS)
	$(BIN)/python -m bench.check $(BENCH_ARGS)
	$(BIN)/python -m bench.lifecycle $(BENCH_ARGS)
	$(BIN)/python -m bench.scale $(BENCH_ARGS)
	$(BIN)/python -m bench.host $(BENCH_ARGS)
	$(BIN)/python -m bench.inference $(BENCH_ARGS)
	$(BIN)/python -m bench.compute $(BENCH_ARGS)

# docs/configuration.md is generated from the fields of worker/settings.py, docs/schema/
# from the dataclasses whose JSON crosses the gateway boundary.
docs: setup
	$(BIN)/python -m worker.cli.config_doc docs/configuration.md
	$(BIN)/python -m worker.cli.schema_doc docs/schema
	$(BIN)/stage-render packages --markdown > docs/packages.md
	$(BIN)/python -m bundler.builtin_ui > docs/components.md

# mypy reads worker, bundler and bench (pyproject.toml). tests/ is linted by ruff only: its
# several conftest.py and the helper modules pytest puts on the path (services, png) are
# one module tree for pytest's rootdir imports, not for mypy without packaging the tests.
lint: setup
	$(BIN)/ruff check bundler worker tests bench
	$(BIN)/ruff format --check bundler worker tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf .stage .pytest_cache .mypy_cache .ruff_cache
