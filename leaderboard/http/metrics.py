"""Prometheus metrics of the whole server: request counts and latencies, and score updates.

With several worker processes (`serve --workers N`) each process writes its values to
files in PROMETHEUS_MULTIPROC_DIR, which the CLI sets to a fresh directory, and a scrape
that reaches any process adds them all up: every scrape answers the same totals. With one
process the values live in its memory.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SHARED = "PROMETHEUS_MULTIPROC_DIR"
LABELS = ("method", "route", "status")  # routes are the table's patterns: a bounded set


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "leaderboard_requests", "HTTP requests by route and status.", LABELS,
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "leaderboard_request_seconds", "HTTP request latency by route and status.", LABELS,
            buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.updates = Counter(
            "leaderboard_score_updates", "Score updates acknowledged (single posts and batches).",
            registry=self.registry,
        )  # fmt: skip
        self.batch_updates = Histogram(
            "leaderboard_batch_updates", "Updates per accepted batch.",
            buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10_000), registry=self.registry,
        )  # fmt: skip
        self.cleanup_removed = Counter(
            "leaderboard_cleanup_removed", "Inactive players removed by POST /v1/admin/cleanup.",
            registry=self.registry,
        )  # fmt: skip
        self.replays = Counter(
            "leaderboard_idempotent_replays",
            "Requests answered with the answer of an earlier one with the same Idempotency-Key.",
            registry=self.registry,
        )  # fmt: skip
        self.events = Counter(
            "leaderboard_events", "Top-N events written to the streams (regional and global).",
            registry=self.registry,
        )  # fmt: skip
        self.pool_wait = Histogram(
            "leaderboard_redis_pool_wait_seconds",
            "Waits for a Redis connection from the pool (a free one, or a new one connecting); "
            "standalone Redis only.",
            buckets=(0.0001, 0.0005, *BUCKETS), registry=self.registry,
        )  # fmt: skip
        self.script_seconds = Histogram(
            "leaderboard_redis_script_seconds",
            "Round trips of Lua script calls to Redis, by script (pipeline: several kinds).",
            ("script",), buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.loop_lag = Histogram(
            "leaderboard_event_loop_lag_seconds",
            "How late a worker's event loop ran a timer: the wait of any request that arrived "
            "then, before its handler ran (CPU-bound work in the loop, or no free core).",
            buckets=(0.0005, *BUCKETS), registry=self.registry,
        )  # fmt: skip

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def script(self, name: str, seconds: float) -> None:
        self.script_seconds.labels(name).observe(seconds)

    def render(self) -> bytes:
        """The text exposition: of every process when they share a directory."""
        if SHARED not in os.environ:
            return generate_latest(self.registry)
        everyone = CollectorRegistry()
        MultiProcessCollector(everyone)
        return generate_latest(everyone)
