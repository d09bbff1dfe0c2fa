"""Idempotent retries (contract v1.2): a write sent again with its Idempotency-Key applies
nothing twice, answers what the first one answered, and a key is for one request only."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from leaderboard.errors import RedisUnavailable
from leaderboard.http.app import create_app
from leaderboard.http.keys import SERVICE
from leaderboard.settings import Settings
from tests.redis_process import RedisTarget

INCR = {"regions": ["na", "eu"], "mode": "incr"}


async def incr_board(client, board: str = "counts") -> None:
    assert (await client.put(f"/v1/boards/{board}", json=INCR)).status == 201


async def score_of(client, player: str, board: str = "counts") -> int | None:
    answer = await client.get(f"/v1/boards/{board}/players/{player}")
    return (await answer.json())["score"] if answer.status == 200 else None


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_a_post_sent_again_answers_the_first_answer_and_applies_once(client) -> None:
    await incr_board(client)
    body = {"player_id": "a", "region": "na", "score": 5}
    first = await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k-1"))
    again = await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k-1"))
    assert (first.status, again.status) == (200, 200)
    assert await again.json() == await first.json() == {
        "player_id": "a", "region": "na", "score": 5, "rank": 1, "updated": True,
    }  # fmt: skip
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await score_of(client, "a") == 5
    other = await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k-2"))
    assert (await other.json())["score"] == 10
    plain = await client.post("/v1/boards/counts/scores", json=body)
    assert (await plain.json())["score"] == 15
    assert "Idempotent-Replayed" not in plain.headers


async def test_a_batch_sent_again_applies_once(client) -> None:
    await incr_board(client)
    updates = [
        {"player_id": f"p{i % 7}", "region": ("na", "eu")[i % 7 % 2], "score": i}
        for i in range(200)
    ]
    expected: dict[str, int] = {}
    for u in updates:
        expected[u["player_id"]] = expected.get(u["player_id"], 0) + u["score"]
    for attempt in range(3):
        answer = await client.post(
            "/v1/boards/counts/scores/batch", json={"updates": updates}, headers=keyed("b")
        )
        assert answer.status == 200
        assert await answer.json() == {"accepted": 200}
        assert ("Idempotent-Replayed" in answer.headers) == (attempt > 0)
    assert {p: await score_of(client, p) for p in expected} == expected


async def test_a_key_sent_with_another_request_is_refused_and_applies_nothing(
    client, clean_redis: RedisTarget
) -> None:
    await incr_board(client)
    body = {"player_id": "a", "region": "na", "score": 5}
    assert (await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k"))).ok
    before = clean_redis.dump()
    for path, other in [
        ("/v1/boards/counts/scores", {**body, "score": 6}),
        ("/v1/boards/counts/scores/batch", {"updates": [body]}),
    ]:
        answer = await client.post(path, json=other, headers=keyed("k"))
        assert answer.status == 409
        error = (await answer.json())["error"]
        assert error["code"] == "idempotency_key_reused"
        assert "nothing was applied" in error["message"]
    assert clean_redis.dump() == before  # events included


@pytest.mark.parametrize("key", ["", "a b", "é", "x" * 129, "a/b", "{tag}"])
async def test_a_malformed_key_is_a_400_naming_the_header(client, key: str) -> None:
    await incr_board(client)
    body = {"player_id": "a", "region": "na", "score": 5}
    answer = await client.post("/v1/boards/counts/scores", json=body, headers=keyed(key))
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["field"] == "Idempotency-Key"
    assert await score_of(client, "a") is None


async def test_keys_of_different_boards_are_different_keys(client) -> None:
    await incr_board(client, "one")
    await incr_board(client, "two")
    body = {"player_id": "a", "region": "na", "score": 5}
    for board in ("one", "two", "one"):
        await client.post(f"/v1/boards/{board}/scores", json=body, headers=keyed("k"))
    assert (await score_of(client, "a", "one"), await score_of(client, "a", "two")) == (5, 5)


async def test_an_answer_that_failed_is_not_kept(client, clean_redis: RedisTarget) -> None:
    """Only an applied request's answer is given again: a refused one leaves nothing, the
    key included, and may be sent again once what refused it is fixed."""
    body = {"player_id": "a", "region": "na", "score": 5}
    before = clean_redis.dump()
    missing = await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k"))
    assert missing.status == 404
    other = await client.post("/v1/boards/default/scores", json={**body, "region": "mars"},
                              headers=keyed("k"))  # fmt: skip
    assert other.status == 400
    assert clean_redis.dump() == before
    await incr_board(client)
    answer = await client.post("/v1/boards/counts/scores", json=body, headers=keyed("k"))
    assert answer.status == 200
    assert "Idempotent-Replayed" not in answer.headers
    assert await score_of(client, "a") == 5


async def test_the_same_key_from_clients_at_once_applies_once(client) -> None:
    """Attempts that run at once meet at the chunks' marks: each chunk is applied by the
    one that comes first, and every attempt answers the same."""
    await incr_board(client)
    updates = [
        {"player_id": f"p{i % 50}", "region": ("na", "eu")[i % 50 % 2], "score": 1}
        for i in range(2000)
    ]
    posts = [
        client.post("/v1/boards/counts/scores/batch", json={"updates": updates}, headers=keyed("b"))
        for _ in range(4)
    ]
    single = {"player_id": "solo", "region": "eu", "score": 3}
    posts += [
        client.post("/v1/boards/counts/scores", json=single, headers=keyed("s")) for _ in range(4)
    ]
    answers = await asyncio.gather(*posts)
    assert [a.status for a in answers] == [200] * 8
    bodies = [await a.json() for a in answers]
    assert bodies[:4] == [{"accepted": 2000}] * 4
    assert bodies[4:] == [bodies[4]] * 4
    assert bodies[4]["score"] == 3
    assert {await score_of(client, f"p{i}") for i in range(50)} == {40}
    assert await score_of(client, "solo") == 3


async def test_a_batch_that_moves_players_sent_again_applies_once(client) -> None:
    """Chunks that take the locked path (players move between regions) are marked too."""
    await incr_board(client)
    for i in range(20):
        body = {"player_id": f"p{i}", "region": "na", "score": 10}
        assert (await client.post("/v1/boards/counts/scores", json=body)).ok
    updates = [{"player_id": f"p{i}", "region": "eu", "score": i} for i in range(20)]
    updates += [{"player_id": f"p{i}", "region": "na", "score": 1} for i in range(0, 20, 2)]
    for _ in range(2):
        answer = await client.post(
            "/v1/boards/counts/scores/batch", json={"updates": updates}, headers=keyed("m")
        )
        assert answer.status == 200
    for i in range(20):
        me = await (await client.get(f"/v1/boards/counts/players/p{i}")).json()
        assert (me["region"], me["score"]) == (("na", 11 + i) if i % 2 == 0 else ("eu", 10 + i))


def cut_after_first_chunk(app) -> None:
    """The next batch write of this app applies its first chunk, then Redis "goes away"."""
    store = app[SERVICE].store
    real = store.write

    async def cut(record, chunks, now, ranks, once=None):
        store.write = real
        await real(record, chunks[:1], now, ranks, once and once.marking(once.marks[:1]))
        raise RedisUnavailable("Redis went away in the middle of the batch")

    store.write = cut


async def test_a_retry_on_a_server_with_another_chunk_size_cuts_the_same_chunks(
    aiohttp_client, settings: Settings
) -> None:
    first = await aiohttp_client(create_app(replace(settings, batch_chunk=2)))
    other = await aiohttp_client(create_app(replace(settings, batch_chunk=4)))
    await incr_board(first)
    updates = [{"player_id": f"p{i}", "region": "na", "score": 1} for i in range(4)]
    cut_after_first_chunk(first.app)
    post = {"json": {"updates": updates}, "headers": keyed("b")}
    assert (await first.post("/v1/boards/counts/scores/batch", **post)).status == 503
    assert [await score_of(first, f"p{i}") for i in range(4)] == [1, 1, None, None]
    assert (await other.post("/v1/boards/counts/scores/batch", **post)).status == 200
    assert [await score_of(other, f"p{i}") for i in range(4)] == [1, 1, 1, 1]


async def test_a_retried_incr_batch_is_not_refused_for_what_its_first_attempt_applied(
    client,
) -> None:
    """The whole-batch range check counts every item; on a retry some are applied already,
    so each chunk checks its own range there."""
    await incr_board(client)
    updates = [
        {"player_id": "p", "region": "na", "score": 2**52},
        {"player_id": "q", "region": "eu", "score": 1},
    ]
    cut_after_first_chunk(client.app)
    post = {"json": {"updates": updates}, "headers": keyed("b")}
    assert (await client.post("/v1/boards/counts/scores/batch", **post)).status == 503
    answer = await client.post("/v1/boards/counts/scores/batch", **post)
    assert answer.status == 200, await answer.text()
    assert (await score_of(client, "p"), await score_of(client, "q")) == (2**52, 1)
