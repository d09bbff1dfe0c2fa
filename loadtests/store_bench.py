"""Store-level figures on this machine: batch write rate with top-N events on and off, the
time to clean 1M stale players out of 2M, and the time to clean a board of many empty
regions (memory per player: loadtests.memory).

    python -m loadtests.store_bench [--players 1000000] [--empty-regions 200]

It starts its own redis-server on a free port (never the one on 6379) and stops it by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from leaderboard.domain import BoardConfig
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store
from loadtests.memory import Plan, load
from tests.redis_process import RedisProcess

REGIONS = ("na", "eu", "apac")


async def rate(store: Store, record: BoardRecord, plan: Plan, now_ms: int) -> float:
    """Updates/s of writing the plan's players once, one pipeline in flight."""
    return plan.players / await load(store, record, plan, 1, now_ms)


async def empty_regions(service: Service, count: int) -> None:
    """A cleanup's cost over regions with no player: one call each, whatever the buckets."""
    regions = tuple(f"r{i}" for i in range(count))
    await service.boards.put(BoardConfig("empty", regions, inactive_after_days=1))
    started = time.perf_counter()
    report = await service.cleanup.run("empty", older_than_seconds=0)
    took = time.perf_counter() - started
    buckets = service.boards.settings.activity_buckets
    print(
        f"cleanup of {count:,} empty regions ({buckets:,} buckets each): {took:.2f} s "
        f"in {report.batches:,} batches"
    )
    await service.boards.delete("empty")


async def run(players: int, empty: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisProcess(Path(tmp)).start()
        try:
            settings = Settings(redis_url=server.url)
            store = Store.connect(server.url, 8, 30.0)
            service = Service.build(store, settings)
            now = int(time.time() * 1000)
            everyone = Plan(players, REGIONS, False, seed=7)

            await service.boards.put(BoardConfig("mem", REGIONS))
            record = await service.boards.record("mem")
            loaded = await rate(store, record, everyone, now)
            print(f"load {players:,} new players: {loaded:,.0f} updates/s")

            # Steady-state updates of existing players, events on vs off, same run.
            for top in (100, 0):
                await service.boards.put(BoardConfig("mem", REGIONS, top_events=top))
                record = await service.boards.record("mem")
                half = Plan(players // 2, REGIONS, False, seed=8 + top)
                updates = await rate(store, record, half, now)
                print(
                    f"update {players // 2:,} players, top_events={top}: {updates:,.0f} updates/s"
                )
            await service.boards.delete("mem")

            # Cleanup: half of the players stale.
            await service.boards.put(BoardConfig("clean", REGIONS, inactive_after_days=1))
            record = await service.boards.record("clean")
            await load(store, record, everyone, 1, now - 10 * 86_400_000)
            await load(store, record, Plan(players, REGIONS, False, 9, offset=players), 1, now)
            started = time.perf_counter()
            report = await service.cleanup.run("clean")
            took = time.perf_counter() - started
            print(
                f"cleanup of {report.removed['clean']:,} stale of {2 * players:,}: {took:.1f} s "
                f"in {report.batches:,} batches (largest {report.largest_batch})"
            )
            await empty_regions(service, empty)
            await store.close()
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--empty-regions", type=int, default=200, help="regions of `empty`")
    args = parser.parse_args()
    asyncio.run(run(args.players, args.empty_regions))


if __name__ == "__main__":
    main()
