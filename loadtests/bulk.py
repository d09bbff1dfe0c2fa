"""Preloading a benchmark board fast: the store's own layout, without the write path.

The service writes a player it has never seen through its locked path (see
leaderboard/store/writes.py): right for a live board, and about 45K new players/s here.
A benchmark needs millions of players on an empty board before the clock starts, with
nobody else writing, so ``bulk.lua`` writes the same structures in one call per chunk:
the region's zset and its activity buckets (``_lib.lua``'s bucket function, put in front
as the store does with its own scripts); then ``Store.resync`` rebuilds the global top-N
mirror. Memory per player is the same as through the service. Only for boards that hold
none of these players: it takes no lock and checks nothing.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path

from leaderboard.store import BoardRecord, Store
from loadtests.memory import Plan

SCRIPT = (resources.files("leaderboard.store") / "lua" / "_lib.lua").read_text() + (
    Path(__file__).parent / "bulk.lua"
).read_text()
PLAYERS_PER_CALL = 2000
BLOCKS_PER_PIPELINE = 500  # about 50,000 players per round trip


async def bulk_load(
    store: Store, record: BoardRecord, plan: Plan, inflight: int = 2, now_ms: int | None = None
) -> float:
    """Writes every player of ``plan``, active at ``now_ms``; answers the seconds."""
    if plan.names:
        raise ValueError("the bulk loader writes no names: use memory.load for named players")
    now_s = (int(time.time() * 1000) if now_ms is None else now_ms) // 1000
    sign = record.config.sign
    sha = await store.redis.script_load(SCRIPT)
    next_block = 0

    async def writer(seed: int) -> None:
        nonlocal next_block
        rng = random.Random(seed)
        while next_block < plan.blocks:
            first, next_block = next_block, min(next_block + BLOCKS_PER_PIPELINE, plan.blocks)
            pairs: dict[str, list[str | int]] = defaultdict(list)
            for block in range(first, next_block):
                region, items = plan.chunk(block, rng)
                flat = pairs[region]
                for pid, score, _ in items:
                    flat += (pid, sign * score)
            pipe = store.redis.pipeline(transaction=False)
            for region, flat in pairs.items():
                for i in range(0, len(flat), 2 * PLAYERS_PER_CALL):
                    args = (now_s, record.buckets, *flat[i : i + 2 * PLAYERS_PER_CALL])
                    pipe.execute_command("EVALSHA", sha, 1, record.zset(region), *args)
            await pipe.execute()

    started = time.perf_counter()
    await asyncio.gather(*(writer(plan.seed + n) for n in range(inflight)))
    await store.resync(record)
    return time.perf_counter() - started
