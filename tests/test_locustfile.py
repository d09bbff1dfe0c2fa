"""The locust users run against the real app without a single failed request."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from leaderboard.settings import Settings
from tests.live_server import LiveServer
from tests.redis_process import RedisTarget


def test_every_user_class_runs_clean(clean_redis: RedisTarget, tmp_path: Path) -> None:
    settings = Settings(
        redis_url=clean_redis.url, redis_cluster=clean_redis.cluster, activity_buckets=16
    )
    with LiveServer(settings) as server:
        updates = [{"player_id": f"player-{n}", "region": ("na", "eu", "apac")[n % 3], "score": n}
                   for n in range(300)]  # fmt: skip
        assert (
            server.call("POST", "/v1/boards/default/scores/batch", {"updates": updates})[0] == 200
        )
        env = dict(os.environ, LEADERBOARD_BENCH_PLAYERS="300", LEADERBOARD_BENCH_BATCH="50")
        locustfile = Path(__file__).parents[1] / "loadtests" / "locustfile.py"
        run = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
             "--host", f"http://127.0.0.1:{server.port}", "-u", "6", "-r", "6", "-t", "4s",
             "--csv", str(tmp_path / "run"), "--only-summary", "--exit-code-on-error", "1"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
    with open(tmp_path / "run_stats.csv") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    for name in ("POST /scores/batch", "POST /scores", "GET /top global", "GET /players/{id}",
                 "GET /players/{id}/around"):  # fmt: skip
        assert int(rows[name]["Request Count"]) > 0, name
        assert int(rows[name]["Failure Count"]) == 0, name
