"""The locust users run against the real app without a single failed request."""

from __future__ import annotations

import csv
import http.client
import json
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
        int(float(line.rsplit(" ", 1)[1]))
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


PACING = """
import json, random, time
import loadtests.locustfile as lf
clock = [0.0]
time.monotonic = lambda: clock[0]
random.seed(3)
wait, user, starts = lf.poisson_throughput(10.0), type("U", (), {})(), []
while clock[0] < 200:
    starts.append(clock[0])
    clock[0] += 2.0 if len(starts) == 500 else 0.0  # one task that takes 2 s
    clock[0] += wait(user)
gaps = [b - a for a, b in zip(starts, starts[1:])]
print(json.dumps({"starts": len(starts), "zero_gaps_after_slow": gaps[500:530].count(0.0),
                  "short": sum(g < 0.1 * 0.1 for g in gaps) / len(gaps)}))
"""


def test_paced_users_start_tasks_as_a_poisson_process_and_catch_up() -> None:
    """At 10 tasks/s for 200 s: about 2,000 starts even with a task that took 2 s (the user
    sends back to back until it is due again), and gaps spread as an exponential (about
    10 % of them under a tenth of the mean), not on a fixed beat that keeps users in step."""
    root = Path(__file__).parents[1]
    run = subprocess.run([sys.executable, "-c", PACING], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout)
    assert 1900 <= got["starts"] <= 2100
    assert got["zero_gaps_after_slow"] >= 10
    assert 0.07 <= got["short"] <= 0.13
