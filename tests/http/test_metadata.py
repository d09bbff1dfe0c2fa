"""Per-entry metadata (contract v1.2): a JSON object posted with a score, kept until
replaced, shown in every entry of the player, carried and removed like its name."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from leaderboard.domain import MAX_METADATA
from leaderboard.http.keys import SERVICE
from tests.redis_process import RedisTarget

CAR = {"car": "Mk II", "skin": 3, "tags": ["fast", "名前"], "nested": {"ok": True}}


async def post(client, board: str = "default", **item) -> None:
    answer = await client.post(f"/v1/boards/{board}/scores", json=item)
    assert answer.status == 200, await answer.text()


async def views(client, pid: str, board: str = "default") -> list[dict]:
    """The player's entry in every read that shows it: top, its own read, around, lookup."""
    base = f"/v1/boards/{board}"
    top = await (await client.get(f"{base}/top?limit=1000")).json()
    me = await (await client.get(f"{base}/players/{pid}")).json()
    around = await (await client.get(f"{base}/players/{pid}/around?radius=0")).json()
    lookup = await (await client.get(f"{base}/players?ids={pid}")).json()
    return [
        next(e for e in top["entries"] if e["player_id"] == pid),
        me,
        around["entries"][0],
        lookup["entries"][0],
    ]


async def test_metadata_is_shown_in_every_entry_and_kept_until_replaced(client) -> None:
    await post(client, player_id="a", region="na", score=5, name="Ann", metadata=CAR)
    await post(client, player_id="b", region="eu", score=7)
    for view in await views(client, "a"):
        assert (view["name"], view["metadata"]) == ("Ann", CAR)
    assert all("metadata" not in v for v in await views(client, "b"))

    await post(client, player_id="a", region="na", score=6)  # neither: both kept
    await post(client, player_id="a", region="na", score=6, name="Anna")  # the name only
    for view in await views(client, "a"):
        assert (view["name"], view["metadata"]) == ("Anna", CAR)
    await post(client, player_id="a", region="na", score=6, metadata={"car": "T"})
    await post(client, player_id="b", region="eu", score=7, metadata={})
    for view in await views(client, "a"):
        assert (view["name"], view["metadata"]) == ("Anna", {"car": "T"})
    for view in await views(client, "b"):
        assert view["metadata"] == {} and "name" not in view


async def test_metadata_moves_with_the_player_between_regions(client) -> None:
    await post(client, player_id="a", region="na", score=5, metadata=CAR)
    await post(client, player_id="a", region="eu", score=9)
    await post(client, player_id="c", region="na", score=1, name="\0odd", metadata={"x": 1})
    await post(client, player_id="c", region="apac", score=1, name="\0odder")
    for view in await views(client, "a"):
        assert (view["region"], view["metadata"]) == ("eu", CAR)
    for view in await views(client, "c"):
        assert (view["region"], view["name"], view["metadata"]) == ("apac", "\0odder", {"x": 1})


async def test_a_batch_sets_metadata_per_item_in_order(client) -> None:
    updates = [
        {"player_id": "a", "region": "na", "score": 1, "metadata": {"n": 1}},
        {"player_id": "a", "region": "na", "score": 2, "name": "A"},
        {"player_id": "a", "region": "na", "score": 3, "metadata": {"n": 3}},
        {"player_id": "z", "region": "eu", "score": 3, "metadata": {"n": 0}},
    ]
    answer = await client.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert answer.status == 200
    for view in await views(client, "a"):
        assert (view["name"], view["metadata"]) == ("A", {"n": 3})
    # A name after metadata in one chunk keeps it, in a region with no metadata before.
    updates = [
        {"player_id": "q", "region": "apac", "score": 1, "metadata": {"n": 1}},
        {"player_id": "q", "region": "apac", "score": 2, "name": "Q"},
    ]
    answer = await client.post("/v1/boards/default/scores/batch", json={"updates": updates})
    assert answer.status == 200
    for view in await views(client, "q"):
        assert (view["name"], view["metadata"]) == ("Q", {"n": 1})


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "metadata",
    [None, [], "x", 3, True, {"big": "x" * (MAX_METADATA - 9)}, nested(300)],
    ids=["null", "list", "string", "number", "bool", "too-big", "too-deep"],
)
async def test_metadata_that_is_not_a_small_object_is_a_400_changing_nothing(
    client, clean_redis: RedisTarget, metadata: object
) -> None:
    await post(client, player_id="a", region="na", score=5)
    before = clean_redis.dump()
    item = {"player_id": "a", "region": "na", "score": 6, "metadata": metadata}
    single = await client.post("/v1/boards/default/scores", json=item)
    batch = {"updates": [{**item, "player_id": "b"}, item]}
    many = await client.post("/v1/boards/default/scores/batch", json=batch)
    for answer in (single, many):
        assert answer.status == 400
        details = (await answer.json())["error"]["details"]
        assert {d["field"] for d in details} == {"metadata"}
    assert [d["index"] for d in (await many.json())["error"]["details"]] == [0, 1]
    assert clean_redis.dump() == before


async def test_metadata_of_exactly_the_limit_is_accepted(client) -> None:
    metadata = {"big": "x" * (MAX_METADATA - 10)}
    assert len(orjson.dumps(metadata)) == MAX_METADATA
    await post(client, player_id="a", region="na", score=5, metadata=metadata)
    assert (await views(client, "a"))[1]["metadata"] == metadata


async def test_deleting_or_cleaning_a_player_removes_its_metadata(
    client, clean_redis: RedisTarget
) -> None:
    await post(client, player_id="a", region="na", score=5, metadata=CAR)
    await post(client, player_id="b", region="na", score=5, metadata=CAR)
    assert (await client.delete("/v1/boards/default/players/a")).status == 204
    await post(client, player_id="a", region="na", score=5)
    assert "metadata" not in (await views(client, "a"))[1]
    await asyncio.sleep(1.1)  # activity is kept in whole seconds: make it older than now
    cleaned = await client.post("/v1/admin/cleanup", json={"older_than_seconds": 0})
    assert (await cleaned.json())["removed"] == {"default": 2}
    await post(client, player_id="b", region="eu", score=5)
    assert "metadata" not in (await views(client, "b"))[1]
    assert (await client.delete("/v1/boards/default")).status == 204
    names = clean_redis.keys()
    assert not [k for k in names if "default" in k]


async def test_a_name_kept_from_before_metadata_existed_still_reads_as_a_name(
    client, clean_redis: RedisTarget
) -> None:
    """Names that start with NUL were stored as they came; only NUL + "{" + ... + NUL is
    the metadata form, so such a name stays a name, and metadata can join it later."""
    await post(client, player_id="a", region="na", score=5, name="Ann")
    record = await client.app[SERVICE].boards.record("default")
    names = clean_redis.keys()
    [bucket] = [k for k in names if k.startswith(record.zset("na")[:-1] + "n:")]
    with clean_redis.client() as r:
        r.hset(bucket, "a", "\0x\0y")  # as a name "\0x\0y" was kept before
    assert (await views(client, "a"))[1]["name"] == "\0x\0y"
    await post(client, player_id="a", region="na", score=6, metadata={"k": 1})
    for view in await views(client, "a"):
        assert (view["name"], view["metadata"]) == ("\0x\0y", {"k": 1})
