"""Prometheus text exposition of request counts, latencies and applied score updates."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Per-process counters; each worker process serves its own."""

    def __init__(self) -> None:
        self.hist: dict[tuple[str, str, int], list[float]] = defaultdict(
            lambda: [0.0] * (len(BUCKETS) + 2)
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        row = self.hist[(method, route, status)]
        row[bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds

    def render(self, score_updates: int) -> str:
        lines = [
            "# HELP leaderboard_requests_total HTTP requests by route and status.",
            "# TYPE leaderboard_requests_total counter",
        ]
        for (method, route, status), row in sorted(self.hist.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            lines.append(f"leaderboard_requests_total{{{labels}}} {int(sum(row[:-1]))}")
        lines += [
            "# HELP leaderboard_request_seconds HTTP request latency by route and status.",
            "# TYPE leaderboard_request_seconds histogram",
        ]
        for (method, route, status), row in sorted(self.hist.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            running = 0.0
            for bound, count in zip(BUCKETS, row, strict=False):
                running += count
                lines.append(
                    f'leaderboard_request_seconds_bucket{{{labels},le="{bound}"}} {int(running)}'
                )
            total = int(sum(row[:-1]))
            lines.append(f'leaderboard_request_seconds_bucket{{{labels},le="+Inf"}} {total}')
            lines.append(f"leaderboard_request_seconds_sum{{{labels}}} {row[-1]:.6f}")
            lines.append(f"leaderboard_request_seconds_count{{{labels}}} {total}")
        lines += [
            "# HELP leaderboard_score_updates_total Score updates applied by this process.",
            "# TYPE leaderboard_score_updates_total counter",
            f"leaderboard_score_updates_total {score_updates}",
        ]
        return "\n".join(lines) + "\n"
