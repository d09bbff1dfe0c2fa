"""Preloading a benchmark board fast: the store's own layout, without the write path.

The service writes a player it has never seen through its locked path (see
leaderboard/store/writes.py): right for a live board, and about 45K new players/s here.
A benchmark needs millions of players on an empty board before the clock starts, with
nobody else writing, so this writes the same structures in big commands: each region's
zset by ZADDs of thousands of members sorted by score (neighbouring inserts share the
skiplist's cache lines: half the Redis time of random order), and its activity buckets
through ``bulk.lua``, one HSET per bucket, with the bucket computed here as the store
computes it for writes (``leaderboard/store/buckets.py``). Worker processes encode the
commands (redis-py's per-argument encoding cost more than Redis's work); this process
only sends them. Then
``Store.resync`` rebuilds the global top-N mirror. Memory per player is the same as
through the service. Only for boards that hold none of these players: it takes no lock
and checks nothing.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection

from leaderboard.store import BoardRecord, Store
from leaderboard.store.buckets import hasher

SCRIPT = (Path(__file__).parent / "bulk.lua").read_text()
PLAYERS_PER_SLAB = 200_000  # one round trip; bigger slabs put more players in each bucket
MEMBERS_PER_CALL = 5000
SCORES = 999_999_999  # scores in [1, 1e9), as loadtests.memory's


def resp(args: Iterable[str], count: int, pairs: Iterable[tuple[int, str]] = ()) -> str:
    """One command in RESP (ASCII only): ``args``, then ``pairs`` as score, member."""
    parts = [f"*{count}\r\n"]
    parts += [f"${len(a)}\r\n{a}\r\n" for a in args]
    for score, pid in pairs:
        s = str(score)
        parts.append(f"${len(s)}\r\n{s}\r\n${len(pid)}\r\n{pid}\r\n")
    return "".join(parts)


@dataclass(frozen=True)
class Slab:
    """Players ``player-<n>`` for n in ``ids``, all in the region whose zset is ``zset``."""

    zset: str
    ids: range
    seed: int
    sign: int
    buckets: int
    hashing: str
    sha: str
    now_s: int

    def encode(self) -> tuple[bytes, int]:
        """The slab's commands in RESP, and how many there are."""
        draw = random.Random(self.seed).random
        pids = [f"player-{n}" for n in self.ids]
        pairs = sorted((self.sign * (1 + int(draw() * SCORES)), pid) for pid in pids)
        size = MEMBERS_PER_CALL
        parts = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        commands = [resp(("ZADD", self.zset), 2 + 2 * len(part), part) for part in parts]
        groups = list(self._by_bucket(pids).items())
        step = MEMBERS_PER_CALL // 4
        for i in range(0, len(groups), step):
            body = [str(self.now_s)]
            for bucket, members in groups[i : i + step]:
                body += (str(bucket), str(len(members)), *members)
            commands.append(resp(("EVALSHA", self.sha, "1", self.zset, *body), 4 + len(body)))
        return "".join(commands).encode(), len(commands)

    def _by_bucket(self, pids: list[str]) -> dict[int, list[str]]:
        by_bucket: dict[int, list[str]] = defaultdict(list)
        bucket_of = hasher(self.hashing, self.buckets)
        for pid in pids:
            by_bucket[bucket_of(pid)].append(pid)
        return by_bucket


async def send(store: Store, data: bytes, count: int, key: str) -> None:
    """Sends ``count`` pre-encoded commands on one connection and reads every reply; on a
    Redis Cluster, the connection of the master serving ``key`` (a slab's keys share it)."""
    client = store.redis
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(key)
        conn = node.acquire_connection()
        try:
            await exchange(conn, data, count)
        finally:
            node.release(conn)
        return
    pool = client.connection_pool
    conn = await pool.get_connection()
    try:
        await exchange(conn, data, count)
    finally:
        await pool.release(conn)


async def exchange(conn: Connection, data: bytes, count: int) -> None:
    await conn.send_packed_command(data, check_health=False)
    for _ in range(count):
        await conn.read_response()


async def bulk_load(
    store: Store,
    record: BoardRecord,
    ids_by_region: Sequence[tuple[str, range]],
    seed: int,
    processes: int = 2,
    now_ms: int | None = None,
    slab: int = PLAYERS_PER_SLAB,
) -> float:
    """Writes players ``player-<n>`` into their regions, active at ``now_ms``, with
    random scores drawn from ``seed``; answers the seconds."""
    now_s = (int(time.time() * 1000) if now_ms is None else now_ms) // 1000
    sha = await store.redis.script_load(SCRIPT)
    parts = [
        (record.zset(region), ids[i : i + slab])
        for region, ids in ids_by_region
        for i in range(0, len(ids), slab)
    ]
    slabs = [
        Slab(zset, ids, seed + k, record.config.sign, record.buckets, record.hashing, sha, now_s)
        for k, (zset, ids) in enumerate(parts)
    ]
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    in_flight = asyncio.Semaphore(2)

    async def load(slab: Slab, encoding: asyncio.Future[tuple[bytes, int]]) -> None:
        data, count = await encoding
        async with in_flight:
            await send(store, data, count, slab.zset)

    with ProcessPoolExecutor(processes) as pool:
        await asyncio.gather(*(load(s, loop.run_in_executor(pool, s.encode)) for s in slabs))
    await store.configs.resync(record, now_s * 1000)
    return time.perf_counter() - started
