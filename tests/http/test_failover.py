"""A master of the cluster dies and its replica takes over, while the service keeps running.

Acknowledged writes that reached the replica (WAIT) survive; requests meanwhile answer
503 or the right answer, never a wrong one or a 500; afterwards reads and writes work
again without restarting the service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from leaderboard.http.app import create_app
from leaderboard.http.keys import SERVICE
from leaderboard.settings import Settings
from tests.redis_process import RedisClusterProcess

pytestmark = pytest.mark.redis_cluster
PLAYERS = 300
REGIONS = ("na", "eu", "apac")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RedisClusterProcess]:
    server = RedisClusterProcess(tmp_path, masters=3, replicas=1).start()
    try:
        yield server
    finally:
        server.stop()


def expected_top(scores: dict[str, int], limit: int) -> list[tuple[str, int]]:
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


async def test_a_master_failover_loses_no_acknowledged_write(
    aiohttp_client, cluster: RedisClusterProcess
) -> None:
    settings = Settings(
        redis_url=cluster.url, redis_cluster=True, redis_timeout=1.0, activity_buckets=16
    )
    client = await aiohttp_client(create_app(settings))
    scores = {f"p{i:03d}": i * 7 % 1000 for i in range(PLAYERS)}
    updates = [
        {"player_id": pid, "region": REGIONS[i % 3], "score": score}
        for i, (pid, score) in enumerate(scores.items())
    ]
    posted = await client.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert posted.status == 200
    for master in cluster.masters():
        with master.node_client() as node:
            assert node.wait(1, 5000) == 1  # the replica has every acknowledged write

    record = await client.app[SERVICE].boards.record("default")
    master, replica = cluster.owner(record.zset("na"))
    assert replica is not None
    master.stop()

    statuses: set[int] = set()
    deadline = time.monotonic() + 60
    read_ok = write_ok = False
    maybe: set[str] = set()
    n = 0
    while not (read_ok and write_ok):
        assert time.monotonic() < deadline, f"no recovery; answers seen: {statuses}"
        top = await client.get("/v1/boards/default/top?limit=20")
        statuses.add(top.status)
        assert top.status in (200, 503)
        if top.status == 200:
            entries = (await top.json())["entries"]
            assert [(e["player_id"], e["score"]) for e in entries] == expected_top(scores, 20)
            read_ok = True
        body = {"player_id": f"new{n}", "region": "na", "score": 5}
        post = await client.post("/v1/boards/default/scores", json=body)
        statuses.add(post.status)
        assert post.status in (200, 503)
        if post.status == 200:
            scores[f"new{n}"] = 5
            write_ok = True
        else:  # answered at its deadline: it may still land once the replica took over
            maybe.add(f"new{n}")
        n += 1
        await asyncio.sleep(0.05)

    cluster.wait_promoted(replica)
    top = await client.get("/v1/boards/default/top?limit=1000")
    assert top.status == 200
    page = await top.json()
    found = {e["player_id"]: e["score"] for e in page["entries"]}
    assert page["total"] == len(found)
    assert {pid: score for pid, score in found.items() if pid not in maybe} == scores
    me = await client.get("/v1/boards/default/players/p042")
    assert me.status == 200
    assert (await me.json())["score"] == scores["p042"]
