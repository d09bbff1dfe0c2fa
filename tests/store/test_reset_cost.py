"""A reset costs the same at 10 players and at a million: nothing is copied or deleted
entry by entry, so Redis runs the very same commands (those inside the scripts included,
as INFO commandstats counts them). Standalone Redis of its own: the bulk loader that
fills a million players sends on one connection."""

from __future__ import annotations

import time
from pathlib import Path

from leaderboard.domain import BoardConfig
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import Store
from loadtests.bulk import bulk_load
from loadtests.runner import REGIONS, ids_by_region
from tests.redis_process import RedisProcess


async def test_a_reset_of_a_million_players_runs_the_commands_of_one_of_ten(
    tmp_path: Path,
) -> None:
    server = RedisProcess(tmp_path).start()
    store = Store.connect(server.url, 4, 30.0)
    try:
        service = Service.build(store, Settings(redis_url=server.url))
        commands = {}
        for players in (10, 1_000_000):
            board = f"b{players}"
            await service.boards.put(BoardConfig(board, REGIONS))
            record = await store.load_board(board)
            assert record is not None
            await bulk_load(store, record, ids_by_region(0, players), seed=1)
            await store.redis.config_resetstat()
            started = time.perf_counter()
            answer = await service.periods.reset(board)
            took = time.perf_counter() - started
            stats = await store.redis.info("commandstats")
            commands[players] = {name: int(v["calls"]) for name, v in stats.items()}
            total = sum(commands[players].values())
            print(f"reset of {players:,} players: {total} commands, {took * 1000:.1f} ms")
            assert answer["period"] == 2
            assert (await service.views.top(board, "global", 0, 10))["total"] == 0
            assert (await service.views.top(board, "global", 0, 10, 1))["total"] == players
        assert commands[10] == commands[1_000_000]
    finally:
        await store.close()
        server.stop()
