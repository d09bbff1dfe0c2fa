"""Board storage in Redis: every read and write of the service goes through ``Store``."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, OutOfMemoryError, ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from leaderboard.domain import BoardConfig, Mode, Order, RegionSlice, Standing
from leaderboard.errors import (
    BoardNotEmpty,
    RedisUnavailable,
    RegionInUse,
    ScoreOutOfRange,
    StaleBoard,
)
from leaderboard.store import keys
from leaderboard.store.scripts import Scripts

P = ParamSpec("P")
T = TypeVar("T")
UNLINK_CHUNK = 1000
# Error replies that mean "not now" (a long script, a failover, a cluster move), never "bad input".
REFUSALS = ("BUSY", "LOADING", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN")
CLEANUP_BUCKETS = 256  # activity buckets one cleanup call reads at most
CLEANUP_PLAYERS = 1000  # players one cleanup call examines, about (whole buckets)


def translated(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turns any way of Redis not answering, or refusing writes, into the contract's 503."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise RedisUnavailable("Redis is not answering; retry in a moment") from exc
        except ResponseError as exc:
            mapped = script_error(exc)
            if isinstance(mapped, RedisUnavailable):
                raise mapped from exc
            raise

    return wrapper


def script_error(exc: ResponseError) -> Exception:
    """Maps a script's error reply to the exception the caller acts on."""
    text = str(exc)
    word, _, rest = text.partition(" ")
    if isinstance(exc, (OutOfMemoryError, ReadOnlyError)):
        return RedisUnavailable(f"Redis refuses writes ({text}); retry later")
    if word in ("STALE", "RETRY", "NOBOARD"):  # NOBOARD: the board, or a region, is gone
        return StaleBoard(text)
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

    def zsets(self, regions: Sequence[str] | None = None) -> list[str]:
        board = self.config.board
        return [keys.zset(board, r) for r in (regions or self.config.regions)]

    def first_meta(self) -> str:
        return keys.meta(self.config.board, self.config.regions[0])


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
    return BoardRecord(config, int(raw["version"]), int(raw["buckets"]))


class Store:
    def __init__(self, client: aioredis.Redis | RedisCluster, events_cap: int = 100_000) -> None:
        self.redis = client
        self.scripts = Scripts()
        self.events_cap = events_cap

    @classmethod
    def connect(
        cls,
        url: str,
        pool_size: int,
        timeout: float,
        events_cap: int = 100_000,
        cluster: bool = False,
    ) -> Store:
        """A standalone Redis behind a blocking pool, or a Redis Cluster seeded from ``url``."""
        common: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        if cluster:
            client = RedisCluster.from_url(url, max_connections=pool_size, **common)
            return cls(client, events_cap)
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=timeout, **common
        )
        return cls(aioredis.Redis.from_pool(pool), events_cap)

    async def close(self) -> None:
        await self.redis.aclose()

    @translated
    async def ping(self) -> None:
        await self.redis.ping()

    async def _eval(self, calls: Sequence[tuple[str, list[str], list[Any]]]) -> list[Any]:
        """Runs script calls pipelined, in order; each result is a value or an exception.

        A call refused with NOSCRIPT ran nothing, so after loading the scripts it is
        simply sent again.
        """
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(2):
            pipe = self.redis.pipeline(transaction=False)
            for i in todo:
                name, ks, args = calls[i]
                pipe.evalsha(self.scripts.sha[name], len(ks), *ks, *args)
            replies = await pipe.execute(raise_on_error=False)
            missing = []
            for i, reply in zip(todo, replies, strict=True):
                if isinstance(reply, NoScriptError) and attempt == 0:
                    missing.append(i)
                elif isinstance(reply, ResponseError):
                    results[i] = script_error(reply)
                elif isinstance(reply, (RedisConnectionError, RedisTimeoutError)):
                    raise reply
                else:
                    results[i] = reply
            if not missing:
                break
            await self._load_scripts()
            todo = missing
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

    async def _load_scripts(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
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
        """Writes the config; raises StaleBoard when it changed since ``old`` was read."""
        if old is None:
            await self.finish_delete(config.board)
        old_regions = old.config.regions if old else ()
        regions = list(old_regions) + [r for r in config.regions if r not in old_regions]
        ks = [keys.config(config.board), keys.REGISTRY, keys.global_mirror(config.board)]
        ks.append(keys.deleting(config.board))
        for region in regions:
            ks += [keys.meta(config.board, region), keys.zset(config.board, region)]
        args = [
            ",".join(old_regions),
            ",".join(config.regions),
            config.order.value,
            config.mode.value,
            config.inactive_after_days,
            config.top_events,
            buckets,
            config.board,
        ]
        created, version = await self._eval_one("put_board", ks, args)
        return bool(created), int(version)

    @translated
    async def delete_board(self, record: BoardRecord) -> None:
        """Removes the config and metas first, so that writes in flight fail cleanly.

        The region keys go afterwards, in chunks; a marker naming them stays until they
        are gone, so a deletion cut short (Redis down) is finished before the board id is
        used again, and never leaves old players for a new board of the same name.
        """
        board = record.config.board
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            keys.deleting(board),
            mapping={"regions": ",".join(record.config.regions), "buckets": record.buckets},
        )
        pipe.delete(keys.config(board), *(keys.meta(board, r) for r in record.config.regions))
        pipe.delete(keys.global_mirror(board), keys.stream(board, "global"))
        pipe.srem(keys.REGISTRY, board)
        await pipe.execute()
        await self.finish_delete(board)

    @translated
    async def finish_delete(self, board: str) -> bool:
        """Removes what an earlier deletion of ``board`` left; answers whether there was any."""
        marker = await self.redis.hgetall(keys.deleting(board))
        if not marker:
            return False
        buckets = int(marker["buckets"])
        every = [
            k for r in marker["regions"].split(",") for k in keys.region_keys(board, r, buckets)
        ]
        pipe = self.redis.pipeline(transaction=False)
        for i in range(0, len(every), UNLINK_CHUNK):
            pipe.unlink(*every[i : i + UNLINK_CHUNK])
        pipe.delete(keys.deleting(board))
        await pipe.execute()
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
        """Applies chunks of (player, score, name) per region, pipelined, in order.

        Each result is the script's answer or the exception that refused that chunk
        (which then changed nothing).
        """
        sign = record.config.sign
        calls = []
        for region, items in chunks:
            board = record.config.board
            ks = [keys.meta(board, region), keys.zset(board, region), keys.global_mirror(board)]
            ks += [keys.zset(board, r) for r in record.config.regions if r != region]
            args: list[Any] = [record.version, now, 1 if ranks else 0, self.events_cap]
            for pid, score, name in items:
                args += (pid, sign * score, name or "")
            calls.append(("write", ks, args))
        results = await self._eval(calls)
        if ranks:
            for i, res in enumerate(results):
                if not isinstance(res, Exception):
                    results[i] = [
                        (sign * int(res[j]), bool(res[j + 1]), int(res[j + 2]))
                        for j in range(0, len(res), 3)
                    ]
        return results

    # Reads

    def _entries(self, flat: list[Any], sign: int) -> list[tuple[str, int, str | None]]:
        return [(flat[i], sign * int(flat[i + 1]), flat[i + 2]) for i in range(0, len(flat), 3)]

    @translated
    async def pages(
        self, record: BoardRecord, ranges: Sequence[tuple[str, int, int]]
    ) -> list[RegionSlice]:
        """Entries at list positions [start, stop] of each named region, one round trip."""
        meta, board = record.first_meta(), record.config.board
        calls = [
            ("page", [meta, keys.zset(board, region)], [record.version, start, stop])
            for region, start, stop in ranges
        ]
        out = []
        for (region, start, _), res in zip(ranges, await self._eval(calls), strict=True):
            if isinstance(res, Exception):
                raise res
            entries = self._entries(res[2:], record.config.sign)
            out.append(RegionSlice(region, start, int(res[1]), int(res[0]), entries))
        return out

    @translated
    async def standing(self, record: BoardRecord, player_id: str) -> Standing | None:
        res = await self._eval_one(
            "player", [record.first_meta(), *record.zsets()], [record.version, player_id]
        )
        if not res:
            return None
        index, score, name, better_r, better, total_r, total = res
        return Standing(
            region=record.config.regions[int(index)],
            score=record.config.sign * int(score),
            name=name,
            better_in_region=int(better_r),
            better_overall=int(better),
            total_in_region=int(total_r),
            total_overall=int(total),
        )

    @translated
    async def around(
        self, record: BoardRecord, regions: Sequence[str], player_id: str, radius: int
    ) -> list[RegionSlice] | None:
        res = await self._eval_one(
            "around",
            [record.first_meta(), *record.zsets(regions)],
            [record.version, player_id, radius],
        )
        if not res:
            return None
        out, i = [], 0
        for region in regions:
            start, better, count = (int(x) for x in res[i : i + 3])
            flat = res[i + 3 : i + 3 + 3 * count]
            i += 3 + 3 * count
            entries = self._entries(flat, record.config.sign)
            out.append(RegionSlice(region, start, better, 0, entries))
        return out

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
        ks = [record.first_meta(), keys.global_mirror(record.config.board), *record.zsets()]
        res = await self._eval_one(
            "delete_player", ks, [record.version, player_id, now, self.events_cap]
        )
        return bool(res)

    # Cleanup

    @translated
    async def take_locks(self, record: BoardRecord, token: str, ttl_ms: int) -> bool:
        """Takes the cleanup lock of every region, or none of them."""
        board = record.config.board
        taken = []
        for region in record.config.regions:
            key = keys.cleanup_lock(board, region)
            if not await self.redis.set(key, token, nx=True, px=ttl_ms):
                await self.release_locks(record, token, taken)
                return False
            taken.append(region)
        return True

    @translated
    async def release_locks(
        self, record: BoardRecord, token: str, regions: Sequence[str] | None = None
    ) -> None:
        board = record.config.board
        calls = [
            ("lock", [keys.cleanup_lock(board, r)], [token, 0])
            for r in (record.config.regions if regions is None else regions)
        ]
        await self._eval(calls)

    @translated
    async def cleanup_batch(
        self, record: BoardRecord, region: str, cutoff: int, start: int, token: str, ttl_ms: int
    ) -> tuple[int, int, int] | None:
        """Removes one batch and extends the locks, in one round trip.

        Answers (next bucket or -1, removed, examined), or None when the lock was lost
        (and then nothing was removed).
        """
        board = record.config.board
        lock = keys.cleanup_lock(board, region)
        ks = [keys.meta(board, region), keys.zset(board, region), keys.global_mirror(board), lock]
        args = [record.version, cutoff, start, CLEANUP_BUCKETS, CLEANUP_PLAYERS]
        args += [int(time.time() * 1000), self.events_cap, token]
        calls = [("cleanup", ks, args)]
        calls += [
            ("lock", [keys.cleanup_lock(board, r)], [token, ttl_ms]) for r in record.config.regions
        ]
        batch = (await self._eval(calls))[0]
        if isinstance(batch, ResponseError) and str(batch).startswith("UNLOCKED"):
            return None
        if isinstance(batch, Exception):
            raise batch
        return int(batch[0]), int(batch[1]), int(batch[2])

    @translated
    async def events(
        self, board: str, scope: str, after: str, limit: int
    ) -> list[tuple[str, dict[str, str]]]:
        """Events of a scope after a stream id, oldest first."""
        start = "-" if after in ("0", "0-0") else f"({after}"
        return await self.redis.xrange(keys.stream(board, scope), start, "+", count=limit)

    @translated
    async def last_event_id(self, board: str, scope: str) -> str:
        newest = await self.redis.xrevrange(keys.stream(board, scope), count=1)
        return newest[0][0] if newest else "0-0"
