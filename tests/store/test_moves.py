"""Players moving between regions, which on a cluster live in different slots.

A move is pull (out of the old region, leaving a record), write (into the new one, marked
with the move's token), settle. Global reads must count the player exactly once at every
step, even when a process dies between two of them, and concurrent writes of one player
must neither lose nor double an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from leaderboard.domain import BoardConfig, Mode, Shown, Update
from leaderboard.errors import KeptMoving, RedisUnavailable
from leaderboard.service import Service, merge
from leaderboard.settings import Settings
from leaderboard.store import Store, keys
from leaderboard.store.mirror import Snapshots
from leaderboard.store.writes import Move, Pass
from tests.redis_process import RedisTarget

REGIONS = ("na", "eu", "apac")


async def board(store: Store, mode: Mode = Mode.INCR, name: str = "m"):
    config = BoardConfig(name, REGIONS, mode=mode, top_events=10)
    await store.put_board(config, None, 64)
    record = await store.load_board(name)
    assert record is not None
    return record


async def global_view(store: Store, record) -> tuple[int, list[tuple[str, int, str]]]:
    """Total and every entry (player, score, region) of the merged global list."""
    slices = await store.pages(record, [(r, 0, 999) for r in REGIONS], moving=True)
    rows = merge.top_page(slices, record.config.sign, 0, 1000)
    return sum(s.total for s in slices), [(e.player_id, e.score, e.region) for e in rows]


def connect(settings: Settings) -> Store:
    return Store.connect(settings.redis_url, 8, 5.0, cluster=settings.redis_cluster)


async def test_concurrent_increments_from_many_regions_count_once(
    store: Store, settings: Settings, clean_redis: RedisTarget
) -> None:
    """Three processes add 1 to the same players from random regions, all at once."""
    record = await board(store)
    players = [f"p{i}" for i in range(5)]
    writers = [connect(settings) for _ in range(3)]
    rng = random.Random(7)
    plans = [[(rng.choice(REGIONS), rng.choice(players)) for _ in range(40)] for _ in writers]

    async def run(writer: Store, plan: list[tuple[str, str]]) -> None:
        for region, pid in plan:
            (result,) = await writer.write(record, [(region, [(pid, 1, None)])], 1000, False)
            assert result == 1

    try:
        await asyncio.gather(*(run(w, p) for w, p in zip(writers, plans, strict=True)))
    finally:
        for w in writers:
            await w.close()
    expected = {pid: 0 for pid in players}
    for plan in plans:
        for _, pid in plan:
            expected[pid] += 1
    total, rows = await global_view(store, record)
    assert total == len(players)
    assert {pid: score for pid, score, _ in rows} == {p: n for p, n in expected.items() if n}
    assert len(rows) == len({pid for pid, _, _ in rows})
    with clean_redis.client() as r:
        for region in REGIONS:
            assert r.hlen(record.outs(region)) == 0
            assert r.hlen(record.ins(region)) == 0
        assert r.hlen(keys.player_locks("m")) == 0


async def test_global_reads_during_moves_count_every_player_once(
    store: Store, settings: Settings
) -> None:
    record = await board(store, Mode.SET)
    players = [f"p{i}" for i in range(8)]
    await store.write(record, [("na", [(p, i, None) for i, p in enumerate(players)])], 1, False)
    mover = connect(settings)
    stop = asyncio.Event()

    async def move() -> None:
        rng = random.Random(3)
        try:
            for _ in range(60):
                pid = rng.choice(players)
                await mover.write(
                    record, [(rng.choice(REGIONS), [(pid, int(pid[1:]), None)])], 2, False
                )
                await asyncio.sleep(rng.uniform(0.002, 0.01))  # now and then, not nonstop
        finally:
            stop.set()

    seen = 0

    async def read() -> None:
        """Every answer counts each player once; a read may also give up (KeptMoving, a 503
        to retry) when moves keep landing inside it, as they can on a slow box."""
        nonlocal seen
        while not stop.is_set():
            try:
                total, rows = await global_view(store, record)
                standing = await store.standing(record, "p3")
                found = await store.lookup(record, REGIONS, players)
            except KeptMoving:
                continue
            assert sorted((r.player_id, r.score, r.better) for r in found) == [
                (p, i, len(players) - 1 - i) for i, p in enumerate(players)
            ]
            assert total == len(players)
            assert sorted(pid for pid, _, _ in rows) == sorted(players)
            assert standing is not None
            assert (standing.score, standing.better_overall, standing.total_overall) == (3, 4, 8)
            seen += 1

    try:
        await asyncio.gather(move(), read())
    finally:
        await mover.close()
    assert seen > 0


async def test_a_move_cut_short_after_the_pull_loses_nobody(store: Store) -> None:
    record = await board(store, Mode.BEST)
    await store.write(record, [("na", [("a", 50, Shown("Ann")), ("b", 40, None)])], 1, False)
    # A process pulls "a" towards eu, then dies: no write, no settle, lock left to expire.
    ks = [record.meta("na"), record.zset("na"), record.outs("na")]
    await store.runner.eval([("pull", ks, [record.version, 1, 100, "dead", "eu", 1, "a"])])
    total, rows = await global_view(store, record)
    assert (total, rows) == (2, [("a", 50, "eu"), ("b", 40, "na")])
    standing = await store.standing(record, "a")
    assert standing is not None
    assert (standing.score, standing.better_overall + 1, standing.total_overall) == (50, 1, 2)
    found = await store.lookup(record, REGIONS, ["zz", "b", "a"])
    assert sorted(found) == [("a", "eu", 50, Shown("Ann"), 0), ("b", "na", 40, Shown(), 1)]
    window = await store.around(record, REGIONS, "a", 5)
    assert window is not None
    assert [e.player_id for e in merge.window(window, record.config.sign, "a", 5)] == ["a", "b"]

    # The next write of "a" (best mode keeps 50 over 30) takes the record over, here to apac.
    (written,) = await store.write(record, [("apac", [("a", 30, None)])], 2, True)
    assert written == [(50, False, 0)]
    total, rows = await global_view(store, record)
    assert (total, rows) == (2, [("a", 50, "apac"), ("b", 40, "na")])
    assert (await store.standing(record, "a")).shown.name == "Ann"


async def test_a_move_cut_short_after_the_write_counts_the_new_region_only(
    store: Store,
) -> None:
    record = await board(store, Mode.SET)
    await store.write(record, [("na", [("a", 50, None), ("b", 40, None)])], 1, False)
    writes = store.writes
    settle = writes._settle

    async def crash(*args, **kwargs) -> None:
        raise ConnectionError("the process died before settling")

    writes._settle = crash  # type: ignore[method-assign]
    with contextlib.suppress(RedisUnavailable):
        await store.write(record, [("eu", [("a", 60, None)])], 2, False)
    writes._settle = settle  # type: ignore[method-assign]
    total, rows = await global_view(store, record)
    assert (total, rows) == (2, [("a", 60, "eu"), ("b", 40, "na")])
    await store.write(record, [("eu", [("a", 70, None)])], 3, False)  # in eu: the fast path
    assert await global_view(store, record) == (2, [("a", 70, "eu"), ("b", 40, "na")])


async def test_a_refused_write_puts_pulled_players_back(store: Store) -> None:
    """An incr beyond the exact range refuses the chunk after its players were pulled."""
    record = await board(store, Mode.INCR)
    await store.write(record, [("na", [("a", 2**53 - 2, None), ("b", 1, None)])], 1, False)
    (result,) = await store.write(record, [("eu", [("a", 5, None)])], 2, False)
    assert isinstance(result, Exception)
    assert await global_view(store, record) == (
        2,
        [("a", 2**53 - 2, "na"), ("b", 1, "na")],
    )
    assert await store.scores_of(record, ["a"]) == {"a": 2**53 - 2}


async def crash_move(store: Store, record, pid: str, dst: str, score: int) -> None:
    """A mover that locks, pulls and writes, then dies before settling (its lock expires:
    released here rather than waited for)."""
    writes, move = store.writes, Move("dead-mover-0001", 1)
    step = Pass(record, [(dst, [(pid, score, None)])], 1000, False, Snapshots())
    assert await writes._take(step, move, {pid: dst}) is None
    call = writes._call(step, 0, False, move.token, move)
    await writes._apply(step, [0], [call])
    assert step.results == [1]
    await store.locks.release(record, move.token, [pid])


async def test_two_batches_holding_one_region_keep_each_players_order(store: Store) -> None:
    """Batch X's later chunk must wait behind its first one, even when batch Y also waits."""
    record = await board(store, Mode.SET)
    await store.write(record, [("na", [("p", 1, None)])], 1, False)
    writes = store.writes
    x = [("na", [("new1", 5, None), ("p", 10, None)]), ("na", [("p", 20, None)])]
    y = [("na", [("new2", 5, None)])]
    px, py = Pass(record, x, 1, False, Snapshots()), Pass(record, y, 1, False, Snapshots())
    first = await store.runner.eval([writes._call(px, 0, False, "batch-x", None)])
    await store.runner.eval([writes._call(py, 0, False, "batch-y", None)])
    held = await store.runner.eval([writes._call(px, 1, False, "batch-x", None)])
    assert held[0][0] == ["*"]
    await writes._locked(px, {0: first[0][0], 1: ["*"]}, 1)
    assert px.results == [2, 1]
    assert await store.scores_of(record, ["p"]) == {"p": 20}


async def test_a_stale_record_of_an_arrived_move_is_not_taken_over(store: Store) -> None:
    record = await board(store, Mode.INCR)
    await store.write(record, [("apac", [("r", 100, None)])], 1, False)
    await crash_move(store, record, "r", "eu", 1)  # arrived in eu, record left in apac
    assert await store.write(record, [("eu", [("r", 1000, None)])], 2, False) == [1]
    assert await store.write(record, [("na", [("r", 1, None)])], 3, False) == [1]
    assert await store.scores_of(record, ["r"]) == {"r": 1102}
    assert await global_view(store, record) == (1, [("r", 1102, "na")])


async def test_a_player_with_an_arrived_and_a_pending_record_counts_once(store: Store) -> None:
    record = await board(store, Mode.INCR)
    await store.write(record, [("apac", [("r", 100, None)])], 1, False)
    await crash_move(store, record, "r", "eu", 1)
    ks = [record.meta("eu"), record.zset("eu"), record.outs("eu")]
    await store.runner.eval([("pull", ks, [record.version, 1, 100, "second-mover", "na", 1, "r"])])
    assert await global_view(store, record) == (1, [("r", 101, "na")])


@pytest.mark.parametrize(
    ("lagging", "batch", "expected"),
    [
        ("na", [("p", "na"), ("q", "eu")], {"p": 2, "q": 2}),  # the na chunk is refused
        ("apac", [("p", "na"), ("n", "eu")], {"p": 2, "n": 1}),  # n's pull from apac is
    ],
)
async def test_chunks_refused_for_a_half_applied_config_change_are_the_only_ones_resent(
    store: Store, settings: Settings, lagging: str, batch: list, expected: dict
) -> None:
    """Regions take a config change one by one; ``lagging`` has not yet when the batch
    runs, and catches up before the service retries."""
    record = await board(store, Mode.INCR)
    await store.write(record, [("na", [("p", 1, None)]), ("eu", [("q", 1, None)])], 1, False)
    service = Service.build(store, settings)
    await service.boards.record("m")
    newer = [record.version + 1, "incr", 64, 10, 1, 1, 1, 0, "never", 1, 100]
    for region in REGIONS:
        if region != lagging:
            await store.runner.eval(
                [("region_meta", [record.meta(region), record.zset(region)], newer)]
            )
    write = store.write

    async def catching_up(*args):
        results = await write(*args)
        ks = [record.meta(lagging), record.zset(lagging)]
        await store.runner.eval([("region_meta", ks, newer)])
        return results

    store.write = catching_up  # type: ignore[method-assign]
    await store.redis.hset(keys.config("m"), "version", newer[0])
    try:
        updates = [Update(pid, region, 1) for pid, region in batch]
        await service.scores.submit_batch("m", updates)
    finally:
        store.write = write  # type: ignore[method-assign]
    assert await store.scores_of(record, list(expected)) == expected
    total, rows = await global_view(store, await service.boards.record("m", fresh=True))
    assert total == len({"p", "q", *expected})
    assert {pid: score for pid, score, _ in rows} == {"q": 1} | expected
