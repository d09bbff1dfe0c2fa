"""The bench's lean reader (loadtests.probe) times real answers and counts what fails."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator

import pytest

from leaderboard.settings import Settings
from loadtests import server_side
from loadtests.probe import KINDS, probe
from loadtests.runner import SCENARIOS, read_probe, start_probe
from tests.live_server import LiveServer
from tests.redis_process import RedisTarget, free_port


@pytest.fixture
def server(clean_redis: RedisTarget) -> Iterator[LiveServer]:
    with LiveServer(Settings(redis_url=clean_redis.url, activity_buckets=16)) as live:
        yield live


@pytest.mark.parametrize("redis_server", ["standalone"], indirect=True)
def test_probe_times_the_three_global_reads_as_the_runner_reads_them(server: LiveServer) -> None:
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


def test_quantiles_of_a_histogram_are_interpolated_within_a_bucket() -> None:
    cumulative = {0.001: 50.0, 0.005: 100.0, float("inf"): 100.0}
    assert server_side.quantile(cumulative, 0.5) == pytest.approx(0.001)
    assert server_side.quantile(cumulative, 0.75) == pytest.approx(0.003)
    assert server_side.quantile({0.01: 0.0, float("inf"): 4.0}, 0.99) == 0.01
    assert server_side.quantile({0.01: 0.0, float("inf"): 0.0}, 0.5) == 0.0


@pytest.mark.parametrize("redis_server", ["standalone"], indirect=True)
def test_the_servers_own_split_of_a_window_counts_only_that_window(server: LiveServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    update = {"player_id": "p1", "region": "na", "score": 5}
    assert server.call("POST", "/v1/boards/default/scores", update)[0] == 200
    server.call("GET", "/v1/boards/default/top")
    before = server_side.scrape(base)
    for _ in range(7):
        assert server.call("GET", "/v1/boards/default/top")[0] == 200
    assert server.call("GET", "/v1/boards/default/players/p1")[0] == 200
    parts = server_side.decompose(before, server_side.scrape(base))
    top, rank = parts["server top"], parts["server rank"]
    assert top is not None and top.count == 7 and 0 < top.p50_ms <= top.p99_ms
    assert rank is not None and rank.count == 1
    assert parts["server around"] is None  # none in the window
    assert parts["redis player"] is not None and parts["redis player"].count >= 1
    assert parts["loop lag"] is not None and parts["loop lag"].count > 0
