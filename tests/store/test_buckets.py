"""A player's activity and name live in the bucket its writer computed (the store, in
Python) and every other script computes again (in Lua): both must agree, for the hash of
new boards and for the FNV-1a of boards created before it."""

from __future__ import annotations

import pytest

from leaderboard.domain import BoardConfig, Shown
from leaderboard.store import BoardRecord, Store, keys
from leaderboard.store.buckets import FNV1A, RADIX
from tests.store.test_store import make_board

IDS = ["a", "0", "player-1000000", "Zoë Ωmega", "🎮 gamer", "tab\there", "x" * 128, "ÿ" * 40]


async def board_hashed_by(store: Store, redis_server, hashing: str) -> BoardRecord:
    record = await make_board(store, BoardConfig("b", ("na", "eu")), buckets=97)
    if hashing == FNV1A:  # as a board created before boards kept their hash
        with redis_server.client() as r:
            r.hdel(keys.config("b"), "hash")
            for region in record.config.regions:
                r.hdel(record.meta(region), "hash")
        record = await store.load_board("b")
    assert record is not None and record.hashing == hashing
    return record


@pytest.mark.parametrize("hashing", [RADIX, FNV1A])
async def test_every_script_finds_a_player_in_the_bucket_its_writer_chose(
    store: Store, clean_redis, hashing: str
) -> None:
    record = await board_hashed_by(store, clean_redis, hashing)
    names = {pid: f"name {i}" for i, pid in enumerate(IDS)}
    await store.write(record, [("na", [(p, 1, Shown(n)) for p, n in names.items()])], 5_000, False)
    base = keys.region_base("b", record.tag("na"))
    with clean_redis.client(decode_responses=True) as r:
        assert {r.hget(f"{base}a:{record.bucket(p)}", p) for p in IDS} == {"5"}

    shown = await store.shown(record, [("na", pid) for pid in IDS])
    assert {pid: s.name for pid, s in shown.items()} == names
    standing = await store.standing(record, IDS[3])
    assert standing is not None and standing.shown.name == names[IDS[3]]
    (page,) = await store.pages(record, [("na", 0, 100)])
    assert {pid: s.name for pid, _, s in page.entries} == names

    assert await store.delete_player(record, IDS[0], 6_000)
    with clean_redis.client(decode_responses=True) as r:
        assert r.hget(f"{base}a:{record.bucket(IDS[0])}", IDS[0]) is None
        assert r.hget(f"{base}n:{record.bucket(IDS[0])}", IDS[0]) is None

    assert await store.take_locks(record, "t", 10_000)
    start, removed = 0, 0
    while start >= 0:
        batch = await store.cleanup_batch(record, "na", 10_000, start, "t", 10_000)
        assert batch is not None
        start, removed = batch[0], removed + batch[1]
    assert removed == len(IDS) - 1
    assert not [k for k in sorted(clean_redis.keys()) if k.startswith(f"{base}a:")]


def test_radix_spreads_sequential_ids_evenly() -> None:
    """Game ids are often a prefix and a counter: each bucket gets its share."""
    record = BoardRecord(BoardConfig("b", ("na",)), 1, 1000, hashing=RADIX)
    counts = [0] * 1000
    for n in range(100_000):
        counts[record.bucket(f"player-{n}")] += 1
    assert min(counts) > 60 and max(counts) < 140


async def test_a_board_from_before_keeps_fnv1a_through_changes_and_resets(
    store: Store, clean_redis
) -> None:
    record = await board_hashed_by(store, clean_redis, FNV1A)
    wider = BoardConfig("b", ("na", "eu", "apac"))
    await store.put_board(wider, record, 97)
    record = await store.load_board("b")
    assert record is not None
    record = await store.reset(record, 10_000)
    for again in (record, await store.load_board("b")):
        assert again is not None and again.hashing == FNV1A
    with clean_redis.client(decode_responses=True) as r:
        assert r.hget(keys.config("b"), "hash") == FNV1A
        assert {r.hget(record.meta(region), "hash") for region in wider.regions} == {FNV1A}
    await store.write(record, [("apac", [("p", 3, Shown("Pat"))])], 20_000, False)
    shown = await store.shown(record, [("apac", "p")])
    assert shown["p"].name == "Pat"
