"""Batches: how they are cut into per-region chunks, and what the service does with them."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from leaderboard.domain import BoardConfig, Mode, Update
from leaderboard.errors import RedisUnavailable, ScoreOutOfRange, UnknownRegion
from leaderboard.service import Service
from leaderboard.service.chunks import plan
from leaderboard.settings import Settings, SettingsError


def test_chunks_group_by_region_in_order_and_respect_the_size() -> None:
    updates = [Update(f"p{i}", "na" if i % 2 else "eu", i) for i in range(7)]
    chunks = plan(updates, 2)
    assert [(r, [updates[i].player_id for i in idx]) for r, idx in chunks] == [
        ("eu", ["p0", "p2"]),
        ("eu", ["p4", "p6"]),
        ("na", ["p1", "p3"]),
        ("na", ["p5"]),
    ]


def test_a_player_in_two_regions_of_one_batch_keeps_its_order() -> None:
    updates = [
        Update("a", "na", 1),
        Update("b", "eu", 2),
        Update("a", "eu", 3),
        Update("c", "na", 4),
    ]
    chunks = plan(updates, 100)
    assert [(r, [updates[i].player_id for i in idx]) for r, idx in chunks] == [
        ("na", ["a"]),
        ("eu", ["b", "a"]),
        ("na", ["c"]),
    ]


async def test_a_batch_moving_a_player_twice_leaves_it_once_in_its_last_region(
    service: Service,
) -> None:
    await service.ensure_default_board(("na", "eu", "apac"))
    updates = [
        Update("a", "na", 5),
        Update("a", "eu", 3),
        Update("a", "apac", 9),
        Update("a", "eu", 1),
    ]
    assert await service.scores.submit_batch("default", updates) == 4
    page = await service.views.top("default", "global", 0, 10)
    assert [(e["player_id"], e["region"], e["score"]) for e in page["entries"]] == [("a", "eu", 9)]
    assert page["total"] == 1


async def test_many_chunks_are_applied_in_one_pipeline(service: Service, settings) -> None:
    await service.ensure_default_board(("na", "eu", "apac"))
    regions = ("na", "eu", "apac")
    updates = [Update(f"p{i:05d}", regions[i % 3], i % 500) for i in range(2500)]
    assert await service.scores.submit_batch("default", updates) == 2500
    board = await service.boards.describe("default")
    assert board["players"] == {"global": 2500, "na": 834, "eu": 833, "apac": 833}
    top = await service.views.top("default", "global", 0, 3)
    assert [(e["rank"], e["score"]) for e in top["entries"]] == [(1, 499), (1, 499), (1, 499)]
    me = await service.views.player("default", "p00000")
    assert me["rank"] == {"global": 2496, "region": 833}


async def test_a_batch_goes_to_redis_in_round_trips_of_a_few_chunks(
    service: Service, settings
) -> None:
    """So that a read waits behind few of its scripts (store/runner.py, TRIP_UPDATES)."""
    await service.boards.put(BoardConfig("one", ("na",)))
    trips: list[str] = []
    service.store.runner.observe = lambda script, seconds: trips.append(script)
    updates = [Update(f"p{i}", "na", i) for i in range(20 * settings.batch_chunk)]
    assert await service.scores.submit_batch("one", updates) == len(updates)
    assert trips.count("write") == 7  # 20 chunks of 50, at most 150 updates a trip
    assert (await service.boards.describe("one"))["players"]["na"] == len(updates)


async def test_another_process_removing_a_region_is_not_a_missing_board(
    service: Service, store, settings
) -> None:
    await service.boards.put(BoardConfig("two", ("na", "eu")))
    await service.scores.submit("two", Update("a", "eu", 3))
    assert (await service.views.top("two", "global", 0, 10))["total"] == 1  # caches the config
    other = Service.build(store, settings)
    await other.boards.put(BoardConfig("two", ("eu",)))
    with pytest.raises(UnknownRegion):  # the cached config still lists na
        await service.scores.submit("two", Update("b", "na", 1))
    assert (await service.views.top("two", "global", 0, 10))["total"] == 1
    assert (await service.views.player("two", "a"))["rank"]["global"] == 1
    assert (await service.views.around("two", "a", "global", 3))["entries"][0]["player_id"] == "a"
    with pytest.raises(UnknownRegion):
        await service.scores.submit("two", Update("b", "na", 1))
    with pytest.raises(UnknownRegion):
        await service.scores.submit_batch("two", [Update("b", "na", 1)])
    await service.views.delete_player("two", "a")


async def test_concurrent_batches_beyond_the_in_flight_bound_wait_and_all_apply(
    store, settings
) -> None:
    service = Service.build(store, replace(settings, batches_in_flight=1))
    await service.ensure_default_board(("na", "eu"))
    batches = [
        [Update(f"b{b}p{i}", ("na", "eu")[i % 2], b * 1000 + i) for i in range(300)]
        for b in range(4)
    ]
    sent = [asyncio.ensure_future(service.scores.submit_batch("default", u)) for u in batches]
    full = False  # one batch writes, the others wait their turn
    while not all(task.done() for task in sent):
        full |= service.scores.batches.locked()
        await asyncio.sleep(0)
    assert full
    assert [task.result() for task in sent] == [300] * 4
    board = await service.boards.describe("default")
    assert board["players"] == {"global": 1200, "na": 600, "eu": 600}


def test_batches_in_flight_must_be_at_least_one() -> None:
    with pytest.raises(SettingsError, match="BATCHES_IN_FLIGHT"):
        Settings.from_env({"LEADERBOARD_BATCHES_IN_FLIGHT": "0"})


async def test_a_batch_that_waits_too_long_for_its_turn_is_refused_whole(store, settings) -> None:
    service = Service.build(store, replace(settings, batches_in_flight=1, redis_timeout=0.2))
    await service.ensure_default_board(("na", "eu"))
    await service.scores.batches.acquire()  # a batch ahead that does not finish in time
    try:
        with pytest.raises(RedisUnavailable):
            await service.scores.submit_batch("default", [Update("p", "na", 1)])
    finally:
        service.scores.batches.release()
    assert (await service.boards.describe("default"))["players"]["global"] == 0
    assert await service.scores.submit_batch("default", [Update("p", "na", 1)]) == 1


async def test_a_score_moved_during_a_multi_chunk_incr_batch_is_answered_truly(
    store, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another write pushes a's score up right after the batch checked the range: the
    chunk of a is refused, the others were applied, and the 409 says so, naming the
    batch's own item index."""
    service = Service.build(store, replace(settings, batch_chunk=2))
    await service.boards.put(BoardConfig("inc", ("na", "eu"), mode=Mode.INCR))
    await service.scores.submit("inc", Update("a", "na", 1))
    other = Service.build(store, settings)
    read_scores = store.scores_of

    async def scores_then_a_concurrent_write(record, ids):
        found = await read_scores(record, ids)
        monkeypatch.undo()  # once, right after the batch's own check
        await other.scores.submit("inc", Update("a", "na", 2**53 - 10))
        return found

    monkeypatch.setattr(store, "scores_of", scores_then_a_concurrent_write)
    batch = [
        Update("b", "na", 1),
        Update("c", "na", 1),
        Update("a", "na", 10),
        Update("d", "eu", 1),
    ]
    with pytest.raises(ScoreOutOfRange) as refused:
        await service.scores.submit_batch("inc", batch)
    assert refused.value.index == 2
    assert "3 of 4 items were applied" in refused.value.message
    assert await store.scores_of(await store.load_board("inc"), ["a", "b", "c", "d"]) == {
        "a": 2**53 - 9,
        "b": 1,
        "c": 1,
        "d": 1,
    }
