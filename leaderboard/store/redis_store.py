"""Board storage in Redis: every read and write of the service goes through ``Store``."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import (
    ClusterError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from leaderboard.domain import GLOBAL, BoardConfig, Mode, Order, RegionSlice, Standing
from leaderboard.errors import (
    BoardNotEmpty,
    KeptMoving,
    RedisUnavailable,
    RegionInUse,
    ScoreOutOfRange,
    StaleBoard,
)
from leaderboard.store import keys
from leaderboard.store.packing import cluster_packed_by_hiredis, packed_by_hiredis
from leaderboard.store.scripts import Scripts
from leaderboard.store.writes import Snapshots, Writes

P = ParamSpec("P")
T = TypeVar("T")
Client = aioredis.Redis | RedisCluster
Call = tuple[str, list[str], list[Any]]  # script name, keys, arguments
log = logging.getLogger(__name__)
UNLINK_CHUNK = 1000
# Error replies that mean "not now" (a long script, a failover, a cluster move), never "bad input".
REFUSALS = ("BUSY", "LOADING", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN")
CLEANUP_BUCKETS = 256  # activity buckets one cleanup call reads at most
CLEANUP_PLAYERS = 1000  # players one cleanup call examines, about (whole buckets)
READ_ATTEMPTS = 8  # global reads that met a move in progress, before answering 503
REPLICA_PAUSE = 1.0  # seconds reads skip a replica that failed to answer one
REPLICA_TIMEOUT = 0.5  # seconds a read waits for the replica's reply before asking Redis


async def read_attempts() -> AsyncIterator[int]:
    """Attempt numbers, with a random pause before each retry that doubles each time (up
    to 128 ms, about 0.25 s in all): a move takes a few round trips, so a read that met
    one usually finds the regions quiet again on the next try."""
    for attempt in range(READ_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.001 * 2**attempt))
        yield attempt


def translated(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turns any way of Redis not answering, or refusing writes, into the contract's 503."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise RedisUnavailable("Redis is not answering; retry in a moment") from exc
        except (ClusterError, RedisClusterException) as exc:  # failover, slot moving
            raise RedisUnavailable(f"Redis Cluster cannot serve this now ({exc})") from exc
        except ResponseError as exc:
            mapped = script_error(exc)
            if isinstance(mapped, RedisUnavailable):
                raise mapped from exc
            raise

    return wrapper


def _reply(text: str) -> str:
    """The error reply itself, out of redis-py's wording for a refused MULTI/EXEC."""
    for marker in ("caused error: ", "discarded because of: "):
        _, found, rest = text.partition(marker)
        if found:
            return rest.lstrip("('\"")
    return text


def script_error(exc: ResponseError) -> Exception:
    """Maps a script's error reply to the exception the caller acts on."""
    text = str(exc)
    word, _, rest = _reply(text).partition(" ")
    if isinstance(exc, (OutOfMemoryError, ReadOnlyError)):
        return RedisUnavailable(f"Redis refuses writes ({text}); retry later")
    if isinstance(exc, (ClusterError, TryAgainError)):  # redis-py drops CLUSTERDOWN etc.
        return RedisUnavailable(f"Redis Cluster cannot serve this now ({text}); retry")
    if word in ("STALE", "RETRY", "NOBOARD"):  # NOBOARD: the board, or a region, is gone
        return StaleBoard(text)
    if "non local key" in text:  # a script met a bucket key whose slot is migrating
        return RedisUnavailable(f"Redis Cluster is moving this region ({text}); retry")
    if word in REFUSALS:
        return RedisUnavailable(f"Redis cannot serve this now ({text}); retry in a moment")
    if word == "RANGE":
        return ScoreOutOfRange(
            "an incr would leave the exact score range ±(2^53-1); nothing was applied",
            [{"index": int(rest), "field": "score", "reason": "incr result out of range"}],
        )
    if word == "REGION_IN_USE":
        return RegionInUse(
            f"region {rest!r} still holds players; delete them before removing the region",
            {"region": rest},
        )
    if word == "NOT_EMPTY":
        return BoardNotEmpty("order and mode cannot change while the board holds players")
    return exc


@dataclass(frozen=True)
class BoardRecord:
    """A board's configuration as stored, with what only the store cares about."""

    config: BoardConfig
    version: int
    buckets: int

    tags: tuple[str, ...] = ()  # per region, see keys.place; () for boards from before tags

    @functools.cached_property
    def _tags(self) -> dict[str, str]:
        return dict(zip(self.config.regions, self.tags or self.config.regions, strict=True))

    def tag(self, region: str) -> str:
        return self._tags[region]

    def zset(self, region: str) -> str:
        return keys.zset(self.config.board, self.tag(region))

    def meta(self, region: str) -> str:
        return keys.meta(self.config.board, self.tag(region))

    def outs(self, region: str) -> str:
        return keys.outs(self.config.board, self.tag(region))

    def ins(self, region: str) -> str:
        return keys.ins(self.config.board, self.tag(region))

    def cleanup_lock(self, region: str) -> str:
        return keys.cleanup_lock(self.config.board, self.tag(region))

    def stream(self, scope: str) -> str:
        tag = scope if scope == GLOBAL else self.tag(scope)
        return keys.stream(self.config.board, tag)

    def script_keys(self, region: str) -> list[str]:
        """What the region scripts that see moves take first: meta, zset, outs, ins."""
        return [self.meta(region), self.zset(region), self.outs(region), self.ins(region)]

    def window_keys(self, region: str) -> list[str]:
        """What around.lua takes per region: meta, zset."""
        return [self.meta(region), self.zset(region)]

    def zsets(self, regions: Sequence[str] | None = None) -> list[str]:
        return [self.zset(r) for r in (regions or self.config.regions)]


def _record(board: str, raw: dict[str, str]) -> BoardRecord | None:
    if not raw:
        return None
    config = BoardConfig(
        board=board,
        regions=tuple(raw["regions"].split(",")),
        order=Order(raw["order"]),
        mode=Mode(raw["mode"]),
        inactive_after_days=int(raw["inactive_after_days"]),
        top_events=int(raw["top_events"]),
    )
    tags = tuple(raw["tags"].split(",")) if raw.get("tags") else ()
    return BoardRecord(config, int(raw["version"]), int(raw["buckets"]), tags)


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
        self.cluster = isinstance(client, RedisCluster)
        self.scripts = Scripts()
        self.events_cap = events_cap
        self.timeout = timeout
        self.writes = Writes(self)

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
            pool = aioredis.BlockingConnectionPool.from_url(
                of, max_connections=pool_size, timeout=timeout, **replies
            )
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

    async def _eval(
        self,
        calls: Sequence[Call],
        atomic: bool = False,
        client: Client | None = None,
    ) -> list[Any]:
        """Runs script calls pipelined, in order; each result is a value or an exception.

        A call refused with NOSCRIPT ran nothing, so after loading the scripts it is
        simply sent again. ``atomic`` (standalone Redis only) runs them in MULTI/EXEC.
        """
        client = client or self.redis
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(2):
            pipe = client.pipeline(transaction=atomic)
            for i in todo:
                name, ks, args = calls[i]
                # execute_command: redis-py's cluster pipeline blocks its evalsha method, not
                # the command, which it routes by the slot of the script's keys.
                pipe.execute_command("EVALSHA", self.scripts.sha[name], len(ks), *ks, *args)
            try:
                replies = await pipe.execute(raise_on_error=False)
            except ResponseError as exc:  # MULTI/EXEC refused whole, e.g. BUSY
                raise script_error(exc) from None
            missing = []
            for i, reply in zip(todo, replies, strict=True):
                if isinstance(reply, NoScriptError) and attempt == 0:
                    missing.append(i)
                elif isinstance(reply, ResponseError):
                    results[i] = script_error(reply)
                elif isinstance(
                    reply,
                    (RedisConnectionError, RedisTimeoutError, ClusterError, RedisClusterException),
                ):
                    raise reply
                else:
                    results[i] = reply
            if not missing:
                break
            await self._load_scripts(client)
            todo = list(range(len(calls))) if atomic else missing  # one instant: all again
        return results

    async def _eval_one(self, name: str, ks: list[str], args: list[Any]) -> Any:
        """One call without a pipeline: the cheaper path for a single script."""
        try:
            return await self.redis.evalsha(self.scripts.sha[name], len(ks), *ks, *args)
        except NoScriptError:
            await self._load_scripts()
            return await self._eval_one(name, ks, args)
        except ResponseError as exc:
            raise script_error(exc) from None

    async def _load_scripts(self, client: Client | None = None) -> None:
        """On a cluster SCRIPT LOAD goes to every master (a promoted replica has none)."""
        client = client or self.redis
        if self.cluster:
            for source in self.scripts.source.values():
                await client.script_load(source)
            return
        pipe = client.pipeline(transaction=False)
        for source in self.scripts.source.values():
            pipe.script_load(source)
        await pipe.execute()

    # Boards

    @translated
    async def load_board(self, board: str) -> BoardRecord | None:
        return _record(board, await self.redis.hgetall(keys.config(board)))

    @translated
    async def load_all_boards(self) -> list[BoardRecord]:
        ids = sorted(await self.redis.smembers(keys.REGISTRY))
        pipe = self.redis.pipeline(transaction=False)
        for board in ids:
            pipe.hgetall(keys.config(board))
        raws = await pipe.execute()
        records = (_record(b, raw) for b, raw in zip(ids, raws, strict=True))
        return [r for r in records if r is not None]

    @translated
    async def put_board(
        self, config: BoardConfig, old: BoardRecord | None, buckets: int
    ) -> tuple[bool, int]:
        """Writes the config, then each region's copy of it (other slots).

        Raises StaleBoard when the config changed since ``old`` was read. Player counts
        are read before the config changes: a write that slips into a region being
        removed meanwhile is the one race this leaves (see the README).
        """
        board = config.board
        if old is None:
            await self.finish_delete(board)
        old_regions = old.config.regions if old else ()
        tag_of = {r: old.tag(r) for r in old_regions} if old else {}
        kept = {r: t for r, t in tag_of.items() if r in config.regions}
        tags = keys.place(board, config.regions, kept)
        tag_of.update(zip(config.regions, tags, strict=True))
        regions = list(old_regions) + [r for r in config.regions if r not in old_regions]
        pipe = self.redis.pipeline(transaction=False)
        for region in regions:  # players, and players on their way out (pull.lua)
            pipe.zcard(keys.zset(board, tag_of[region]))
            pipe.hlen(keys.outs(board, tag_of[region]))
        sizes = await pipe.execute()
        counts = [sizes[i] + sizes[i + 1] for i in range(0, len(sizes), 2)]
        ks = [keys.config(board), keys.deleting(board), keys.global_mirror(board)]
        ks += [keys.sequences(board), *(keys.top_copy(board, r) for r in regions)]
        args: list[Any] = [
            ",".join(old_regions),
            ",".join(config.regions),
            config.order.value,
            config.mode.value,
            config.inactive_after_days,
            config.top_events,
            buckets,
            ",".join(tags),
        ]
        for region, count in zip(regions, counts, strict=True):
            args += (region, count)
        created, version, stored_buckets, rebuild = await self._eval_one("put_board", ks, args)
        await self.redis.sadd(keys.REGISTRY, board)
        calls = []
        for region in regions:
            fields = [version, config.mode.value, stored_buckets, config.top_events]
            fields += [config.sign, int(region in config.regions)]
            ks = [keys.meta(board, tag_of[region]), keys.zset(board, tag_of[region])]
            calls.append(("region_meta", ks, fields))
        await self._raising(calls)
        if int(rebuild):
            await self.resync(BoardRecord(config, int(version), int(stored_buckets), tags))
        return bool(created), int(version)

    async def resync(self, record: BoardRecord) -> None:
        """Rebuilds the global mirror from every region's top N."""
        snapshots = Snapshots()
        calls = [
            ("snapshot", [record.meta(r), record.zset(r)], [record.version])
            for r in record.config.regions
        ]
        for region, reply in zip(record.config.regions, await self._raising(calls), strict=True):
            snapshots.add(region, reply)
        await self.writes.sync(record, snapshots, int(time.time() * 1000))

    async def _raising(
        self,
        calls: Sequence[Call],
        atomic: bool = False,
        client: Client | None = None,
    ) -> list[Any]:
        replies = await self._eval(calls, atomic, client)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    @translated
    async def delete_board(self, record: BoardRecord) -> None:
        """Removes the config and metas first, so that writes in flight fail cleanly.

        The region keys go afterwards, in chunks; a marker naming them stays until they
        are gone, so a deletion cut short (Redis down) is finished before the board id is
        used again, and never leaves old players for a new board of the same name.
        """
        board, regions = record.config.board, record.config.regions
        await self.redis.hset(
            keys.deleting(board),
            mapping={
                "regions": ",".join(regions),
                "tags": ",".join(record.tag(r) for r in regions),
                "buckets": record.buckets,
            },
        )
        await self.redis.delete(keys.config(board), *keys.board_keys(board, list(regions)))
        pipe = self.redis.pipeline(transaction=False)
        pipe.srem(keys.REGISTRY, board)
        for region in regions:
            pipe.execute_command("DEL", record.meta(region))
        await pipe.execute()
        await self.finish_delete(board)

    @translated
    async def finish_delete(self, board: str) -> bool:
        """Removes what an earlier deletion of ``board`` left; answers whether there was any."""
        marker = await self.redis.hgetall(keys.deleting(board))
        if not marker:
            return False
        buckets, regions = int(marker["buckets"]), marker["regions"].split(",")
        tags = marker.get("tags", marker["regions"]).split(",")
        # One UNLINK per slot (a region's keys, the board's): a cluster pipeline's own
        # unlink method splits keys by slot outside the pipeline, so send the command.
        pipe = self.redis.pipeline(transaction=False)
        for tag in tags:
            every = keys.region_keys(board, tag, buckets)
            for i in range(0, len(every), UNLINK_CHUNK):
                pipe.execute_command("UNLINK", *every[i : i + UNLINK_CHUNK])
        pipe.execute_command("UNLINK", *keys.board_keys(board, regions))
        await pipe.execute()
        await self.redis.delete(keys.deleting(board))
        return True

    # Scores

    @translated
    async def write(
        self,
        record: BoardRecord,
        chunks: Sequence[tuple[str, Sequence[tuple[str, int, str | None]]]],
        now: int,
        ranks: bool,
    ) -> list[Any]:
        """Applies chunks of (player, score, name) per region, in order (see writes.py).

        Each result is the applied count, or with ``ranks`` (score, updated, better) per
        update, or the exception that refused that chunk (which then changed nothing).
        """
        return await self.writes.write(record, chunks, now, ranks)

    # Reads

    def _entries(self, flat: list[Any], sign: int) -> list[tuple[str, int, str | None]]:
        return [(flat[i], sign * int(flat[i + 1]), flat[i + 2]) for i in range(0, len(flat), 3)]

    def _calls(
        self, name: str, record: BoardRecord, regions: Sequence[str], args: list[Any]
    ) -> list[Call]:
        """One call per region of a read script taking (meta, zset, outs, ins)."""
        return [(name, record.script_keys(r), [record.version, *args]) for r in regions]

    async def _moves(
        self, client: Client, record: BoardRecord, regions: Sequence[str]
    ) -> list[int]:
        pipe = client.pipeline(transaction=False)
        for r in regions:
            pipe.hget(record.meta(r), "mv")
        return [int(n or 0) for n in await pipe.execute()]

    @translated
    async def pages(
        self, record: BoardRecord, ranges: Sequence[tuple[str, int, int]], moving: bool = False
    ) -> list[RegionSlice]:
        """Entries at list positions [start, stop] of each named region.

        With ``moving`` (a global view), players between two regions come as extra
        slices of their own (see moving_slices), and the slices must show one instant
        (see moved in _lib.lua): on one Redis the calls run in MULTI/EXEC, on a cluster
        each region's move count is read again in a second round trip.
        """
        return await self._read(lambda client: self._pages(client, record, ranges, moving))

    async def _pages(
        self,
        client: Client,
        record: BoardRecord,
        ranges: Sequence[tuple[str, int, int]],
        moving: bool,
    ) -> list[RegionSlice]:
        sign = record.config.sign
        calls = [
            (
                "page",
                record.script_keys(r),
                [record.version, start, stop, int(moving)],
            )
            for r, start, stop in ranges
        ]
        atomic = moving and not self.cluster
        async for _ in read_attempts():
            replies = await self._raising(calls, atomic, client)
            if moving and not atomic:
                moves = await self._moves(client, record, [r for r, _, _ in ranges])
                if [int(r[5]) for r in replies] != moves:
                    continue
            out = [
                RegionSlice(region, start, int(res[1]), int(res[0]), self._entries(res[2], sign))
                for (region, start, _), res in zip(ranges, replies, strict=True)
            ]
            records = [(r, res[3], res[4]) for (r, _, _), res in zip(ranges, replies, strict=True)]
            return out + moving_slices(records, record.config.regions, sign)
        raise KeptMoving()

    async def _per_region(
        self,
        client: Client,
        name: str,
        regions: Sequence[str],
        keys_of: Callable[[str], list[str]],
        args: list[Any],
    ) -> list[list[Any]]:
        """A script that takes any number of regions, answered per region: one call per
        region on a cluster (one slot each), one call for them all on one Redis."""
        if self.cluster:
            calls = [(name, keys_of(r), args) for r in regions]
            return [reply[0] for reply in await self._raising(calls, client=client)]
        ks = [k for r in regions for k in keys_of(r)]
        return (await self._raising([(name, ks, args)], client=client))[0]

    async def _players(
        self, client: Client, record: BoardRecord, regions: Sequence[str], player_id: str
    ) -> list[list[Any]]:
        """player.lua's answer per region; on one Redis one instant, and counts against
        the score it found."""
        args = [record.version, player_id]
        return await self._per_region(client, "player", regions, record.script_keys, args)

    @translated
    async def standing(self, record: BoardRecord, player_id: str) -> Standing | None:
        """Where the player is and its score, then (on a cluster, or when the player is
        between two regions) the counts elsewhere in a second round trip."""

        async def read(client: Client) -> Standing | None:
            async for _ in read_attempts():
                found = await self._standing(client, record, player_id)
                if found is not False:
                    return found
            raise KeptMoving()

        return await self._read(read)

    async def _standing(
        self, client: Client, record: BoardRecord, player_id: str
    ) -> Standing | bool | None:
        """The standing, or False when a move ran between the two round trips."""
        regions, sign = record.config.regions, record.config.sign
        replies = await self._players(client, record, regions, player_id)
        records = [(r, res[4], res[5]) for r, res in zip(regions, replies, strict=True)]
        moving = moving_slices(records, regions, sign)
        passing = {pid: (s.region, score, name) for s in moving for pid, score, name in s.entries}
        home = next((i for i, r in enumerate(replies) if r[0] is not None), None)
        better = {}
        if home is not None:
            region, internal, name = regions[home], int(replies[home][0]), replies[home][1]
            better = {
                r: int(res[2])
                for r, res in zip(regions, replies, strict=True)
                if r == region or not self.cluster  # one Redis counted them all
            }
        elif player_id in passing:
            region, score, name = passing[player_id]
            internal = sign * score
        else:
            return None
        others = [r for r in regions if r not in better]
        if others:
            pipe = client.pipeline(transaction=False)  # per node in this order: counts,
            for r in others:  # then the move counts that must not have changed since
                pipe.zcount(record.zset(r), "-inf", f"({internal}")
            for r in regions:
                pipe.hget(record.meta(r), "mv")
            counts = await pipe.execute()
            if [int(n or 0) for n in counts[len(others) :]] != [int(r[6]) for r in replies]:
                return False
            better.update(zip(others, (int(n) for n in counts[: len(others)]), strict=True))
        ahead = sum(
            1
            for pid, (_, score, _) in passing.items()
            if pid != player_id and sign * score < internal
        )
        totals = {r: int(reply[3]) for r, reply in zip(regions, replies, strict=True)}
        return Standing(
            region=region,
            score=sign * internal,
            name=name,
            better_in_region=better[region],
            better_overall=sum(better.values()) + ahead,
            total_in_region=totals[region] + (home is None),
            total_overall=sum(totals.values()) + len(passing),
        )

    @translated
    async def around(
        self, record: BoardRecord, regions: Sequence[str], player_id: str, radius: int
    ) -> list[RegionSlice] | None:
        """The player's score, then each region's window around it: on one Redis both in
        one MULTI/EXEC (one instant); on a cluster, or for a player between two regions,
        in two round trips, checked against the regions' move counts."""
        return await self._read(
            lambda client: self._around(client, record, regions, player_id, radius)
        )

    async def _around(
        self,
        client: Client,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        radius: int,
    ) -> list[RegionSlice] | None:
        sign = record.config.sign
        glob = tuple(regions) == record.config.regions
        async for _ in read_attempts():
            if self.cluster:
                replies, windows = await self._players(client, record, regions, player_id), []
            else:
                replies, windows = await self._players_and_windows(
                    client, record, regions, player_id, radius
                )
            records = [(r, res[4], res[5]) for r, res in zip(regions, replies, strict=True)]
            moving = moving_slices(records, regions, sign) if glob else []
            if not windows:
                scores = [int(r[0]) for r in replies if r[0] is not None]
                scores += [
                    sign * sc for s in moving for pid, sc, _ in s.entries if pid == player_id
                ]
                if not scores:
                    return None
                windows = await self._windows(client, record, regions, player_id, scores[0], radius)
                if [int(w[3]) for w in windows] != [int(r[6]) for r in replies]:
                    continue
            out = [
                RegionSlice(region, int(w[0]), int(w[1]), 0, self._entries(w[2], sign))
                for region, w in zip(regions, windows, strict=True)
            ]
            out += moving
            if any(pid == player_id for s in out for pid, _, _ in s.entries):
                return out
            return None  # deleted between the two round trips
        raise KeptMoving()

    async def _windows(
        self,
        client: Client,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        score: int,
        radius: int,
    ) -> list[list[Any]]:
        """around.lua's window per region, around a known score."""
        args = [record.version, player_id, score, radius]
        return await self._per_region(client, "around", regions, record.window_keys, args)

    async def _players_and_windows(
        self,
        client: Client,
        record: BoardRecord,
        regions: Sequence[str],
        player_id: str,
        radius: int,
    ) -> tuple[list[list[Any]], list[list[Any]]]:
        """One Redis: player.lua and around.lua over every region, in one MULTI/EXEC; the
        windows are empty when no zset holds the player (absent, or between regions)."""
        players = [k for r in regions for k in record.script_keys(r)]
        zsets = [k for r in regions for k in record.window_keys(r)]
        calls = [
            ("player", players, [record.version, player_id]),
            ("around", zsets, [record.version, player_id, "", radius]),
        ]
        replies, windows = await self._raising(calls, True, client)
        return replies, windows

    @translated
    async def totals(self, record: BoardRecord) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        for zkey in record.zsets():
            pipe.zcard(zkey)
        counts = await pipe.execute()
        return dict(zip(record.config.regions, counts, strict=True))

    @translated
    async def scores_of(self, record: BoardRecord, player_ids: Sequence[str]) -> dict[str, int]:
        """Current scores of these players, wherever they are (one ZMSCORE per region)."""
        pipe = self.redis.pipeline(transaction=False)
        for zkey in record.zsets():
            pipe.zmscore(zkey, list(player_ids))
        found: dict[str, int] = {}
        for scores in await pipe.execute():
            for pid, score in zip(player_ids, scores, strict=True):
                if score is not None:
                    found[pid] = record.config.sign * int(score)
        return found

    @translated
    async def delete_player(self, record: BoardRecord, player_id: str, now: int) -> bool:
        """Under the player's lock, so that no move of it runs meanwhile."""
        token, snapshots = secrets.token_hex(8), Snapshots()
        await self.writes.lock(record, token, [player_id])
        try:
            calls = self._calls(
                "delete_player", record, record.config.regions, [player_id, now, self.events_cap]
            )
            replies = await self._raising(calls)
        finally:
            await self.writes.unlock(record, token, [player_id])
        for region, (_, snapshot) in zip(record.config.regions, replies, strict=True):
            snapshots.add(region, snapshot)
        await self.writes.sync(record, snapshots, now)
        return any(int(removed) for removed, _ in replies)

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
        await self._eval(calls)

    @translated
    async def cleanup_batch(
        self, record: BoardRecord, region: str, cutoff: int, start: int, token: str
    ) -> tuple[int, int, int] | None:
        """Removes one batch, in one round trip.

        Answers (next bucket or -1, removed, examined), or None when the lock was lost
        (and then nothing was removed).
        """
        lock = record.cleanup_lock(region)
        ks = [record.meta(region), record.zset(region), lock]
        args = [record.version, cutoff, start, CLEANUP_BUCKETS, CLEANUP_PLAYERS]
        now = int(time.time() * 1000)
        args += [now, self.events_cap, token]
        batch = (await self._eval([("cleanup", ks, args)]))[0]
        if isinstance(batch, ResponseError) and str(batch).startswith("UNLOCKED"):
            return None
        if isinstance(batch, Exception):
            raise batch
        snapshots = Snapshots()
        snapshots.add(region, batch[3])
        await self.writes.sync(record, snapshots, now)
        return int(batch[0]), int(batch[1]), int(batch[2])

    @translated
    async def events(
        self, record: BoardRecord, scope: str, after: str, limit: int
    ) -> list[tuple[str, dict[str, str]]]:
        """Events of a scope after a stream id, oldest first."""
        start = "-" if after in ("0", "0-0") else f"({after}"
        return await self.redis.xrange(record.stream(scope), start, "+", count=limit)

    @translated
    async def last_event_id(self, record: BoardRecord, scope: str) -> str:
        newest = await self.redis.xrevrange(record.stream(scope), count=1)
        return newest[0][0] if newest else "0-0"


def moving_slices(
    records: Sequence[tuple[str, list[str], list[str]]], regions: Sequence[str], sign: int
) -> list[RegionSlice]:
    """Players between two regions, from every region's move records, as complete slices.

    ``records`` holds (region, its out records, its in records) as HGETALL gives them. A
    player pulled out of a region (out record) whose destination does not hold the same
    token (in record) is in no zset: it is counted here once, in its destination region
    (or the region it left, when the destination was removed from the board meanwhile).
    """
    arrived = {(ins[i], ins[i + 1]) for _, _, ins in records for i in range(0, len(ins), 2)}
    rows: dict[str, tuple[str, int, str]] = {}
    for region, outs, _ in records:
        for i in range(0, len(outs), 2):
            pid, (token, dst, score, name) = outs[i], outs[i + 1].split("\t", 3)
            if (pid, token) not in arrived and pid not in rows:
                rows[pid] = (dst if dst in regions else region, int(score), name)
    by_region: dict[str, list[tuple[int, str, str | None]]] = {}
    for pid, (region, score, name) in rows.items():
        by_region.setdefault(region, []).append((score, pid, name or None))
    return [
        RegionSlice(
            region, 0, 0, len(found), [(pid, sign * s, name) for s, pid, name in sorted(found)]
        )
        for region, found in by_region.items()
    ]
