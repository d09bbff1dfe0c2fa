"""The store against a real Redis: scripts, key layout, reloads after NOSCRIPT."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from leaderboard.domain import BoardConfig, Mode, Order, Shown
from leaderboard.errors import RedisUnavailable, ScoreOutOfRange, StaleBoard
from leaderboard.store import Store, keys
from tests.redis_process import RedisClusterProcess


async def make_board(store: Store, config: BoardConfig, buckets: int = 64):
    created, _ = await store.put_board(config, await store.load_board(config.board), buckets)
    assert created
    record = await store.load_board(config.board)
    assert record is not None
    return record


async def test_every_key_of_a_region_shares_its_hash_tag(store: Store, clean_redis) -> None:
    record = await make_board(store, BoardConfig("b1", ("na", "eu")))
    await store.write(
        record, [("na", [("p1", 5, Shown("Ann"))]), ("eu", [("p2", 7, None)])], 100, False
    )
    names = clean_redis.keys()
    region_keys = [k for k in names if k.startswith("lb:{b1:")]
    tags = {record.tag("na"), record.tag("eu")}
    assert {k.split("}")[0] for k in region_keys} == {f"lb:{{b1:{t}" for t in tags}
    board_keys = {keys.config("b1"), keys.global_mirror("b1"), keys.stream("b1", "global")}
    board_keys |= {keys.sequences("b1"), keys.top_copy("b1", "na"), keys.top_copy("b1", "eu")}
    assert set(names) - set(region_keys) == {keys.REGISTRY, *board_keys}
    assert {k.split("}")[0] for k in board_keys} == {"lb:{b1"}


async def test_a_boards_regions_spread_over_the_masters(store: Store, clean_redis) -> None:
    """Tags put the regions in different thirds of the slot range; regions added later go
    to the emptiest part, and tags of regions that stay never change (their keys hold data)."""
    record = await make_board(store, BoardConfig("spread", ("na", "eu", "apac")))
    parts = sorted(key_slot(record.zset(r).encode()) * 3 // 16384 for r in ("na", "eu", "apac"))
    assert parts == [0, 1, 2]
    if isinstance(clean_redis, RedisClusterProcess):  # an evenly split 3-master cluster
        owners = {clean_redis.owner(record.zset(r))[0].port for r in ("na", "eu", "apac")}
        assert len(owners) == 3
    await store.put_board(BoardConfig("spread", ("na", "eu", "apac", "sa")), record, 64)
    grown = await store.load_board("spread")
    assert grown is not None
    assert [grown.tag(r) for r in ("na", "eu", "apac")] == [
        record.tag(r) for r in ("na", "eu", "apac")
    ]
    quarters = sorted(key_slot(grown.zset(r).encode()) * 4 // 16384 for r in grown.config.regions)
    assert len(set(quarters)) >= 3


async def test_write_answers_score_flag_and_better_count(store: Store) -> None:
    record = await make_board(store, BoardConfig("b", ("na",)))
    first = await store.write(record, [("na", [("a", 10, None), ("b", 20, None)])], 1, True)
    assert first == [[(10, True, 0), (20, True, 0)]]
    again = await store.write(record, [("na", [("a", 5, None)])], 2, True)
    assert again == [[(10, False, 1)]]  # best mode on a desc board keeps 10


async def test_scores_are_exact_at_the_edge_of_the_range(store: Store) -> None:
    top = 2**53 - 1
    record = await make_board(store, BoardConfig("b", ("na",), order=Order.ASC, mode=Mode.SET))
    await store.write(record, [("na", [("hi", top, None), ("lo", -top, None)])], 1, False)
    (page,) = await store.pages(record, [("na", 0, 9)])
    assert [(pid, score) for pid, score, _ in page.entries] == [("lo", -top), ("hi", top)]


async def test_incr_out_of_range_refuses_the_whole_chunk(store: Store) -> None:
    record = await make_board(store, BoardConfig("b", ("na",), mode=Mode.INCR))
    await store.write(record, [("na", [("a", 2**53 - 2, None)])], 1, False)
    (result,) = await store.write(record, [("na", [("b", 1, None), ("a", 5, None)])], 1, False)
    assert isinstance(result, ScoreOutOfRange)
    assert result.index == 1
    assert await store.scores_of(record, ["a", "b"]) == {"a": 2**53 - 2}


async def test_a_stale_version_or_a_deleted_board_changes_nothing(store: Store) -> None:
    record = await make_board(store, BoardConfig("b", ("na",)))
    await store.put_board(BoardConfig("b", ("na", "eu")), record, 64)
    (result,) = await store.write(record, [("na", [("a", 1, None)])], 1, False)
    assert isinstance(result, StaleBoard)
    fresh = await store.load_board("b")
    assert fresh is not None
    await store.delete_board(fresh)
    (result,) = await store.write(fresh, [("na", [("a", 1, None)])], 1, False)
    assert isinstance(result, StaleBoard)
    assert await store.scores_of(fresh, ["a"]) == {}


async def test_scripts_are_reloaded_after_a_script_flush(store: Store) -> None:
    record = await make_board(store, BoardConfig("b", ("na",)))
    await store.redis.script_flush()
    (result,) = await store.write(record, [("na", [("a", 3, None)])], 1, True)
    assert result == [(3, True, 0)]


async def test_delete_board_leaves_no_key(store: Store, clean_redis) -> None:
    record = await make_board(store, BoardConfig("b", ("na", "eu")), buckets=128)
    items = [(f"p{i}", i, Shown(f"name {i}")) for i in range(300)]
    await store.write(record, [("na", items[:150]), ("eu", items[150:])], 1, False)
    await store.delete_board(record)
    assert clean_redis.keys() == set()


async def test_activity_buckets_stay_small_listpacks(store: Store, clean_redis) -> None:
    record = await make_board(store, BoardConfig("b", ("na",)), buckets=64)
    items = [(f"player-{1000000 + i}", i, None) for i in range(3000)]
    await store.write(
        record, [("na", items[i : i + 100]) for i in range(0, 3000, 100)], 7000, False
    )
    with clean_redis.client(decode_responses=True) as r:
        base = keys.region_base("b", record.tag("na"))
        sizes = [r.hlen(f"{base}a:{n}") for n in range(64)]
        assert sum(sizes) == 3000
        assert max(sizes) < 128, "a bucket outgrew the listpack encoding"
        assert {r.object("encoding", f"{base}a:{n}") for n in range(64)} == {"listpack"}


async def test_a_deletion_cut_short_is_finished_before_the_id_is_reused(
    store: Store, clean_redis
) -> None:
    record = await make_board(store, BoardConfig("b", ("na", "eu")))
    await store.write(record, [("na", [("old", 5, Shown("Old"))])], 1, False)

    async def outage(board: str) -> bool:
        raise RedisUnavailable("Redis went away mid-delete")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store.configs, "finish_delete", outage)
        with pytest.raises(RedisUnavailable):
            await store.delete_board(record)
    assert await store.load_board("b") is None

    fresh = await make_board(store, BoardConfig("b", ("na", "eu"), order=Order.ASC))
    assert await store.scores_of(fresh, ["old"]) == {}
    (page,) = await store.pages(fresh, [("na", 0, 9)])
    assert page.entries == []
    with clean_redis.client() as r:
        assert not r.exists(keys.deleting("b"))


async def test_a_config_change_read_before_a_reset_is_refused(store: Store) -> None:
    """put_board.lua compares versions: a PUT that read the board before a reset would
    write the old period's anchors back."""
    await store.put_board(BoardConfig("v", ("na",)), None, 64)
    before = await store.load_board("v")
    assert before is not None
    await store.reset(before, before.anchors[-1].start + 1)
    with pytest.raises(StaleBoard):
        await store.put_board(BoardConfig("v", ("na", "eu")), before, 64)
