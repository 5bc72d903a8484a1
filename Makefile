# Stage render worker. `make demo` and `make test` work on a fresh machine with
# Python 3.11+ and Node 20+; `make setup` is what both run first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME := bundler/runtime

.PHONY: setup demo test lint bench docs clean image image-test

setup: $(VENV)/.installed $(RUNTIME)/node_modules/.package-lock.json

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
# (bench/results.check.json).
bench: setup
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.check $(BENCH_ARGS)

# docs/configuration.md is generated from the fields of worker/settings.py.
docs: setup
	$(BIN)/python -m worker.config_doc docs/configuration.md
	$(BIN)/stage-render packages --markdown > docs/packages.md

lint: setup
	$(BIN)/ruff check bundler worker tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf .stage .pytest_cache .mypy_cache .ruff_cache
