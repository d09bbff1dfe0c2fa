"""Store-level figures on this machine: batch write rate with top-N events on and off, and
the time to clean 1M stale players out of 2M (memory per player: loadtests.memory).

    python -m loadtests.store_bench [--players 1000000]

It starts its own redis-server on a free port (never the one on 6379) and stops it by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from leaderboard.domain import BoardConfig
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store
from tests.redis_process import RedisProcess

REGIONS = ("na", "eu", "apac")
CHUNK = 100
CHUNKS_PER_CALL = 50


async def load(
    store: Store, record: BoardRecord, ids: range, now_ms: int, rng: random.Random
) -> float:
    """Writes one update per id in chunks of 100 per region, 50 chunks per round trip."""
    started = time.perf_counter()
    chunks = []
    for start in range(ids.start, ids.stop, CHUNK):
        region = REGIONS[(start // CHUNK) % len(REGIONS)]
        items = [
            (f"player-{i}", rng.randrange(10**9), None)
            for i in range(start, min(start + CHUNK, ids.stop))
        ]
        chunks.append((region, items))
        if len(chunks) == CHUNKS_PER_CALL:
            await store.write(record, chunks, now_ms, False)
            chunks = []
    if chunks:
        await store.write(record, chunks, now_ms, False)
    return len(ids) / (time.perf_counter() - started)


async def run(players: int) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisProcess(Path(tmp)).start()
        try:
            settings = Settings(redis_url=server.url)
            store = Store.connect(server.url, 8, 30.0)
            service = Service.build(store, settings)
            now = int(time.time() * 1000)
            first = 1_000_000

            await service.boards.put(BoardConfig("mem", REGIONS))
            record = await service.boards.record("mem")
            rate = await load(store, record, range(first, first + players), now, rng)
            print(f"load {players:,} new players: {rate:,.0f} updates/s")

            # Steady-state updates of existing players, events on vs off, same run.
            for top in (100, 0):
                await service.boards.put(BoardConfig("mem", REGIONS, top_events=top))
                record = await service.boards.record("mem")
                rate = await load(store, record, range(first, first + players // 2), now, rng)
                print(f"update {players // 2:,} players, top_events={top}: {rate:,.0f} updates/s")
            await service.boards.delete("mem")

            # Cleanup: half of the players stale.
            await service.boards.put(BoardConfig("clean", REGIONS, inactive_after_days=1))
            record = await service.boards.record("clean")
            await load(store, record, range(first, first + players), now - 10 * 86_400_000, rng)
            fresh = range(first + players, first + 2 * players)
            await load(store, record, fresh, now, rng)
            started = time.perf_counter()
            report = await service.cleanup.run("clean")
            took = time.perf_counter() - started
            print(
                f"cleanup of {report.removed['clean']:,} stale of {2 * players:,}: {took:.1f} s "
                f"in {report.batches:,} batches (largest {report.largest_batch})"
            )
            await store.close()
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=1_000_000)
    asyncio.run(run(parser.parse_args().players))


if __name__ == "__main__":
    main()
