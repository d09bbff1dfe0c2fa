"""The benchmark preloader (loadtests/bulk.py) writes the layout the store's scripts use.

It bypasses the write path for speed, so nothing else would notice if its bucket hash or
key names drifted from ``_lib.lua``'s: a later write would then leave a second activity
entry behind, and the cleanup would remove a player who is active. On one Redis and on the
benchmarks' 2-master cluster, where each slab goes to its own master.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.domain import BoardConfig, Update
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store
from loadtests.bulk import bulk_load
from loadtests.cluster_bench import two_masters
from loadtests.runner import BOARD, REGIONS, ids_by_region
from tests.redis_process import RedisProcess

PLAYERS = 1234  # ids 0..1233: one and two digits, hundreds, several slabs per region


@pytest.mark.parametrize("cluster", [False, True], ids=["standalone", "two-masters"])
async def test_bulk_loaded_players_are_where_the_scripts_look(
    tmp_path: Path, cluster: bool
) -> None:
    server = (two_masters(tmp_path, BOARD, REGIONS) if cluster else RedisProcess(tmp_path)).start()
    store = Store.connect(server.url, 4, 5.0, cluster=cluster)
    try:
        settings = Settings(redis_url=server.url, redis_cluster=cluster, activity_buckets=64)
        service = Service.build(store, settings)
        await service.boards.put(BoardConfig(BOARD, REGIONS))
        record = await store.load_board(BOARD)
        assert record is not None
        await bulk_load(store, record, ids_by_region(0, PLAYERS), seed=3, slab=100)

        loaded = {r: await store.redis.zrange(record.zset(r), 0, -1) for r in REGIONS}
        for k, region in enumerate(REGIONS):
            assert sorted(loaded[region]) == sorted(f"player-{n}" for n in range(k, PLAYERS, 3))
        first = await store.redis.zrange(record.zset("na"), 0, 99, withscores=True)
        assert len({s for _, s in first}) > 90  # slabs draw their own scores

        updates = [Update(f"player-{n}", REGIONS[n % 3], 5_000_000_000 + n) for n in range(PLAYERS)]
        assert await service.scores.submit_batch(BOARD, updates) == PLAYERS

        activity = 0
        for region in REGIONS:
            base = record.zset(region)[:-1]
            for bucket in range(record.buckets):
                activity += await store.redis.hlen(f"{base}a:{bucket}")
        assert activity == PLAYERS  # the writes found every entry the loader made
        if cluster:
            assert all(node.keys() for node in server.masters())
        top = await service.views.top(BOARD, "global", 0, 3)
        assert [e["player_id"] for e in top["entries"]] == [
            f"player-{n}" for n in (1233, 1232, 1231)
        ]
    finally:
        await store.close()
        server.stop()
