"""The locust users run against the real app without a single failed request."""

from __future__ import annotations

import csv
import http.client
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from leaderboard.settings import Settings
from tests.live_server import LiveServer
from tests.redis_process import RedisTarget


def gets_served(server: LiveServer) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return sum(
        int(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('leaderboard_requests_total{method="GET"')
    )


@pytest.mark.parametrize("read_host", [False, True], ids=["one-server", "read-host"])
def test_every_user_class_runs_clean(
    clean_redis: RedisTarget, tmp_path: Path, read_host: bool
) -> None:
    settings = Settings(
        redis_url=clean_redis.url, redis_cluster=clean_redis.cluster, activity_buckets=16
    )
    with ExitStack() as servers:
        server = servers.enter_context(LiveServer(settings))
        reader = servers.enter_context(LiveServer(settings)) if read_host else None
        updates = [{"player_id": f"player-{n}", "region": ("na", "eu", "apac")[n % 3], "score": n}
                   for n in range(300)]  # fmt: skip
        assert (
            server.call("POST", "/v1/boards/default/scores/batch", {"updates": updates})[0] == 200
        )
        env = dict(os.environ, LEADERBOARD_BENCH_PLAYERS="300", LEADERBOARD_BENCH_BATCH="50")
        if reader is not None:
            env["LEADERBOARD_BENCH_READ_HOST"] = f"http://127.0.0.1:{reader.port}"
        locustfile = Path(__file__).parents[1] / "loadtests" / "locustfile.py"
        run = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
             "--host", f"http://127.0.0.1:{server.port}", "-u", "6", "-r", "6", "-t", "4s",
             "--csv", str(tmp_path / "run"), "--only-summary", "--exit-code-on-error", "1"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        if reader is not None:  # every read went to the read host, every write did not
            assert gets_served(server) == 0 < gets_served(reader)
    with open(tmp_path / "run_stats.csv") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    for name in ("POST /scores/batch", "POST /scores", "GET /top global", "GET /players/{id}",
                 "GET /players/{id}/around"):  # fmt: skip
        assert int(rows[name]["Request Count"]) > 0, name
        assert int(rows[name]["Failure Count"]) == 0, name
