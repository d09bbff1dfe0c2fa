"""Cleanup of inactive players: only the stale go, everywhere, in batches, under a lock."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from leaderboard.domain import BoardConfig, Shown, Update
from leaderboard.errors import RedisUnavailable
from leaderboard.service import Service
from leaderboard.service.cleanup import Progress
from leaderboard.settings import Settings
from leaderboard.store import Store
from tests.redis_process import RedisTarget
from tests.service.test_events import Follower

DAY_MS = 86_400_000
REGIONS = ("na", "eu", "apac")


async def board_with(service: Service, stale: int, fresh: int, top: int = 5) -> None:
    """`stale` players last active ten days ago, `fresh` ones now, on board `c`."""
    await service.boards.put(BoardConfig("c", REGIONS, inactive_after_days=1, top_events=top))
    record = await service.boards.record("c")
    old = int(time.time() * 1000) - 10 * DAY_MS
    chunks = [
        (
            REGIONS[i % 3],
            [(f"s{j}", j, Shown("Old") if j % 2 else None) for j in range(i, stale, 300)],
        )
        for i in range(min(stale, 300))
    ]
    for i in range(0, len(chunks), 50):
        results = await service.store.write(record, chunks[i : i + 50], old, False)
        assert not [r for r in results if isinstance(r, Exception)]
    updates = [Update(f"f{j}", REGIONS[j % 3], j * 7 % 101) for j in range(fresh)]
    if updates:
        await service.scores.submit_batch("c", updates)


def cleanup_locks(target: RedisTarget) -> set[str]:
    names = target.keys()
    return {k for k in names if k.endswith(":cleanup-lock")}


async def test_only_stale_players_go_from_every_view(
    service: Service, clean_redis: RedisTarget
) -> None:
    await board_with(service, stale=60, fresh=40)
    report = await service.cleanup.run()
    assert report.removed == {"c": 60}
    board = await service.boards.describe("c")
    assert board["players"]["global"] == 40
    top = await service.views.top("c", "global", 0, 1000)
    assert {e["player_id"] for e in top["entries"]} == {f"f{j}" for j in range(40)}
    for region in REGIONS:
        page = await service.views.top("c", region, 0, 1000)
        assert all(e["player_id"].startswith("f") for e in page["entries"])
    me = await service.views.player("c", "f3")
    assert me["total"]["global"] == 40
    names = clean_redis.keys()
    left = [k for k in names if k.startswith("lb:{c:") and (":a:" in k or ":n:" in k)]
    with clean_redis.client(decode_responses=True) as r:
        players = {p for k in left for p in r.hkeys(k)}
        assert players == {f"f{j}" for j in range(40)}


async def test_removed_top_players_leave_every_scope_through_events(service: Service) -> None:
    await board_with(service, stale=0, fresh=0, top=4)
    record = await service.boards.record("c")
    old = int(time.time() * 1000) - 10 * DAY_MS
    chunks = [(r, [(f"s-{r}-{j}", 1000 + j, None) for j in range(3)]) for r in REGIONS]
    await service.store.write(record, chunks, old, False)
    await service.scores.submit_batch("c", [Update(f"f{j}", REGIONS[j % 3], j) for j in range(9)])
    assert (await service.cleanup.run("c")).removed == {"c": 9}
    for scope in ("global", *REGIONS):
        follower = Follower(scope, -1, "c")
        follower.apply((await service.events.page("c", scope, "0", 1000))["events"])
        top = await service.views.top("c", scope, 0, 4)
        assert follower.top == {e["player_id"]: e["score"] for e in top["entries"]}
        assert all(p.startswith("f") for p in follower.top)


async def test_scores_written_during_a_cleanup_survive(service: Service) -> None:
    await board_with(service, stale=30_000, fresh=0)
    revived = [Update(f"s{j}", REGIONS[j % 3], 5_000_000 + j) for j in range(0, 30_000, 7)]

    async def write_while_cleaning() -> None:
        for i in range(0, len(revived), 50):
            await service.scores.submit_batch("c", revived[i : i + 50])
            await asyncio.sleep(0)

    report, _ = await asyncio.gather(service.cleanup.run("c"), write_while_cleaning())
    assert report.batches > 1
    top = await service.views.top("c", "global", 0, 10_000 - 1)
    found = {e["player_id"]: e["score"] for e in top["entries"]}
    assert {u.player_id: u.score for u in revived}.items() <= found.items()


async def test_two_cleanups_at_once_never_both_run(service: Service) -> None:
    await board_with(service, stale=20_000, fresh=10)
    first, second = await asyncio.gather(service.cleanup.run("c"), service.cleanup.run("c"))
    assert sorted([first.locked, second.locked]) == [[], ["c"]]
    assert first.removed.get("c", 0) + second.removed.get("c", 0) == 20_000
    assert "c" not in (first.removed if first.locked else second.removed)


async def test_100k_stale_players_go_in_bounded_batches(
    store, settings, clean_redis: RedisTarget
) -> None:
    service = Service.build(store, dataclasses.replace(settings, activity_buckets=4096))
    await board_with(service, stale=100_000, fresh=100)
    before = clean_redis.command_calls("evalsha")
    report = await service.cleanup.run("c")
    calls = clean_redis.command_calls("evalsha") - before
    record = await service.boards.record("c")
    assert not {record.cleanup_lock(region) for region in REGIONS} & clean_redis.keys()
    assert report.removed == {"c": 100_000}
    assert report.batches >= 100
    assert report.largest_batch <= 1_200
    assert calls >= report.batches
    assert (await service.boards.describe("c"))["players"]["global"] == 100


async def test_a_change_cut_short_is_finished_by_the_run(
    service: Service, clean_redis: RedisTarget
) -> None:
    """A change of the board cut short after its config (a region's copy not written) is
    finished by the run, which then cleans that region too."""
    await board_with(service, stale=10, fresh=0)
    record = await service.boards.record("c")
    with clean_redis.client(decode_responses=True) as r:
        r.hset(record.meta("eu"), "version", record.version - 1)
    report = await service.cleanup.run("c")
    assert report.removed == {"c": 10}
    assert not cleanup_locks(clean_redis)


async def test_a_board_whose_regions_never_catch_up_gives_up_with_503(
    service: Service, clean_redis: RedisTarget
) -> None:
    """A region whose copy of the config stays other than the config at every reload (one
    ahead of it cannot be set back): the run gives up instead of spinning."""
    await board_with(service, stale=10, fresh=0)
    record = await service.boards.record("c")
    r = clean_redis.client(decode_responses=True)
    r.hset(record.meta("eu"), "version", record.version + 1)

    async def repair_later() -> None:  # ends a run that never gives up, so the test fails
        await asyncio.sleep(30)
        r.hset(record.meta("eu"), "version", record.version)

    repair = asyncio.create_task(repair_later())
    try:
        with pytest.raises(RedisUnavailable, match="kept changing"):
            await service.cleanup.run("c")
    finally:
        repair.cancel()
        r.close()
    assert not cleanup_locks(clean_redis)


def put_in_thread(settings: Settings, config: BoardConfig) -> None:
    """Changes the board from another event loop, waiting for it: deterministic in a callback."""

    async def put() -> None:
        other = Service.build(
            Store.connect(settings.redis_url, 2, 2.0, cluster=settings.redis_cluster), settings
        )
        try:
            await other.boards.put(config)
        finally:
            await other.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, put()).result()


async def test_regions_removed_during_a_run_are_skipped_and_their_locks_released(
    service: Service, settings: Settings, clean_redis: RedisTarget
) -> None:
    regions = tuple(f"r{i}" for i in range(20))
    await service.boards.put(BoardConfig("m", regions, inactive_after_days=1))
    record = await service.boards.record("m")
    old = int(time.time() * 1000) - 10 * DAY_MS
    await service.store.write(record, [("r19", [(f"p{j}", j, None) for j in range(7)])], old, False)
    seen: list[str] = []

    def shrink_once(p: Progress) -> None:
        seen.append(p.region)
        if len(seen) == 1:
            put_in_thread(settings, BoardConfig("m", ("r19",), inactive_after_days=1))

    report = await service.cleanup.run("m", progress=shrink_once)
    assert report.removed == {"m": 7}
    assert report.locked == []
    assert seen[-1] == "r19"
    assert not cleanup_locks(clean_redis)
    await service.boards.put(BoardConfig("m", regions, inactive_after_days=1))
    again = await service.cleanup.run("m")
    assert (again.removed, again.locked) == ({"m": 0}, [])


async def test_empty_and_small_regions_take_one_batch_each(store, settings) -> None:
    """However many activity buckets a region has, a region of a few players is one call."""
    service = Service.build(store, dataclasses.replace(settings, activity_buckets=32_768))
    await service.boards.put(BoardConfig("e", REGIONS, inactive_after_days=1))
    await board_with(service, stale=40, fresh=20)
    report = await service.cleanup.run()
    assert report.removed == {"c": 40, "e": 0}
    assert report.batches == 2 * len(REGIONS)
    assert (await service.boards.describe("c"))["players"]["global"] == 20


async def test_a_run_over_many_empty_regions_makes_calls_in_proportion_to_them(
    service: Service, clean_redis: RedisTarget
) -> None:
    """Extending every lock at every batch made a run cost the square of the regions."""
    regions = tuple(f"r{i}" for i in range(40))
    await service.boards.put(BoardConfig("w", regions, inactive_after_days=1))
    before = clean_redis.command_calls("evalsha")
    report = await service.cleanup.run("w")
    calls = clean_redis.command_calls("evalsha") - before
    assert (report.removed, report.batches) == ({"w": 0}, len(regions))
    assert calls <= 3 * len(regions)
    assert not cleanup_locks(clean_redis)
