"""A board whose config change was cut short, and scripts Redis does not hold."""

from __future__ import annotations

import pytest

from leaderboard.domain import BoardConfig, Update
from leaderboard.errors import RedisUnavailable
from leaderboard.service import Service
from leaderboard.store import Store
from tests.redis_process import RedisTarget


async def cut_short(service: Service, store: Store, clean_redis: RedisTarget) -> None:
    """Board c goes from na to na+eu, cut short after put_board.lua: the config says
    na+eu, na's copy of it is the old one and eu has none."""
    await service.boards.put(BoardConfig("c", ("na",)))
    await service.scores.submit("c", Update("a", "na", 5))
    old = await store.load_board("c")
    await service.boards.put(BoardConfig("c", ("na", "eu")))
    new = await store.load_board("c")
    assert old is not None and new is not None
    with clean_redis.client() as r:
        r.hset(new.meta("na"), "version", old.version)
        r.delete(new.meta("eu"))


async def post(service: Service) -> None:
    await service.scores.submit("c", Update("b", "eu", 7))


async def batch(service: Service) -> None:
    await service.scores.submit_batch("c", [Update("b", "eu", 7), Update("a", "na", 6)])


async def read(service: Service) -> None:
    await service.views.top("c", "global", 0, 10)


@pytest.mark.parametrize("first", [post, batch, read])
async def test_the_next_request_finishes_a_config_change_cut_short(
    service: Service, store: Store, clean_redis: RedisTarget, first
) -> None:
    await cut_short(service, store, clean_redis)
    await first(service)
    await service.scores.submit("c", Update("b", "eu", 7))
    top = await service.views.top("c", "global", 0, 10)
    assert [(e["player_id"], e["region"]) for e in top["entries"]] == [("b", "eu"), ("a", "na")]


async def test_scripts_still_missing_after_a_load_answer_503(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOSCRIPT is retried once after loading the scripts, not forever."""

    async def lost(client=None) -> None:  # the load reached a node that then went away
        await store.redis.script_flush()

    monkeypatch.setattr(store.runner, "load", lost)
    await store.redis.script_flush()
    with pytest.raises(RedisUnavailable):
        await store.put_board(BoardConfig("s", ("na",)), None, 64)
