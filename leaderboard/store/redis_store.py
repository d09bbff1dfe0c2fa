"""The store's one entry point: ``Store`` holds the connections (and a replica for reads)
and hands each call to the module that holds its concern (configs, reads, writes, locks,
mirror); what it keeps itself is small."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from leaderboard.domain import (
    LAST_STREAM_ID,
    BoardConfig,
    Once,
    Ranked,
    RegionSlice,
    Shown,
    Standing,
    now_ms,
)
from leaderboard.errors import KeptMoving, RedisUnavailable, StaleBoard
from leaderboard.store import keys
from leaderboard.store.archives import Archives, Held
from leaderboard.store.configs import Configs
from leaderboard.store.locks import PlayerLocks
from leaderboard.store.lookups import lookup
from leaderboard.store.mirror import Mirror, Snapshots
from leaderboard.store.packing import TimedPool, cluster_packed_by_hiredis, packed_by_hiredis
from leaderboard.store.reads import Reads, scores_of
from leaderboard.store.records import BoardRecord
from leaderboard.store.replies import Claimed, Swept
from leaderboard.store.runner import Client, Runner, translated
from leaderboard.store.writes import Chunk, Pass, Writes

T = TypeVar("T")
log = logging.getLogger(__name__)
CLEANUP_BUCKETS = 256  # activity buckets one cleanup call reads at most
CLEANUP_PLAYERS = 1000  # players one cleanup call examines, about (whole buckets)
REPLICA_PAUSE = 1.0  # seconds reads skip a replica that failed to answer one
REPLICA_TIMEOUT = 0.5  # seconds a read waits for the replica's reply before asking Redis


class Store:
    def __init__(
        self,
        client: Client,
        events_cap: int = 100_000,
        timeout: float = 2.0,
        replica: aioredis.Redis | None = None,
    ) -> None:
        self.redis = client
        self.replica = replica
        self._replica_back = 0.0  # after a failure of the replica: when to try it again
        self.events_cap = events_cap
        self.runner = Runner(client)
        pool = getattr(client, "connection_pool", None)
        if isinstance(pool, TimedPool):
            pool.waited = lambda seconds: self.runner.waited(seconds)
        self.mirror = Mirror(self.runner, events_cap)
        self.locks = PlayerLocks(self.runner, timeout)
        self.configs = Configs(self.runner, self.mirror)
        self.reads = Reads(self.runner)
        self.writes = Writes(self.runner, self.locks, self.mirror, events_cap)
        self.archives = Archives(self.runner, self.mirror)

    @classmethod
    def connect(
        cls,
        url: str,
        pool_size: int,
        timeout: float,
        events_cap: int = 100_000,
        cluster: bool = False,
        read_url: str = "",
    ) -> Store:
        """A standalone Redis behind a blocking pool, or a Redis Cluster seeded from ``url``;
        with ``read_url``, a replica of that Redis that answers the reads."""
        common: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        if cluster:
            client = RedisCluster.from_url(url, max_connections=pool_size, **common)
            return cls(cluster_packed_by_hiredis(client), events_cap, timeout)

        def client(of: str, wait: float) -> aioredis.Redis:
            replies = {**common, "socket_timeout": wait, "socket_connect_timeout": wait}
            pool = TimedPool.from_url(of, max_connections=pool_size, timeout=timeout, **replies)
            pool.connection_class = packed_by_hiredis(pool.connection_class)
            return aioredis.Redis.from_pool(pool)

        replica = client(read_url, min(timeout, REPLICA_TIMEOUT)) if read_url else None
        return cls(client(url, timeout), events_cap, timeout, replica)

    async def close(self) -> None:
        await self.redis.aclose()
        if self.replica is not None:
            await self.replica.aclose()

    def _try_replica(self) -> bool:
        """Whether this read goes to the replica. After a failure reads skip it for a
        while, then one read tries it again while the others still skip it."""
        now = time.monotonic()
        if now < self._replica_back:
            return False
        if self._replica_back:
            self._replica_back = now + REPLICA_PAUSE
        return True

    @translated
    async def _on(self, client: Client, read: Callable[[Client], Awaitable[T]]) -> T:
        """``read`` on ``client``, every way it fails to answer made a RedisUnavailable."""
        return await read(client)

    async def _read(self, read: Callable[[Client], Awaitable[T]]) -> T:
        """A read on the replica when there is one, else (or when the replica cannot
        answer: down, slow, syncing, refusing, or not yet holding the board's latest
        configuration) on Redis itself. A replica trails Redis by its replication lag,
        usually well under a millisecond; its reads do not wait behind write scripts."""
        if self.replica is not None and self._try_replica():
            try:
                found = await self._on(self.replica, read)
            except (StaleBoard, KeptMoving):
                pass
            except (RedisUnavailable, ResponseError) as exc:
                self._replica_back = time.monotonic() + REPLICA_PAUSE
                log.warning("reading from Redis itself for %g s: %s", REPLICA_PAUSE, exc)
            else:
                self._replica_back = 0.0
                return found
        return await read(self.redis)

    @translated
    async def ping(self) -> None:
        await self.redis.ping()

    # Boards (configs.py)

    async def load_board(self, board: str) -> BoardRecord | None:
        return await self.configs.load_board(board)

    async def load_all_boards(self) -> list[BoardRecord]:
        return await self.configs.load_all_boards()

    async def put_board(
        self, config: BoardConfig, old: BoardRecord | None, buckets: int, now: int | None = None
    ) -> tuple[bool, int]:
        return await self.configs.put_board(config, old, buckets, now or now_ms())

    async def repair(self, record: BoardRecord, now: int | None = None) -> None:
        await self.configs.repair(record, now or now_ms())

    async def delete_board(self, record: BoardRecord, now: int | None = None) -> None:
        await self.configs.delete_board(record, now or now_ms())

    # Periods (configs.py, archives.py)

    async def reset(self, record: BoardRecord, now: int, mark: str = "") -> BoardRecord:
        return await self.configs.reset(record, now, mark)

    @translated
    async def periods_held(self, record: BoardRecord, now: int) -> Held:
        return await self.archives.held(record, now)

    @translated
    async def holds_players(self, record: BoardRecord) -> bool:
        return await self._read(lambda client: self.archives.holds_players(client, record))

    @translated
    async def drop_period(self, record: BoardRecord, period: int) -> None:
        await self.archives.drop(record, period)

    async def finish_delete(self, board: str) -> bool:
        return await self.configs.finish_delete(board)

    # Scores (writes.py)

    @translated
    async def write(
        self,
        record: BoardRecord,
        chunks: Sequence[Chunk],
        now: int,
        ranks: bool,
        once: Once | None = None,
    ) -> list[Any]:
        """Applies chunks of (player, score, name) per region, in order (see writes.py).

        Each result is the applied count, or with ``ranks`` (score, updated, better) per
        update, or the exception that refused that chunk (which then changed nothing).
        With ``once``, a chunk that an earlier attempt applied answers as it did then.
        """
        return await self.writes.write(Pass(record, chunks, now, ranks, Snapshots(), once))

    @translated
    async def claim(
        self, board: str, key: str, digest: str, chunk: int, ttl: int
    ) -> Claimed | None:
        """Gives an Idempotency-Key to the request of this digest (cut in chunks of
        ``chunk``), unless an earlier one holds it: then answers what that one left (one
        command, atomic)."""
        holder = f"{digest} {chunk}"
        raw = await self.redis.set(keys.answer(board, key), holder, nx=True, get=True, ex=ttl)
        return None if raw is None else Claimed.decode(raw)

    @translated
    async def release(self, board: str, key: str, claimed: Claimed) -> None:
        """Lets an Idempotency-Key go, if that claim holds it unanswered."""
        holder = f"{claimed.digest} {claimed.chunk}"
        await self.runner.eval_one("lock", [keys.answer(board, key)], [holder, 0])

    @translated
    async def remember(self, board: str, key: str, claimed: Claimed, answer: str) -> None:
        """Keeps the answer of the claim that holds the key, until the key expires."""
        value = f"{claimed.digest} {claimed.chunk}\n{answer}"
        await self.redis.set(keys.answer(board, key), value, xx=True, keepttl=True)

    # Reads (reads.py), from the replica when there is one

    @translated
    async def pages(
        self,
        record: BoardRecord,
        ranges: Sequence[tuple[str, int, int]],
        moving: bool = False,
        names: bool = True,
    ) -> list[RegionSlice]:
        return await self._read(
            lambda client: self.reads.pages(client, record, ranges, moving, names)
        )

    @translated
    async def shown(
        self, record: BoardRecord, players: Sequence[tuple[str, str]]
    ) -> dict[str, Shown]:
        """What is shown of these (region, player) pairs, as their regions hold it now."""
        return await self._read(lambda client: self.reads.shown(client, record, players))

    @translated
    async def standing(self, record: BoardRecord, player_id: str) -> Standing | None:
        return await self._read(lambda client: self.reads.standing(client, record, player_id))

    @translated
    async def lookup(
        self, record: BoardRecord, regions: Sequence[str], ids: Sequence[str]
    ) -> list[Ranked]:
        """The players of ``ids`` in the scope of ``regions`` (see lookups.py)."""
        return await self._read(lambda client: lookup(self.runner, client, record, regions, ids))

    @translated
    async def around(
        self,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        radius: int,
        names: bool = True,
    ) -> list[RegionSlice] | None:
        return await self._read(
            lambda client: self.reads.around(client, record, regions, player_id, radius, names)
        )

    @translated
    async def totals(self, record: BoardRecord) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        for zkey in record.zsets():
            pipe.zcard(zkey)
        counts = await pipe.execute()
        return dict(zip(record.config.regions, counts, strict=True))

    @translated
    async def scores_of(self, record: BoardRecord, player_ids: Sequence[str]) -> dict[str, int]:
        return await scores_of(self.redis, record, player_ids)

    @translated
    async def delete_player(self, record: BoardRecord, player_id: str, now: int) -> bool:
        """Under the player's lock, so that no move of it runs meanwhile."""
        token, snapshots = secrets.token_hex(8), Snapshots()
        await self.locks.take(record, token, [player_id])
        try:
            args = [record.version, player_id, now, self.events_cap]
            calls = [("delete_player", [record.meta(r)], args) for r in record.config.regions]
            replies = await self.runner.raising(calls)
        finally:
            await self.locks.release(record, token, [player_id])
        for region, (_, snapshot) in zip(record.config.regions, replies, strict=True):
            snapshots.add(region, snapshot)
        await self.mirror.sync(record, snapshots, now)
        return any(int(removed) for removed, _ in replies)

    @translated
    async def take_rate(self, subject: str, rate: float) -> float:
        """One request of ``subject`` against ``rate`` per second, bursts of twice the rate
        (rate.lua); answers 0 when it is allowed, else the seconds until one would be."""
        return int(await self.runner.eval_one("rate", [keys.rate(subject)], [repr(rate)])) / 1000

    # Cleanup

    @translated
    async def take_locks(self, record: BoardRecord, token: str, ttl_ms: int) -> bool:
        """Takes the cleanup lock of every region, or none of them."""
        taken = []
        for region in record.config.regions:
            key = record.cleanup_lock(region)
            if not await self.redis.set(key, token, nx=True, px=ttl_ms):
                await self.release_locks(record, token, taken)
                return False
            taken.append(region)
        return True

    @translated
    async def release_locks(
        self, record: BoardRecord, token: str, regions: Sequence[str] | None = None
    ) -> None:
        await self.extend_locks(record, token, 0, regions)

    @translated
    async def extend_locks(
        self, record: BoardRecord, token: str, ttl_ms: int, regions: Sequence[str] | None = None
    ) -> None:
        """Sets the time to live of the locks ``token`` holds; 0 releases them (lock.lua)."""
        calls = [
            ("lock", [record.cleanup_lock(r)], [token, ttl_ms])
            for r in (record.config.regions if regions is None else regions)
        ]
        await self.runner.eval(calls)

    @translated
    async def cleanup_batch(
        self,
        record: BoardRecord,
        region: str,
        cutoff: int,
        start: int,
        token: str,
        now: int | None = None,
    ) -> tuple[int, int, int] | None:
        """Removes one batch, in one round trip.

        Answers (next bucket or -1, removed, examined), or None when the lock was lost
        (and then nothing was removed).
        """
        lock = record.cleanup_lock(region)
        ks = [record.meta(region), lock]
        args = [record.version, cutoff, start, CLEANUP_BUCKETS, CLEANUP_PLAYERS]
        now = now or now_ms()
        args += [now, self.events_cap, token]
        reply = (await self.runner.eval([("cleanup", ks, args)]))[0]
        if isinstance(reply, ResponseError) and str(reply).startswith("UNLOCKED"):
            return None
        if isinstance(reply, Exception):
            raise reply
        swept = Swept.decode(reply)
        snapshots = Snapshots()
        snapshots.add(region, swept.snapshot)
        await self.mirror.sync(record, snapshots, now)
        return swept.next, swept.removed, swept.examined

    @translated
    async def events(
        self, record: BoardRecord, scope: str, after: str, limit: int
    ) -> list[tuple[str, dict[str, str]]]:
        """Events of a scope after a stream id, oldest first. None can follow the last
        possible id, and Redis refuses it as an exclusive start."""
        if after == LAST_STREAM_ID:
            return []
        start = "-" if after in ("0", "0-0") else f"({after}"
        return await self.redis.xrange(record.stream(scope), start, "+", count=limit)

    @translated
    async def last_event_id(self, record: BoardRecord, scope: str) -> str:
        newest = await self.redis.xrevrange(record.stream(scope), count=1)
        return newest[0][0] if newest else "0-0"
