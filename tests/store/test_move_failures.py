"""A move that fails half-way puts its players back, and leaves no lock behind for long."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from leaderboard.domain import Mode, Shown
from leaderboard.errors import RedisUnavailable
from leaderboard.settings import Settings
from leaderboard.store import Store, keys
from tests.redis_process import RedisTarget
from tests.store.test_moves import board, global_view


async def test_a_write_failing_after_the_pull_puts_the_player_back(
    store: Store, clean_redis: RedisTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The locked write itself fails (Redis drops the connection): the player pulled out
    of na is restored there, and no record or lock is left."""
    record = await board(store, Mode.SET)
    await store.write(record, [("na", [("a", 50, Shown("Ann")), ("b", 40, None)])], 1, False)
    real_apply = store.writes._apply
    calls = 0

    async def failing_apply(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:  # the first finds "a" absent from eu; the second is the locked write
            raise RedisConnectionError("connection dropped")
        return await real_apply(*args, **kwargs)

    monkeypatch.setattr(store.writes, "_apply", failing_apply)
    (result,) = await store.write(record, [("eu", [("a", 70, None)])], 2, False)
    assert isinstance(result, RedisUnavailable)  # the chunk's result, as the 503 it is
    monkeypatch.undo()
    total, rows = await global_view(store, record)
    assert (total, rows) == (2, [("a", 50, "na"), ("b", 40, "na")])
    (na,) = await store.pages(record, [("na", 0, 9)])
    assert [pid for pid, _, _ in na.entries] == ["a", "b"]
    with clean_redis.client() as r:
        assert r.hlen(record.outs("na")) == 0
        assert r.hlen(keys.player_locks(record.config.board)) == 0


async def test_a_lock_left_by_a_request_that_gave_up_lapses_soon(settings: Settings) -> None:
    """A lock whose holder went away (its take ran late, after Redis froze) holds the
    player for about twice the Redis timeout, not for half a minute."""
    quick = replace(settings, redis_timeout=0.25)
    store = Store.connect(quick.redis_url, 4, quick.redis_timeout, cluster=quick.redis_cluster)
    try:
        record = await board(store, Mode.SET)
        await store.write(record, [("na", [("a", 50, None)])], 1, False)
        await store.locks.take(record, "gone", ["a"])
        (waited,) = await store.write(record, [("eu", [("a", 60, None)])], 2, False)
        assert isinstance(waited, RedisUnavailable)  # it waited out its timeout: a 503
        await asyncio.sleep(0.5)
        (result,) = await store.write(record, [("eu", [("a", 60, None)])], 3, False)
        assert result == 1
        _, rows = await global_view(store, record)
        assert rows == [("a", 60, "eu")]
    finally:
        await store.close()
