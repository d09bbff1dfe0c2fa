"""Where a read's time goes, from the server's own /metrics over a window of a run.

The probe times a read from outside: its own wait for a core, the server's wait for its
event loop, the Redis round trips and the rest. The server's histograms split that:
request time (from the handler's middleware on), Redis round trips per script, and how
late each worker's event loop ran a timer (the wait of a request arriving then). Their
quantiles over a window come from the difference of two scrapes, interpolated within a
bucket as Prometheus's histogram_quantile does, so they are as coarse as the buckets.
"""

from __future__ import annotations

import urllib.request
from collections import defaultdict
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Buckets = dict[tuple[str, tuple[tuple[str, str], ...]], dict[float, float]]


def scrape(service_url: str) -> Buckets:
    """Every histogram's cumulative bucket counts, by name and labels (le left out)."""
    with urllib.request.urlopen(f"{service_url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found: Buckets = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.endswith("_bucket"):
                continue
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            found[(family.name, labels)][float(sample.labels["le"])] = sample.value
    return found


def quantile(cumulative: dict[float, float], q: float) -> float:
    """The q-quantile (0..1) of one histogram's cumulative counts, linear within a bucket."""
    bounds = sorted(cumulative)
    total = cumulative[bounds[-1]]
    if total <= 0:
        return 0.0
    wanted, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= wanted:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (wanted - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


@dataclass
class Spread:
    """One histogram over the window: how many, and its p50 and p99 in ms."""

    count: int
    p50_ms: float
    p99_ms: float

    def __str__(self) -> str:
        return f"p50 {self.p50_ms:.1f} p99 {self.p99_ms:.1f} ms ({self.count:,})"


def window(before: Buckets, after: Buckets, name: str, **labels: str) -> Spread | None:
    """The histograms of ``name`` whose labels include ``labels``, added up, over the
    window between two scrapes (None when nothing was observed)."""
    summed: dict[float, float] = defaultdict(float)
    for (family, those), counts in after.items():
        if family != name or not set(labels.items()) <= set(those):
            continue
        earlier = before.get((family, those), {})
        for bound, count in counts.items():
            summed[bound] += count - earlier.get(bound, 0.0)
    if not summed or summed[max(summed)] <= 0:
        return None
    p50, p99 = (round(1000 * quantile(summed, q), 2) for q in (0.5, 0.99))
    return Spread(int(summed[max(summed)]), p50, p99)


READS = {
    "top": "/v1/boards/{board}/top",
    "rank": "/v1/boards/{board}/players/{player_id}",
    "around": "/v1/boards/{board}/players/{player_id}/around",
}


def decompose(before: Buckets, after: Buckets) -> dict[str, Spread | None]:
    """The read routes' server time, the Redis round trips of the scripts they call and
    of the write script, and the event loop's lateness."""
    parts: dict[str, Spread | None] = {
        f"server {name}": window(before, after, "leaderboard_request_seconds", method="GET",
                                 route=route, status="200")
        for name, route in READS.items()
    }  # fmt: skip
    for script in ("page", "names", "player", "around", "pipeline", "write"):
        parts[f"redis {script}"] = window(
            before, after, "leaderboard_redis_script_seconds", script=script
        )
    parts["pool wait"] = window(before, after, "leaderboard_redis_pool_wait_seconds")
    parts["loop lag"] = window(before, after, "leaderboard_event_loop_lag_seconds")
    return parts
