"""The bench's lean reader (loadtests.probe) times real answers and counts what fails."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from leaderboard.settings import Settings
from loadtests.probe import KINDS, probe
from loadtests.runner import SCENARIOS, read_probe, start_probe
from tests.live_server import LiveServer
from tests.redis_process import RedisTarget, free_port


@pytest.mark.parametrize("redis_server", ["standalone"], indirect=True)
def test_probe_times_the_three_global_reads_as_the_runner_reads_them(
    clean_redis: RedisTarget,
) -> None:
    settings = Settings(redis_url=clean_redis.url, activity_buckets=16)
    with LiveServer(settings) as server:
        updates = [{"player_id": f"player-{n}", "region": ("na", "eu", "apac")[n % 3], "score": n}
                   for n in range(30)]  # fmt: skip
        batch = server.call("POST", "/v1/boards/default/scores/batch", {"updates": updates})
        assert batch[0] == 200
        args = argparse.Namespace(
            read_host="", service_url=f"http://127.0.0.1:{server.port}", probe_rate=60.0,
            seconds=4,
        )  # fmt: skip
        rows = read_probe(start_probe(SCENARIOS["mixed"], args, players=30))
    assert sorted(r.name for r in rows) == sorted(f"probe: {kind}" for kind in KINDS)
    for row in rows:
        assert row.failures == 0, row
        assert row.requests > 0 and 0 < row.p50 <= row.p95 <= row.p99, row


def test_probe_counts_refused_connections_as_failures() -> None:
    found = asyncio.run(probe(f"http://127.0.0.1:{free_port()}", 10, rate=200.0, seconds=0.3))
    assert set(found) == set(KINDS)
    for endpoint in found.values():
        assert endpoint.latencies == []
        assert list(endpoint.failures) == ["ConnectionRefusedError"]


def test_probe_is_started_only_beside_readers() -> None:
    args = argparse.Namespace(read_host="", service_url="http://x", probe_rate=50.0, seconds=5)
    assert start_probe(SCENARIOS["write"], args, players=10) is None
    args.probe_rate = 0
    assert start_probe(SCENARIOS["mixed"], args, players=10) is None
