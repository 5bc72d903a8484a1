# syntax=docker/dockerfile:1
# Stage render worker image:  docker build -t stage-render .
# Targets: `worker` (the default, last stage) runs `stage-render worker`; `checker` adds
# Debian's Chromium and runs `stage-render checker`; `host` runs `stage-render host` (published
# apps' pages and API routes) with Deno from the pinned `deno` wheel. The esbuild binary and the allowlisted
# npm packages come from a Node stage; the runtime is a slim Python image with Debian's
# `node` (no npm), no compilers and a non-root user.
# The base images are arguments only so that a machine that cannot pull them can build
# the same file on stand-ins (tests/image); everyone else keeps the defaults.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS npm-runtime
WORKDIR /app/bundler/runtime
COPY bundler/runtime/package.json bundler/runtime/package-lock.json ./
# npm skips an optional native binding whose `engines` this Node does not meet (Tailwind's
# oxide wants Node 20+): fail the build here rather than every Tailwind render later.
RUN npm ci --no-audit --no-fund --loglevel=error \
 && node -e "require('@tailwindcss/oxide')"

# Dependencies from pyproject.toml alone, the packages empty stand-ins: a code change
# rebuilds none of them, nor Chromium. The code is copied last, into each final stage.
FROM ${PYTHON_IMAGE} AS python-deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
# Editable: the packages stay in /app beside templates/ and bundler/runtime/. The stand-ins
# are made from pyproject.toml's own package list, so a new package needs no line here.
# `python3`: the official image has it in /usr/local/bin, Debian's in /usr/bin.
RUN mkdir -p templates \
 && for package in $(python3 -c "import tomllib; \
tool = tomllib.load(open('pyproject.toml', 'rb'))['tool']['setuptools']; \
print(*(name.replace('.', '/') for name in tool['packages'] if name not in tool['package-dir']))"); \
    do mkdir -p "$package" && touch "$package/__init__.py"; done \
 && python3 -m venv /opt/venv && /opt/venv/bin/pip install -e /app

# Playwright's Python package (it drives Debian's Chromium through executable_path: no
# browser download) and Pillow: only the checker image carries them.
FROM python-deps AS python-check-deps
RUN /opt/venv/bin/pip install -e '/app[check]'

# The API host: uvicorn, Starlette, httpx and the `deno` wheel (its binary inside).
FROM python-deps AS python-host-deps
RUN /opt/venv/bin/pip install -e '/app[host]'

# What the build copies of the project itself, in one place.
FROM scratch AS code
COPY pyproject.toml README.md /app/
COPY templates/ /app/templates/
COPY bundler/ /app/bundler/
COPY worker/ /app/worker/

FROM ${PYTHON_IMAGE} AS os
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STAGE_ARTIFACTS_DIR=/var/lib/stage/artifacts
# Debian's Node (18) runs long-lived helpers of the bundler; npm stays in the Node stage.
# Unpinned: bookworm's archive keeps only the current (security-patched) version.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 stage \
 && useradd --system --uid 10001 --gid stage --home-dir /var/lib/stage --create-home stage

# The boot check opens each rendered page in Debian's Chromium, non-root, with
# Chromium's own sandbox. libatomic1: the Node that Playwright's driver ships needs it.
# Network: the checker process needs Redis (STAGE_REDIS_URL, STAGE_BROKER_URL) and the
# artifact store (STAGE_S3_ENDPOINT_URL); Chromium needs nothing. It runs untrusted page
# code, so it gets no way out but the check's route: every name resolves to nothing, every
# connection it opens goes to a proxy at 127.0.0.1:9 (nothing may listen there), WebRTC
# sends no UDP, QUIC is off (worker/check/browser.py). Give the container egress to Redis and S3
# only (a network policy), never to the deployment's internal network at large.
# Fonts, so a screenshot shows what the user saw: colour emoji (without them every emoji is
# an empty box), the metric-compatible Arial/Times/Courier (Liberation) and DejaVu. Liberation
# is also what keeps the emoji font out of plain text: with no font for Chromium's default
# sans-serif (Arial), digits and spaces of Tailwind's font stack come from the emoji font.
FROM os AS checker
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core \
    fonts-noto-color-emoji libatomic1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=python-check-deps /opt/venv /opt/venv
COPY --from=npm-runtime /app/bundler/runtime/node_modules /app/bundler/runtime/node_modules
COPY --from=code /app /app
WORKDIR /var/lib/stage
USER 10001:10001
CMD ["stage-render", "checker"]

# Serves published apps: pages from the bucket, /api/** routes in one Deno process per app
# version (started as user 10001 like the host, with no environment, no files, network only
# to the host's platform endpoint). Give the container memory and CPU limits (cgroup v2) as
# the second layer Deno's docs ask for.
FROM os AS host
COPY --from=python-host-deps /opt/venv /opt/venv
COPY --from=code /app /app
ENV STAGE_HOST_BIND=0.0.0.0 \
    STAGE_HOST_DATA_DIR=/var/lib/stage/host
WORKDIR /var/lib/stage
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]
CMD ["stage-render", "host"]

FROM os AS worker
COPY --from=python-deps /opt/venv /opt/venv
COPY --from=npm-runtime /app/bundler/runtime/node_modules /app/bundler/runtime/node_modules
COPY --from=code /app /app
WORKDIR /var/lib/stage
USER 10001:10001
# Redis answers, the bucket takes a probe object, esbuild runs, Node compiles Tailwind:
# this host can render.
HEALTHCHECK --interval=30s --timeout=20s --start-period=20s --retries=3 \
  CMD ["stage-render", "health"]
CMD ["stage-render", "worker"]
