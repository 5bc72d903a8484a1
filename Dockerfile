# syntax=docker/dockerfile:1
# Stage render worker image:  docker build -t stage-render .
# Targets: `worker` (the default, last stage) runs `stage-render worker`; `checker` adds
# Debian's Chromium and runs `stage-render checker`. The esbuild binary and the allowlisted
# npm packages come from a Node stage; the runtime is a slim Python image with Debian's
# `node` (no npm), no compilers and a non-root user.
# The base images are arguments only so that a machine that cannot pull them can build
# the same file on stand-ins (tests/image); everyone else keeps the defaults.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS npm-runtime
WORKDIR /app/bundler/runtime
COPY bundler/runtime/package.json bundler/runtime/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM ${PYTHON_IMAGE} AS python-env
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bundler/ bundler/
COPY worker/ worker/
COPY templates/ templates/
# Editable: the packages stay in /app beside templates/ and bundler/runtime/.
# `python3`: the official image has it in /usr/local/bin, Debian's in /usr/bin.
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -e /app

FROM ${PYTHON_IMAGE} AS runtime
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
COPY --from=python-env /opt/venv /opt/venv
COPY --from=python-env /app /app
COPY --from=npm-runtime /app/bundler/runtime/node_modules /app/bundler/runtime/node_modules
WORKDIR /var/lib/stage
USER 10001:10001
# Redis answers, the bucket takes a probe object, esbuild runs: this host can render.
HEALTHCHECK --interval=30s --timeout=20s --start-period=20s --retries=3 \
  CMD ["stage-render", "health"]
CMD ["stage-render", "worker"]

# The boot check opens each rendered page in Debian's Chromium, non-root, with
# Chromium's own sandbox. libatomic1: the Node that Playwright's driver ships needs it.
FROM runtime AS checker
USER 0
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-dejavu-core \
    libatomic1 \
 && rm -rf /var/lib/apt/lists/*
# Playwright's Python package drives Debian's Chromium (executable_path): no browser
# download. Only this image carries it.
RUN PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/venv/bin/pip install -e '/app[check]'
USER 10001:10001
CMD ["stage-render", "checker"]

FROM runtime AS worker
