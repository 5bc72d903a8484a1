"""Prometheus metrics of the API host, served at ``/metrics`` on the host's port."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "REQUESTS",
    "LATENCY",
    "COLD_STARTS",
    "PROCESSES",
    "KILLS",
    "FETCHES",
    "INFERENCE_CALLS",
    "INFERENCE_TOKENS",
]

REQUESTS = Counter(
    "stage_host_requests_total", "Route requests answered, by app and status", ["app", "status"]
)
# A warm route answers in about a millisecond; the deadline is STAGE_API_TIMEOUT_S.
LATENCY = Histogram(
    "stage_host_route_seconds",
    "Time a route request took through the host",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
COLD_STARTS = Counter("stage_host_cold_starts_total", "Deno processes started for a request")
PROCESSES = Gauge("stage_host_processes", "Deno processes running")
KILLS = Counter(
    "stage_host_kills_total",
    "Deno processes stopped, by reason (idle, evicted, timeout, memory, exited, shutdown)",
    ["reason"],
)
FETCHES = Counter(
    "stage_host_fetches_total",
    "Outbound fetches of routes, by outcome (sent, refused)",
    ["outcome"],
)
INFERENCE_CALLS = Counter(
    "stage_host_inference_calls_total",
    "@stage/inference calls, by function and the status answered",
    ["function", "status"],
)
INFERENCE_TOKENS = Counter(
    "stage_host_inference_tokens_total", "Model tokens used by apps' calls, by model", ["model"]
)
