# syntax=docker/dockerfile:1
# Stage render worker image: `docker build -t stage-render .`
# The esbuild binary and the allowlisted npm packages come from a Node stage; the final
# image is a slim Python runtime with no compilers, no npm and a non-root user.

FROM node:20-bookworm-slim AS npm-runtime
WORKDIR /app/bundler/runtime
COPY bundler/runtime/package.json bundler/runtime/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS python-env
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bundler/ bundler/
COPY worker/ worker/
COPY templates/ templates/
# Editable: the packages stay in /app beside templates/ and bundler/runtime/.
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -e /app

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STAGE_ARTIFACTS_DIR=/var/lib/stage/artifacts
RUN groupadd --system --gid 10001 stage \
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
