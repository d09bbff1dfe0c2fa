"""Running the Lua scripts: loaded once, called by SHA (a call refused with NOSCRIPT is
sent once more after a load), pipelined, and their error replies mapped to the service's
errors by one table (script_error)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import (
    ClusterError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from leaderboard.errors import (
    BoardNotEmpty,
    LeaderboardError,
    PeriodEnded,
    RedisUnavailable,
    RegionInUse,
    ScoreOutOfRange,
    StaleBoard,
)
from leaderboard.store.scripts import Scripts

P = ParamSpec("P")
T = TypeVar("T")
Client = aioredis.Redis | RedisCluster
Call = tuple[str, list[str], list[Any]]  # script name, keys, arguments
# What a failed step may raise: Redis not answering or refusing, a stale board.
FAILURES = (RedisError, OSError, TimeoutError, LeaderboardError)
# Error replies that mean "not now" (a long script, a failover, a cluster move), never "bad input".
REFUSALS = ("BUSY", "LOADING", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN")


def unavailable(exc: Exception) -> Exception:
    """Any way of Redis not answering, or refusing writes, as the contract's 503; any
    other error as it is."""
    if isinstance(exc, TimeoutError | RedisConnectionError | RedisTimeoutError | OSError):
        return RedisUnavailable("Redis is not answering; retry in a moment")
    if isinstance(exc, ClusterError | RedisClusterException):  # failover, slot moving
        return RedisUnavailable(f"Redis Cluster cannot serve this now ({exc})")
    if isinstance(exc, ResponseError):
        mapped = script_error(exc)
        if isinstance(mapped, RedisUnavailable):
            return mapped
    return exc


def translated(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Raises what ``unavailable`` makes of a failure."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            mapped = unavailable(exc)
            if mapped is exc:
                raise
            raise mapped from exc

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
    if isinstance(exc, NoScriptError):  # still missing after a load: a failover meanwhile
        return RedisUnavailable(f"Redis lost the service's scripts ({text}); retry")
    if isinstance(exc, (OutOfMemoryError, ReadOnlyError)):
        return RedisUnavailable(f"Redis refuses writes ({text}); retry later")
    if isinstance(exc, (ClusterError, TryAgainError)):  # redis-py drops CLUSTERDOWN etc.
        return RedisUnavailable(f"Redis Cluster cannot serve this now ({text}); retry")
    if word == "PERIOD":
        return PeriodEnded(f"a move met a later period ({text})", int(rest.split()[0]))
    if word in ("STALE", "RETRY", "NOBOARD"):  # NOBOARD: the board, or a region, is gone
        return StaleBoard(text)
    if "non local key" in text:  # a script met a bucket key whose slot is migrating
        return RedisUnavailable(f"Redis Cluster is moving this region ({text}); retry")
    if word in REFUSALS:
        return RedisUnavailable(f"Redis cannot serve this now ({text}); retry in a moment")
    if word == "RANGE":
        return ScoreOutOfRange(int(rest))
    if word == "REGION_IN_USE":
        return RegionInUse(rest)
    if word == "NOT_EMPTY":
        return BoardNotEmpty("order and mode cannot change while the board holds players")
    return exc


# Updates of write scripts one connection sends per round trip. Redis runs all that one
# read of a connection's socket brings (up to 16 KB, about 300 updates of scripts) before
# it serves another connection, so a read waits behind that much of each writing one.
TRIP_UPDATES = 150


def trips(sizes: Sequence[int], most: int = TRIP_UPDATES) -> list[slice]:
    """Runs of consecutive calls of ``sizes`` updates each, at most ``most`` updates a run
    unless one call alone holds more."""
    cuts, start, held = [], 0, 0
    for i, size in enumerate(sizes):
        if i > start and held + size > most:
            cuts.append(slice(start, i))
            start, held = i, 0
        held += size
    if start < len(sizes):
        cuts.append(slice(start, len(sizes)))
    return cuts


class Runner:
    """Script calls on one client (a standalone Redis or a cluster)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.cluster = isinstance(client, RedisCluster)
        self.scripts = Scripts()
        # What the app's metrics are told: each round trip's script ("pipeline" for
        # several kinds) and seconds, the events each write wrote, each pool wait.
        self.observe: Callable[[str, float], None] = lambda script, seconds: None
        self.wrote_events: Callable[[int], None] = lambda count: None
        self.waited: Callable[[float], None] = lambda seconds: None

    async def eval(
        self,
        calls: Sequence[Call],
        atomic: bool = False,
        client: Client | None = None,
    ) -> list[Any]:
        """Runs script calls pipelined, in order; each result is a value or an exception.

        A call refused with NOSCRIPT ran nothing, so after loading the scripts it is
        simply sent again. ``atomic`` (standalone Redis only) runs them in MULTI/EXEC.
        """
        client = client or self.client
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(2):
            pipe = client.pipeline(transaction=atomic)
            for i in todo:
                name, ks, args = calls[i]
                # execute_command: redis-py's cluster pipeline blocks its evalsha method, not
                # the command, which it routes by the slot of the script's keys.
                pipe.execute_command("EVALSHA", self.scripts.sha[name], len(ks), *ks, *args)
            started = time.perf_counter()
            try:
                replies = await pipe.execute(raise_on_error=False)
            except ResponseError as exc:  # MULTI/EXEC refused whole, e.g. BUSY
                raise script_error(exc) from None
            names = {calls[i][0] for i in todo}
            self.observe(
                names.pop() if len(names) == 1 else "pipeline", time.perf_counter() - started
            )
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
            await self.load(client)
            todo = list(range(len(calls))) if atomic else missing  # one instant: all again
        return results

    async def eval_in_trips(self, calls: Sequence[Call], sizes: Sequence[int]) -> list[Any]:
        """``eval`` in round trips of about TRIP_UPDATES updates (``sizes``: each call's),
        one after the other: reads then wait behind less of these calls in Redis."""
        replies: list[Any] = []
        for trip in trips(sizes):
            replies += await self.eval(calls[trip])
        return replies

    async def eval_one(self, name: str, ks: list[str], args: list[Any]) -> Any:
        """One call without a pipeline: the cheaper path for a single script. A call
        refused with NOSCRIPT is sent once more, after loading the scripts."""
        call = (self.scripts.sha[name], len(ks), *ks, *args)
        started = time.perf_counter()
        try:
            try:
                return await self.client.evalsha(*call)
            except NoScriptError:
                await self.load()
            return await self.client.evalsha(*call)
        except ResponseError as exc:
            raise script_error(exc) from None
        finally:
            self.observe(name, time.perf_counter() - started)

    async def load(self, client: Client | None = None) -> None:
        """On a cluster SCRIPT LOAD goes to every master (a promoted replica has none)."""
        client = client or self.client
        if self.cluster:
            for source in self.scripts.source.values():
                await client.script_load(source)
            return
        pipe = client.pipeline(transaction=False)
        for source in self.scripts.source.values():
            pipe.script_load(source)
        await pipe.execute()

    async def raising(
        self,
        calls: Sequence[Call],
        atomic: bool = False,
        client: Client | None = None,
    ) -> list[Any]:
        """Like eval, raising the first refusal instead of answering it."""
        replies = await self.eval(calls, atomic, client)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies
