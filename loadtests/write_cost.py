"""Redis CPU per applied score update: the service's write script against plain pipelined
ZADDs into a set of the same size, in the same run (issue 17's first target, 1.5x).

    python -m loadtests.write_cost [--players 1000000] [--updates 200000] [--rounds 2]

Its own redis-server on a free port (stopped by PID; never the one on 6379). Players are
bulk loaded (bulk.py) into a `set` board of three regions with top-N events on; then, in
rounds that alternate the two sides, --updates random existing players get fresh random
scores (every update changes a stored score) through Store.write, cut as the service cuts
batches (LEADERBOARD_BATCH_CHUNK updates per Lua call, 20 calls per pipeline), and as many
ZADDs with fresh scores go into plain zsets holding the same players per region, in
pipelines of the same size. Redis CPU is `used_cpu_user + used_cpu_sys` of INFO over each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from leaderboard.domain import BoardConfig, Mode, now_ms
from leaderboard.service import Service
from leaderboard.settings import Settings
from leaderboard.store import BoardRecord, Store
from loadtests.bulk import bulk_load
from loadtests.runner import REGIONS, ids_by_region
from tests.redis_process import RedisProcess

CALLS_PER_PIPELINE = 20
TARGET = 1.5  # issue 17: write.lua's Redis CPU per update at most 1.5x a plain ZADD's
SCORES = 1_000_000_000


async def redis_cpu(store: Store) -> float:
    info = await store.redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def service_side(
    store: Store, record: BoardRecord, players: int, updates: int, chunk: int, rng: random.Random
) -> tuple[float, float]:
    """Redis CPU seconds and wall seconds of ``updates`` writes through the store."""
    homes = {n: region for region, ids in ids_by_region(0, players) for n in ids}
    per_call = chunk * CALLS_PER_PIPELINE
    before, started = await redis_cpu(store), time.perf_counter()
    for first in range(0, updates, per_call):
        chunks: dict[str, list] = {}
        for _ in range(min(per_call, updates - first)):
            n = rng.randrange(players)
            chunks.setdefault(homes[n], []).append((f"player-{n}", rng.randrange(SCORES), None))
        cut = [
            (region, items[i : i + chunk])
            for region, items in chunks.items()
            for i in range(0, len(items), chunk)
        ]
        for result in await store.write(record, cut, now_ms(), False):
            if isinstance(result, Exception):
                raise result
    return await redis_cpu(store) - before, time.perf_counter() - started


async def zadd_side(
    store: Store, players: int, updates: int, chunk: int, rng: random.Random
) -> tuple[float, float]:
    """The same for plain ZADDs into one zset per region (``plain:<region>``), each holding
    the players of its region as the board's do (loaded first, outside the figure): a
    ZADD into a bigger set costs more, so the sets are the sizes the script writes into."""
    count = len(REGIONS)
    if await store.redis.zcard(f"plain:{REGIONS[0]}") == 0:
        for region, ids in ids_by_region(0, players):
            for first in range(0, len(ids), 10_000):
                block = ids[first : first + 10_000]
                members = {f"player-{n}": rng.randrange(SCORES) for n in block}
                await store.redis.zadd(f"plain:{region}", members)
    per_pipeline = chunk * CALLS_PER_PIPELINE
    before, started = await redis_cpu(store), time.perf_counter()
    for first in range(0, updates, per_pipeline):
        pipe = store.redis.pipeline(transaction=False)
        for _ in range(min(per_pipeline, updates - first)):
            n = rng.randrange(players)
            pipe.zadd(f"plain:{REGIONS[n % count]}", {f"player-{n}": rng.randrange(SCORES)})
        await pipe.execute()
    return await redis_cpu(store) - before, time.perf_counter() - started


@dataclass
class Cost:
    """Redis CPU per update of each round, both sides, and each round's ratio."""

    players: int
    scripted_us: list[float] = field(default_factory=list)
    zadd_us: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [s / z for s, z in zip(self.scripted_us, self.zadd_us, strict=True)]


async def measure(players: int, updates: int, rounds: int, show: bool = True) -> Cost:
    """Its own Redis, the board loaded, then ``rounds`` of both sides in turn."""
    cost = Cost(players)
    say = print if show else (lambda *_: None)
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisProcess(Path(tmp)).start()
        store = Store.connect(server.url, 4, 60.0)
        try:
            settings = Settings(redis_url=server.url)
            service = Service.build(store, settings)
            await service.boards.put(BoardConfig("cost", REGIONS, mode=Mode.SET))
            record = await service.boards.record("cost")
            await bulk_load(store, record, ids_by_region(0, players), seed=1)
            rng = random.Random(2)
            chunk = settings.batch_chunk
            say(
                f"{players:,} players in 3 regions (set mode, top_events 100), {updates:,} "
                f"updates per phase, {chunk} per call, {CALLS_PER_PIPELINE} calls per pipeline"
            )
            say("phase            Redis us/update  updates/s (one client)")
            for _ in range(rounds):
                await store.redis.config_resetstat()
                cpu, wall = await service_side(store, record, players, updates, chunk, rng)
                stats = await store.redis.info("commandstats")
                cost.scripted_us.append(cpu / updates * 1e6)
                say(f"write.lua        {cost.scripted_us[-1]:15.2f}  {updates / wall:10,.0f}")
                script = stats.get("cmdstat_evalsha", {})
                if script:
                    per = float(script["usec_per_call"]) / chunk
                    say(f"  (commandstats: evalsha {per:.2f} us/update of its own time)")
                cpu, wall = await zadd_side(store, players, updates, chunk, rng)
                cost.zadd_us.append(cpu / updates * 1e6)
                say(f"ZADD             {cost.zadd_us[-1]:15.2f}  {updates / wall:10,.0f}")
        finally:
            await store.close()
            server.stop()
    return cost


async def run(players: int, updates: int, rounds: int) -> None:
    cost = await measure(players, updates, rounds)
    verdict = "met" if max(cost.ratios) <= TARGET else "missed"
    shown = ", ".join(f"{r:.2f}" for r in cost.ratios)
    print(f"write.lua / ZADD per update: {shown} (target <= {TARGET}: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=1_000_000)
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.players, args.updates, args.rounds))


if __name__ == "__main__":
    main()
